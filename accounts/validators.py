"""Validators for the User row. Model-level, so forms and admin share them."""

import zoneinfo
from functools import lru_cache
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible

from .avatars import open_avatar


@lru_cache(maxsize=1)
def known_timezones() -> frozenset[str]:
    """Every IANA zone name of the pinned tzdata package, the only source of
    zone rules (``mentorship/zone_data.py``). Cached: the lookup reads the
    package's list, and the time-zone middleware asks on every request."""
    return frozenset(zoneinfo.available_timezones())


@lru_cache(maxsize=1)
def timezone_names() -> list[str]:
    """The zones offered in pickers, sorted (legacy aliases left out)."""
    regional = sorted(
        name
        for name in known_timezones()
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))
    )
    return [*regional, "UTC"]


# Old names browsers still report (Chromium says Asia/Calcutta), and the
# current IANA names we show instead.
TIMEZONE_ALIASES = {
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Asia/Rangoon": "Asia/Yangon",
    "Europe/Kiev": "Europe/Kyiv",
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "Pacific/Truk": "Pacific/Chuuk",
    "Pacific/Ponape": "Pacific/Pohnpei",
}


def canonical_timezone(name: str) -> str:
    return TIMEZONE_ALIASES.get(name, name)


def validate_timezone(value: str) -> None:
    if value not in known_timezones():
        raise ValidationError(
            "“%(value)s” is not a known time zone. Choose one from the list, e.g. Europe/Berlin.",
            code="invalid_timezone",
            params={"value": value},
        )


def validate_not_in_future(value) -> None:
    if value and value > timezone.localdate():
        raise ValidationError("The date of birth cannot be in the future.", code="future_date")


def validate_linkedin_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme != "https":
        raise ValidationError("The LinkedIn link must start with https://.", code="not_https")
    host = (parts.hostname or "").lower()
    if host != "linkedin.com" and not host.endswith(".linkedin.com"):
        raise ValidationError(
            "The LinkedIn link must point to linkedin.com, e.g. https://www.linkedin.com/in/your-name.",
            code="not_linkedin",
        )


@deconstructible
class AvatarValidator:
    """A real JPEG, PNG or WebP picture of at most 2 MB and 40 megapixels.

    The extension and the declared content type are not trusted: the bytes
    are decoded in full with Pillow (``accounts.avatars.open_avatar``), the
    pixel count checked from the header first, so that storing the picture
    afterwards (``accounts.services.save_user``) cannot fail on it. Files
    already stored are our own re-encoded pictures and are not read again.
    """

    def __call__(self, file) -> None:
        if getattr(file, "_committed", False):
            return
        position = file.tell() if hasattr(file, "tell") else 0
        try:
            open_avatar(file)
        finally:
            file.seek(position)

    def __eq__(self, other) -> bool:
        return isinstance(other, AvatarValidator)
