"""Add-to-calendar links that open a calendar's own new-event form, filled
in: no file to download, nothing sent to the calendar until its user saves.

Only what the two participants already share goes into a link: the title,
the other person's public name, the times, the meeting link and the session
page's address. Never anyone's email address (the link ends up in browser
history and in the calendar provider's logs).
"""

from datetime import UTC, datetime
from urllib.parse import urlencode

GOOGLE_CALENDAR_URL = "https://calendar.google.com/calendar/render"


def google_dates(start: datetime, end: datetime) -> str:
    """``start``/``end`` in UTC as Google Calendar reads them:
    ``20261130T140000Z/20261130T143000Z``."""
    return "/".join(moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") for moment in (start, end))


def google_calendar_url(
    *, title: str, start: datetime, end: datetime, details: str = "", location: str = ""
) -> str:
    """A link to Google Calendar's new-event form with these fields filled in.
    ``start`` and ``end`` must be aware; they go in as UTC, so the event
    lands at the right moment whatever zone the calendar is in."""
    query = {"action": "TEMPLATE", "text": title, "dates": google_dates(start, end)}
    if details:
        query["details"] = details
    if location:
        query["location"] = location
    return f"{GOOGLE_CALENDAR_URL}?{urlencode(query)}"


def session_google_calendar_url(session, *, viewer, page_url: str) -> str:
    """The Google Calendar link for ``viewer``, a participant of ``session``:
    titled with the other participant's public name, the meeting link as the
    location and, in the details, the meeting link and ``page_url`` (the
    session page's full address). Reads ``session.mentor.user`` and
    ``session.mentee.user``; no query when they come with the session."""
    mentor, mentee = session.mentor.user, session.mentee.user
    other = mentee if mentor.pk == viewer.pk else mentor
    details = f"Join: {session.meeting_url}\nSession page: {page_url}"
    return google_calendar_url(
        title=f"{session.title} with {other.public_name}",
        start=session.start,
        end=session.end,
        details=details,
        location=session.meeting_url,
    )
