"""The notification emails: HTML and plain text from one base layout, in the
recipient's time zone (named), with links back to the session built from
``SITE_URL`` and, for a booking, a move or a cancellation, the iCalendar
invite that keeps the one calendar event up to date (METHOD:REQUEST with the
session's UID and SEQUENCE, or METHOD:CANCEL). Mentors whose sessions are
written to a connected calendar get no invite (the calendar has the event)."""

from email.mime.text import MIMEText
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from core import timeformat

from ..calendars import sync as calendar_sync
from ..models import Notification
from ..timefmt import local_time, session_day_and_times
from .ics import session_calendar

Kind = Notification.Kind

SUBJECTS = {
    Kind.CONFIRMATION: "Booked: {title} with {other}, {when}",
    Kind.RESCHEDULE: "Moved: {title} with {other} is now {when}",
    Kind.CANCELLATION: "Cancelled: {title} with {other}, {when}",
    Kind.REMINDER_24H: "Tomorrow: {title} with {other}, {when}",
    Kind.REMINDER_1H: "In one hour: {title} with {other}, {when}",
    Kind.REVIEW_REQUEST: "How was your {title} with {other}?",
    Kind.HOLD: "Confirm your booking: {title} with {other}, {when}",
}
# Messages about a session still to come carry its meeting link.
JOINABLE = {Kind.CONFIRMATION, Kind.RESCHEDULE, Kind.REMINDER_24H, Kind.REMINDER_1H}
INVITE_METHODS = {
    Kind.CONFIRMATION: "REQUEST",
    Kind.RESCHEDULE: "REQUEST",
    Kind.CANCELLATION: "CANCEL",
}


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def build_message(notification: Notification) -> EmailMultiAlternatives:
    """The email for one outbox row (fetched with its recipient and the
    session's mentor and mentee users). Builds, never sends."""
    session = notification.session
    recipient = notification.recipient
    is_mentor = recipient.pk == session.mentor.user_id
    other = session.mentee.user if is_mentor else session.mentor.user
    method = INVITE_METHODS.get(notification.kind)
    # A mentor whose sessions are written to their own calendar gets no
    # invite: a calendar that also adds invites from email would show the
    # session twice. The email names the calendar instead.
    synced_calendars = (
        calendar_sync.synced_calendar_names(session.mentor_id) if method and is_mentor else []
    )
    zone_name = recipient.timezone or "UTC"
    with timezone.override(ZoneInfo(zone_name)), timeformat.override(recipient.clock):
        when = f"{local_time(session.start, 'D j M, H:i')} ({zone_name})"
        session_day, session_times = session_day_and_times(session.start, session.end)
        previous = session.rescheduled_from if notification.kind == Kind.RESCHEDULE else None
        context = {
            "notification": notification,
            "kind": notification.kind,
            "session": session,
            "recipient": recipient,
            "other": other,
            "is_mentor": is_mentor,
            "zone_name": zone_name,
            "when": when,
            # One line in the text ("Monday 30 November 2026, 09:00-09:30 EST");
            # the HTML keeps the times together when a narrow screen wraps it.
            "time_range": f"{session_day}, {session_times}",
            "session_day": session_day,
            "session_times": session_times,
            "session_url": absolute(
                reverse("scheduling:session_detail", kwargs={"session_id": session.pk})
            ),
            "review_url": absolute(
                reverse("reviews:session_review", kwargs={"session_id": session.pk})
            ),
            "sessions_url": absolute(reverse("scheduling:session_list")),
            "settings_url": absolute(reverse("accounts:settings")),
            "meeting_url": session.meeting_url if notification.kind in JOINABLE else "",
            "previous_when": local_time(previous.start, "l j F, H:i") if previous else "",
            "cancelled_by_other": session.cancelled_by_id == other.pk,
            "site_url": settings.SITE_URL,
            "synced_calendar": ", ".join(synced_calendars),
        }
        if notification.kind == Kind.HOLD:
            from ..holds import hold_token

            context["confirm_url"] = absolute(
                reverse("scheduling:hold_confirm", kwargs={"token": hold_token(session)})
            )
            context["hold_until"] = local_time(session.hold_expires_at, "H:i")
        subject = SUBJECTS[notification.kind].format(
            title=session.title, other=other.public_name, when=when
        )
        text = render_to_string(f"email/session/{notification.kind}.txt", context)
        html = render_to_string(f"email/session/{notification.kind}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        headers={
            # The same row always makes the same Message-ID, so a resend after
            # a lost acknowledgement is recognisable as the same message.
            "Message-ID": f"<notification-{notification.pk}@{settings.ICAL_UID_DOMAIN}>",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    if method and not synced_calendars:
        message.attach(invite_part(session, method, recipient=recipient))
    return message


def invite_part(session, method: str, *, recipient) -> MIMEText:
    """The session's invite for ``recipient`` as a ``text/calendar``
    attachment that calendar apps act on (``method`` in the content type, as
    RFC 6047 asks); ``recipient`` is its one attendee."""
    calendar = session_calendar(session, method=method, recipient=recipient)
    part = MIMEText(calendar.decode(), "calendar", "utf-8")
    part.set_param("method", method)
    part.add_header("Content-Disposition", "attachment", filename="invite.ics")
    return part
