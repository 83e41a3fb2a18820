"""Sessions as iCalendar (RFC 5545): the ``invite.ics`` download and the
attachment of the notification emails (RFC 5546 ``METHOD``), and the personal
calendar feed (``scheduling/views_feed.py``), which has no METHOD.

One event per reschedule chain: the UID comes from ``Session.ical_uid``, which
a rescheduled session inherits, and the SEQUENCE from ``Session.ical_sequence``,
which every change sent to calendars raises (a move, a cancellation), so a
calendar moves or removes the event it already has instead of adding a second
one or ignoring an update that is not newer. DTSTAMP is
``Session.ical_revised_at``, when that change was made: an invite, a download
and the feed say the same of one revision however late they are built.

No one's email address reaches the other side. The ORGANIZER is the
platform's own address (the one emails come from, ``DEFAULT_FROM_EMAIL``)
with the mentor's name as CN, and the one ATTENDEE is the reader the file is
for (``recipient``): an invite lists only its recipient, a download and a
feed only their reader. A calendar object stored in the mentor's calendar
has neither (``caldav.py`` removes them), so the server sends no invitations.
"""

from collections.abc import Iterable
from datetime import UTC, timedelta
from email.utils import parseaddr

from django.conf import settings
from icalendar import Calendar, Event, vCalAddress, vDuration

from ..models import Session

PRODID = "-//Mentorship//Sessions//EN"
METHODS = ("PUBLISH", "REQUEST", "CANCEL")
# What a subscribed feed asks clients to poll at (most poll on their own
# schedule whatever it says: Google takes hours).
FEED_REFRESH_INTERVAL = timedelta(hours=1)


def session_calendar(
    session: Session,
    *,
    method: str | None = "PUBLISH",
    include_meeting_link: bool = True,
    recipient=None,
) -> bytes:
    """The session as one VCALENDAR holding one VEVENT, as bytes (UTF-8, CRLF).

    ``method`` is PUBLISH for a download, REQUEST for a confirmation or a
    reschedule, CANCEL for a cancellation, and None for a calendar object
    stored in a calendar (a CalDAV resource), which must not carry a METHOD
    (RFC 4791 §4.1). Pass ``include_meeting_link=False``
    when the reader is not a participant (staff): the link is for the two of
    them only; a cancelled event never carries it. ``recipient`` (a
    participant) is the one ATTENDEE; None lists none. Reads ``session.mentor.user``
    and ``session.mentee.user``, so fetch the session with those related rows.
    Writes nothing.
    """
    if method is not None and method not in METHODS:
        raise ValueError(f"method must be None or one of {', '.join(METHODS)}, not {method!r}")
    calendar = _calendar()
    if method is not None:
        calendar.add("method", method)
    calendar.add_component(
        _event(
            session,
            cancelled=method == "CANCEL",
            include_meeting_link=include_meeting_link,
            recipient=recipient,
        )
    )
    return calendar.to_ical()


def sessions_calendar(sessions: Iterable[Session], *, name: str, reader) -> bytes:
    """A subscribed calendar (a feed) named ``name``, one VEVENT per session,
    as bytes (UTF-8, CRLF).

    Every event is built as in ``session_calendar`` (same UID and SEQUENCE,
    so a client that also imported an invite sees one event), with the
    meeting link: call this only for sessions the reader takes part in. No
    ``reader`` is each event's one ATTENDEE. No
    METHOD: RFC 5546 methods belong to messages (invites), and clients treat a
    subscribed calendar that carries one as an import. Reads
    ``session.mentor.user`` and ``session.mentee.user`` of each session, so
    fetch them with those related rows. Writes nothing.
    """
    calendar = _calendar()
    # RFC 7986 NAME, and the X-WR-CALNAME that Apple, Google and Outlook read.
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    # How often to poll: RFC 7986, and the older property Apple and Outlook read.
    calendar.add("refresh-interval", FEED_REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(FEED_REFRESH_INTERVAL))
    for session in sessions:
        calendar.add_component(
            _event(session, cancelled=False, include_meeting_link=True, recipient=reader)
        )
    return calendar.to_ical()


def _calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    return calendar


def organizer_email() -> str:
    """The platform's own address, which invites name as their organizer."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "noreply@localhost"


def _event(session: Session, *, cancelled: bool, include_meeting_link: bool, recipient) -> Event:
    """One session as a VEVENT. ``cancelled`` forces a cancelled event (a
    CANCEL message); a cancelled session is one whatever it says."""
    mentor = session.mentor.user
    mentee = session.mentee.user
    cancelled = cancelled or session.status == Session.Status.CANCELLED
    # As on the session page: no way into a call that is not happening.
    meeting_url = session.meeting_url if include_meeting_link and not cancelled else ""

    event = Event()
    domain = getattr(settings, "ICAL_UID_DOMAIN", "mentorship.local")
    event.add("uid", f"{session.ical_uid}@{domain}")
    event.add("sequence", session.ical_sequence)
    event.add("dtstamp", session.ical_revised_at.astimezone(UTC).replace(microsecond=0))
    # UTC ("...Z") rather than a TZID: no VTIMEZONE to ship, and every client
    # shows the event in its own zone.
    event.add("dtstart", session.start.astimezone(UTC))
    event.add("dtend", session.end.astimezone(UTC))
    event.add("summary", f"{session.title}: {mentor.public_name} & {mentee.public_name}")
    description = _description(topic=session.topic, meeting_url=meeting_url)
    if description:
        event.add("description", description)
    if meeting_url:
        event.add("url", meeting_url)
        event.add("location", meeting_url)
    # The platform organizes; the mentor's name, never their address.
    organizer = vCalAddress(f"mailto:{organizer_email()}")
    organizer.params["CN"] = mentor.public_name
    event.add("organizer", organizer)
    if recipient is not None:
        # Both sides chose this time (the mentee booked it in the mentor's
        # open hours), so the one attendee has accepted it.
        event.add("attendee", _address(recipient, ROLE="REQ-PARTICIPANT", PARTSTAT="ACCEPTED"))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def _address(user, **parameters: str) -> vCalAddress:
    """A ``mailto:`` address with the person's name as CN (quoted and, where it
    holds a double quote, RFC 6868-encoded by icalendar)."""
    address = vCalAddress(f"mailto:{user.email}")
    address.params["CN"] = user.public_name
    for key, value in parameters.items():
        address.params[key] = value
    return address


def _description(*, topic: str, meeting_url: str) -> str:
    parts = []
    if topic:
        parts.append(f"Topic: {topic}")
    if meeting_url:
        parts.append(f"Join: {meeting_url}")
    return "\n\n".join(parts)
