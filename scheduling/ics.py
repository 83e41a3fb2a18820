"""A session as iCalendar (RFC 5545): the ``invite.ics`` download and, later,
the attachment of the notification emails (RFC 5546 ``METHOD``).

One event per reschedule chain: the UID comes from ``Session.ical_uid``, which
a rescheduled session inherits, and the SEQUENCE from ``Session.ical_sequence``,
which the reschedule raises, so a calendar moves the event it already has
instead of adding a second one.
"""

from datetime import UTC

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress

from .models import Session

PRODID = "-//Mentorship//Sessions//EN"
METHODS = ("PUBLISH", "REQUEST", "CANCEL")


def session_calendar(
    session: Session, *, method: str = "PUBLISH", include_meeting_link: bool = True
) -> bytes:
    """The session as one VCALENDAR holding one VEVENT, as bytes (UTF-8, CRLF).

    ``method`` is PUBLISH for a download, REQUEST for a confirmation or a
    reschedule, CANCEL for a cancellation. Pass ``include_meeting_link=False``
    when the reader is not a participant (staff): the link is for the two of
    them only; a cancelled event never carries it. Reads ``session.mentor.user``
    and ``session.mentee.user``, so fetch the session with those related rows.
    Writes nothing.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    mentor = session.mentor.user
    mentee = session.mentee.user
    cancelled = method == "CANCEL" or session.status == Session.Status.CANCELLED
    # As on the session page: no way into a call that is not happening.
    meeting_url = session.meeting_url if include_meeting_link and not cancelled else ""

    event = Event()
    domain = getattr(settings, "ICAL_UID_DOMAIN", "mentorship.local")
    event.add("uid", f"{session.ical_uid}@{domain}")
    event.add("sequence", session.ical_sequence)
    event.add("dtstamp", timezone.now().astimezone(UTC).replace(microsecond=0))
    # UTC ("...Z") rather than a TZID: no VTIMEZONE to ship, and every client
    # shows the event in its own zone.
    event.add("dtstart", session.start.astimezone(UTC))
    event.add("dtend", session.end.astimezone(UTC))
    event.add("summary", f"{session.title}: {_name(mentor)} & {_name(mentee)}")
    description = _description(topic=session.topic, meeting_url=meeting_url)
    if description:
        event.add("description", description)
    if meeting_url:
        event.add("url", meeting_url)
        event.add("location", meeting_url)
    event.add("organizer", _address(mentor))
    # The mentee booked this time themselves, so they have already accepted it.
    event.add(
        "attendee",
        _address(mentee, ROLE="REQ-PARTICIPANT", PARTSTAT="ACCEPTED"),
    )
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    calendar.add_component(event)
    return calendar.to_ical()


def _name(user) -> str:
    return user.name or user.email


def _address(user, **parameters: str) -> vCalAddress:
    """A ``mailto:`` address with the person's name as CN (quoted and, where it
    holds a double quote, RFC 6868-encoded by icalendar)."""
    address = vCalAddress(f"mailto:{user.email}")
    address.params["CN"] = _name(user)
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
