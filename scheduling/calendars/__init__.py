"""External calendars behind one small client interface (``base.CalendarClient``):
CalDAV (``caldav.py``) and Google Calendar (``google.py``). ``client_for``
picks the client for a connection."""

from .base import (
    CalendarAuthError,
    CalendarClient,
    CalendarError,
    CalendarInfo,
    CalendarTemporaryError,
    client_for,
    event_id_for,
)

__all__ = [
    "CalendarAuthError",
    "CalendarClient",
    "CalendarError",
    "CalendarInfo",
    "CalendarTemporaryError",
    "client_for",
    "event_id_for",
]
