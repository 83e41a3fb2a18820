"""Encryption at rest for calendar tokens and passwords (Fernet, AES-128-CBC +
HMAC-SHA256, via the ``cryptography`` library).

Keys come from ``FIELD_ENCRYPTION_KEYS`` (comma-separated Fernet keys, newest
first): values are written with the first and read with any, so a new key is
added in front, ``manage.py rotate_encryption_keys`` re-encrypts every row
with it, and the old key is then removed. In debug mode with no keys set, a
development key is derived from ``SECRET_KEY``; production refuses to encrypt
or decrypt without keys (and ``check --deploy`` says so).
"""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import models


def _configured_keys() -> tuple[str, ...]:
    keys = tuple(key.strip() for key in settings.FIELD_ENCRYPTION_KEYS if key.strip())
    if keys:
        return keys
    if settings.DEBUG:
        digest = hashlib.sha256(f"field-encryption:{settings.SECRET_KEY}".encode()).digest()
        return (base64.urlsafe_b64encode(digest).decode(),)
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS must be set when DJANGO_DEBUG is off: generate one with "
        'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
    )


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes)."
        ) from error


def fernet() -> MultiFernet:
    return _fernet(_configured_keys())


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        # Never echo the value: it is a secret, or garbage that looks like one.
        raise ImproperlyConfigured(
            "An encrypted value could not be decrypted with FIELD_ENCRYPTION_KEYS "
            "(was a key removed before rotate_encryption_keys ran?)."
        ) from error


class EncryptedTextField(models.TextField):
    """Text stored encrypted; an empty value stays empty (nothing to hide).

    Values cannot be searched or compared in the database (each encryption
    is different). Keep these fields out of admin, forms, templates and logs.
    """

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)


def encrypted_fields():
    """(model, [field names]) for every model with encrypted fields."""
    from django.apps import apps

    for model in apps.get_models():
        names = [
            field.name
            for field in model._meta.get_fields()
            if isinstance(field, EncryptedTextField)
        ]
        if names:
            yield model, names


def rotate_all() -> int:
    """Re-encrypt every encrypted value with the first key; returns the rows
    rewritten. Reads go through the field (any key), writes use the first."""
    from django.db import transaction

    rewritten = 0
    for model, names in encrypted_fields():
        with transaction.atomic():
            for row in model._base_manager.select_for_update().only("pk", *names).iterator():
                model._base_manager.filter(pk=row.pk).update(
                    **{name: getattr(row, name) for name in names}
                )
                rewritten += 1
    return rewritten


@checks.register(checks.Tags.security, deploy=True)
def check_encryption_keys(app_configs=None, **kwargs):
    if settings.DEBUG or any(key.strip() for key in settings.FIELD_ENCRYPTION_KEYS):
        return []
    return [
        checks.Error(
            "FIELD_ENCRYPTION_KEYS is not set: calendar tokens cannot be stored.",
            hint="Set FIELD_ENCRYPTION_KEYS to one or more Fernet keys, newest first.",
            id="mentorship.E001",
        )
    ]
