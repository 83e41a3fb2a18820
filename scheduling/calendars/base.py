"""The calendar client interface every provider implements.

A client is built for one ``CalendarConnection`` and speaks to one account.
It never writes the database except through the connection's own token
fields (the Google client refreshes its access token), and it raises only the
three errors below, whose messages are plain words a mentor can act on —
never a token, a password or a raw response body.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol


class CalendarError(Exception):
    """The calendar refused or failed in a way retrying will not fix soon."""


class CalendarAuthError(CalendarError):
    """The credentials no longer work (revoked, expired for good, wrong
    password): the connection needs reconnecting."""


class CalendarTemporaryError(CalendarError):
    """429, 5xx, a timeout or a refused connection: try again later.
    ``retry_after`` is the server's hint in seconds, when it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """An HTTP ``Retry-After`` value in seconds from now: a number of seconds
    or an HTTP date (RFC 9110). None when missing or unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


@dataclass(frozen=True)
class CalendarInfo:
    id: str  # a Google calendar id, or a CalDAV calendar URL
    name: str
    writable: bool = True


class CalendarClient(Protocol):
    def list_calendars(self) -> list[CalendarInfo]:
        """The account's calendars."""

    def busy_times(
        self, calendar_ids: list[str], start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]]:
        """Busy intervals (aware, UTC) overlapping [start, end) in those calendars."""

    def put_event(self, calendar_id: str, *, event_id: str, session) -> str:
        """Create or replace the session's event under ``event_id``; returns
        the new etag (or "" when the provider has none). Idempotent: putting
        the same event twice leaves one event."""

    def delete_event(self, calendar_id: str, *, event_id: str) -> None:
        """Remove the event; an event that is already gone is not an error."""


def event_id_for(session) -> str:
    """The event's id in external calendars, the same for the whole reschedule
    chain and for every connection: a lowercase hex string, valid as a Google
    event id (base32hex) and as a CalDAV resource name."""
    return session.ical_uid


def client_for(connection) -> CalendarClient:
    if connection.provider == "caldav":
        from .caldav import CalDAVClient

        return CalDAVClient(connection)
    if connection.provider == "google":
        from .google import GoogleCalendarClient

        return GoogleCalendarClient(connection)
    raise CalendarError(f"Unknown calendar provider {connection.provider!r}.")
