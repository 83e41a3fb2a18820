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
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Cast

# ``cryptography`` is imported where a value is encrypted or decrypted, not
# with the models: processes that never touch a calendar secret (a Celery
# worker sending emails) need not hold it in memory.
if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet


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
def _fernet(keys: tuple[str, ...]) -> "MultiFernet":
    from cryptography.fernet import Fernet, MultiFernet

    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes)."
        ) from error


def fernet() -> "MultiFernet":
    return _fernet(_configured_keys())


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    from cryptography.fernet import InvalidToken

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


def _holding_a_value(names) -> Q:
    """Rows where at least one of the encrypted fields is not empty."""
    condition = Q()
    for name in names:
        condition |= ~Q(**{name: ""})
    return condition


def rotate_all(*, batch_size: int = 500) -> dict[str, int]:
    """Re-encrypt every encrypted value with the first key; returns the rows
    rewritten per model label (rows whose fields are all empty are skipped).

    Reads go through the field (any key), writes use the first. Each batch is
    one transaction holding its rows' locks, so a concurrent write (a token
    refresh) lands either before (and is re-encrypted) or after (and was
    written with the first key already). Raises ``ImproperlyConfigured``
    without keys outside debug, or when a value reads with none of them.
    """
    fernet()  # without keys, refuse before touching anything
    rewritten: dict[str, int] = {}
    for model, names in encrypted_fields():
        manager = model._base_manager
        pks = list(
            manager.filter(_holding_a_value(names)).order_by("pk").values_list("pk", flat=True)
        )
        count = 0
        for first in range(0, len(pks), batch_size):
            with transaction.atomic():
                rows = list(
                    manager.select_for_update()
                    .filter(pk__in=pks[first : first + batch_size])
                    .only("pk", *names)
                )
                manager.bulk_update(rows, names)
                count += len(rows)
        rewritten[model._meta.label] = count
    return rewritten


def values_not_on_first_key() -> dict[str, int]:
    """Per model label, how many stored values the first key alone cannot
    read: all zero once ``rotate_all`` has run, so older keys may go."""
    from cryptography.fernet import Fernet, InvalidToken

    keys = _configured_keys()
    _fernet(keys)  # a malformed key is ImproperlyConfigured, as everywhere
    first = Fernet(keys[0].encode())
    pending: dict[str, int] = {}
    for model, names in encrypted_fields():
        count = 0
        for name in names:
            # Cast to a plain text column: the raw ciphertext, not decrypted.
            stored = (
                model._base_manager.exclude(**{name: ""})
                .annotate(stored=Cast(name, output_field=models.TextField()))
                .values_list("stored", flat=True)
            )
            for token in stored.iterator():
                try:
                    first.decrypt(token.encode())
                except InvalidToken:
                    count += 1
        pending[model._meta.label] = count
    return pending


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
