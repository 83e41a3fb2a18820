"""Validators for the User row. Model-level, so forms and admin share them."""

import zoneinfo
from functools import lru_cache
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from PIL import Image, UnidentifiedImageError

AVATAR_MAX_BYTES = 2 * 1024 * 1024
AVATAR_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}


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
    """A real JPEG, PNG or WebP image of at most 2 MB.

    The extension and the declared content type are not trusted: the bytes are
    opened and verified with Pillow.
    """

    def __call__(self, file) -> None:
        if file.size > AVATAR_MAX_BYTES:
            raise ValidationError(
                "The picture is %(size)s MB; the limit is 2 MB.",
                code="file_too_large",
                params={"size": f"{file.size / (1024 * 1024):.1f}"},
            )
        position = file.tell() if hasattr(file, "tell") else 0
        try:
            file.seek(0)
            with Image.open(file) as image:
                image_format = image.format
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
            raise ValidationError(
                "This file is not a picture we can read. Upload a JPEG, PNG or WebP image.",
                code="invalid_image",
            ) from error
        finally:
            file.seek(position)
        if image_format not in AVATAR_FORMATS:
            raise ValidationError(
                "Pictures must be JPEG, PNG or WebP (this one is %(format)s).",
                code="invalid_image_format",
                params={"format": image_format or "unknown"},
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, AvatarValidator)
