"""12- or 24-hour clock times, chosen per person (issue 17).

The choice is active for the current request (``TimeFormatMiddleware``) or,
for an email, for its recipient (``override``), like Django's active time
zone. Code that formats a time writes its pattern with ``H:i`` and passes it
through ``clock_pattern``, which turns it into ``g:i A`` ("5:00 PM") when the
12-hour clock is active.
"""

from contextlib import contextmanager
from contextvars import ContextVar

TWENTY_FOUR = "24"
TWELVE = "12"

_active: ContextVar[str] = ContextVar("time_format", default=TWENTY_FOUR)


def active() -> str:
    return _active.get()


def uses_12_hour() -> bool:
    return _active.get() == TWELVE


def activate(time_format: str) -> None:
    _active.set(TWELVE if time_format == TWELVE else TWENTY_FOUR)


def deactivate() -> None:
    _active.set(TWENTY_FOUR)


@contextmanager
def override(time_format: str):
    token = _active.set(TWELVE if time_format == TWELVE else TWENTY_FOUR)
    try:
        yield
    finally:
        _active.reset(token)


def clock_pattern(pattern: str) -> str:
    """``pattern`` (a Django date format) for the active clock: ``H:i`` reads
    ``g:i A`` on the 12-hour clock."""
    if uses_12_hour():
        return pattern.replace("H:i", "g:i A")
    return pattern


def format_time_of_day(value) -> str:
    """A ``datetime.time`` as the active clock writes it: "17:00" or "5:00 PM"."""
    if value is None:
        return ""
    if not uses_12_hour():
        return value.strftime("%H:%M")
    hour = value.hour % 12 or 12
    return f"{hour}:{value.minute:02d} {'AM' if value.hour < 12 else 'PM'}"
