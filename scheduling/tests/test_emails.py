"""The notification emails (``scheduling/notifications/emails.py`` and ``templates/email/``).

Every email is built from an outbox row as ``outbox.deliver`` builds it, for
both recipients: the mentor in New York, the mentee in Kolkata, so every time
is checked in the zone of the person reading it. The main session is Monday
30 November 2026, 14:00-14:30 UTC: 09:00 EST in New York, 19:30 IST in
Kolkata. Invites are read back with ``icalendar.Calendar.from_ical``, as a
calendar client would read them.
"""

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from icalendar import Calendar

from accounts.tests.factories import UserFactory
from mentorship.tests.factories import MenteeProfileFactory, MentorProfileFactory
from scheduling.booking import book_session, cancel_session, reschedule_session
from scheduling.models import Notification, Session
from scheduling.notifications import outbox
from scheduling.notifications.emails import build_message
from scheduling.notifications.ics import organizer_email
from scheduling.tests.factories import UID_DOMAIN, SessionFactory, new_york_mentor

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("uid_domain")]

Kind = Notification.Kind

SITE = "https://mentoring.example.org"
FROM = "Mentorship <sessions@mentoring.example.org>"
MEETING_URL = "https://meet.example.com/mentorship-abc123"

MONDAY_14_UTC = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
FRIDAY_BEFORE_14_UTC = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)

# (kind, role) for every message outbox.notify writes: both sides of every
# change, the review request for the mentee only.
EVERY_EMAIL = [(kind, role) for kind, roles in outbox.RECIPIENTS.items() for role in roles]
WITH_INVITE = {
    Kind.CONFIRMATION: "REQUEST",
    Kind.RESCHEDULE: "REQUEST",
    Kind.CANCELLATION: "CANCEL",
}

MENTEE_WHEN = "Mon 30 Nov, 19:30 IST (Asia/Kolkata)"
MENTOR_WHEN = "Mon 30 Nov, 09:00 EST (America/New_York)"
SUBJECTS = {
    (Kind.CONFIRMATION, "mentee"): f"Booked: Intro call with Maya Mentor, {MENTEE_WHEN}",
    (Kind.CONFIRMATION, "mentor"): f"Booked: Intro call with Kiran Mentee, {MENTOR_WHEN}",
    (Kind.RESCHEDULE, "mentee"): f"Moved: Intro call with Maya Mentor is now {MENTEE_WHEN}",
    (Kind.RESCHEDULE, "mentor"): f"Moved: Intro call with Kiran Mentee is now {MENTOR_WHEN}",
    (Kind.CANCELLATION, "mentee"): f"Cancelled: Intro call with Maya Mentor, {MENTEE_WHEN}",
    (Kind.CANCELLATION, "mentor"): f"Cancelled: Intro call with Kiran Mentee, {MENTOR_WHEN}",
    (Kind.REMINDER_24H, "mentee"): f"Tomorrow: Intro call with Maya Mentor, {MENTEE_WHEN}",
    (Kind.REMINDER_24H, "mentor"): f"Tomorrow: Intro call with Kiran Mentee, {MENTOR_WHEN}",
    (Kind.REMINDER_1H, "mentee"): f"In one hour: Intro call with Maya Mentor, {MENTEE_WHEN}",
    (Kind.REMINDER_1H, "mentor"): f"In one hour: Intro call with Kiran Mentee, {MENTOR_WHEN}",
    (Kind.REVIEW_REQUEST, "mentee"): "How was your Intro call with Maya Mentor?",
    (Kind.HOLD, "mentee"): f"Confirm your booking: Intro call with Maya Mentor, {MENTEE_WHEN}",
}
TIME_RANGE = {
    "mentee": "Monday 30 November 2026, 19:30–20:00 IST (Asia/Kolkata)",
    "mentor": "Monday 30 November 2026, 09:00–09:30 EST (America/New_York)",
}
FIRST_LINE = {
    (Kind.CONFIRMATION, "mentee"): "Your session with Maya Mentor is booked.",
    (Kind.CONFIRMATION, "mentor"): "Kiran Mentee booked a session with you.",
    (Kind.RESCHEDULE, "mentee"): "You moved your session with Maya Mentor to a new time.",
    (Kind.RESCHEDULE, "mentor"): "Kiran Mentee moved your session to a new time.",
    (Kind.CANCELLATION, "mentee"): "You cancelled this session; Maya Mentor has been told.",
    (Kind.CANCELLATION, "mentor"): "Kiran Mentee cancelled your session.",
    (Kind.REMINDER_24H, "mentee"): "your session with Maya Mentor starts tomorrow.",
    (Kind.REMINDER_24H, "mentor"): "your session with Kiran Mentee starts tomorrow.",
    (Kind.REMINDER_1H, "mentee"): "your session with Maya Mentor starts in one hour.",
    (Kind.REMINDER_1H, "mentor"): "your session with Kiran Mentee starts in one hour.",
    (Kind.REVIEW_REQUEST, "mentee"): "How was your Intro call with Maya Mentor?",
    (Kind.HOLD, "mentee"): "Thanks for booking with Maya Mentor. We're holding this time",
}


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE
    settings.DEFAULT_FROM_EMAIL = FROM


@pytest.fixture
def mentor():
    return MentorProfileFactory(
        slug="maya-mentor",
        user=UserFactory(name="Maya Mentor", email="maya@example.com", timezone="America/New_York"),
    )


@pytest.fixture
def mentee():
    return MenteeProfileFactory(
        user=UserFactory(name="Kiran Mentee", email="kiran@example.com", timezone="Asia/Kolkata")
    )


def make_session(mentor, mentee, **changes) -> Session:
    fields = {
        "title": "Intro call",
        "start": MONDAY_14_UTC,
        "topic": "Moving into data science",
        "meeting_url": MEETING_URL,
        **changes,
    }
    return SessionFactory(mentor=mentor, mentee=mentee, **fields)


def cancelled(session: Session, *, by, reason="Something came up at work.") -> Session:
    session.status = Session.Status.CANCELLED
    session.cancelled_at = session.start - timedelta(days=2)
    session.cancelled_by = by
    session.cancellation_reason = reason
    session.save()
    return session


def moved(session: Session, *, to: datetime) -> Session:
    """What ``reschedule_session`` leaves: ``session`` cancelled, a new one at
    ``to`` pointing back at it, with the same UID and the next SEQUENCE."""
    cancelled(session, by=session.mentee.user, reason="Rescheduled by the mentee.")
    return make_session(
        session.mentor,
        session.mentee,
        start=to,
        rescheduled_from=session,
        ical_uid=session.ical_uid,
        ical_sequence=session.ical_sequence + 1,
    )


def session_for(kind, mentor, mentee, *, start=MONDAY_14_UTC) -> Session:
    """A session in the state the services leave it in when they write ``kind``
    (the reschedule from the Friday before, the cancellation by the mentee)."""
    if kind == Kind.RESCHEDULE:
        earlier = make_session(mentor, mentee, start=start - timedelta(days=3))
        return moved(earlier, to=start)
    session = make_session(mentor, mentee, start=start)
    if kind == Kind.CANCELLATION:
        return cancelled(session, by=mentee.user)
    if kind == Kind.REVIEW_REQUEST:
        session.status = Session.Status.COMPLETED
        session.save()
    if kind == Kind.HOLD:
        session.status = Session.Status.PENDING
        session.hold_expires_at = start - timedelta(days=3)
        session.save()
    return session


def recipient_of(session: Session, role: str):
    return session.mentor.user if role == "mentor" else session.mentee.user


def email(session: Session, kind: str, recipient):
    """The message for a new outbox row, fetched as ``outbox.deliver`` fetches it."""
    row = Notification.objects.create(
        session=session, kind=kind, recipient=recipient, occurrence=outbox.occurrence(session)
    )
    return email_of(row)


def email_of(row: Notification):
    row = Notification.objects.select_related(
        "recipient", "session__mentor__user", "session__mentee__user"
    ).get(pk=row.pk)
    return build_message(row)


def html_of(message) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


def words(html_text: str) -> str:
    """What a reader sees of the HTML: the body's text, entities decoded, runs
    of white space as one space."""
    body = html_text.split("<body", 1)[1]
    without_tags = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", html.unescape(without_tags)).strip()


def text_words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def calendar_parts(message) -> list:
    """The ``text/calendar`` parts of the message as it goes on the wire."""
    return [part for part in message.message().walk() if part.get_content_type() == "text/calendar"]


def the_invite(message):
    """The one invite of ``message``: its MIME part, the calendar and its one event."""
    [part] = calendar_parts(message)
    calendar = Calendar.from_ical(part.get_payload(decode=True))
    [event] = calendar.walk("VEVENT")
    return part, calendar, event


def session_page(session) -> str:
    return f"{SITE}/sessions/{session.pk}/"


# --- Every email, both recipients -----------------------------------------------------------


@pytest.mark.parametrize(("kind", "role"), EVERY_EMAIL)
def test_subject_addresses_and_both_bodies_in_the_recipients_zone(kind, role, mentor, mentee):
    session = session_for(kind, mentor, mentee)
    recipient = recipient_of(session, role)

    message = email(session, kind, recipient)

    assert message.subject == SUBJECTS[kind, role]
    assert message.to == [recipient.email]
    assert message.from_email == FROM
    assert message.message()["Auto-Submitted"] == "auto-generated"
    text, page = text_words(message.body), words(html_of(message))
    short_name = recipient.name.split()[0]
    for body in (text, page):
        assert f"Hi {short_name}, " in body
        assert FIRST_LINE[kind, role] in body
        assert TIME_RANGE[role] in body
        assert "Intro call" in body
        assert "Topic: Moving into data science" in body
        assert f"Times are in your time zone, {recipient.timezone}" in body
    # The other zone's time appears nowhere.
    other_role = "mentee" if role == "mentor" else "mentor"
    assert TIME_RANGE[other_role].split(", ")[1] not in text
    assert TIME_RANGE[other_role].split(", ")[1] not in page


@pytest.mark.parametrize(("kind", "role"), EVERY_EMAIL)
def test_links_are_absolute_and_lead_to_the_session(kind, role, mentor, mentee):
    session = session_for(kind, mentor, mentee)
    message = email(session, kind, recipient_of(session, role))
    page = html_of(message)

    links = re.findall(r'href="([^"]+)"', page)
    assert links, "the HTML has links"
    for link in links:
        assert link.startswith((SITE + "/", MEETING_URL)), link
    assert f"{SITE}/sessions/" in message.body
    assert f"{SITE}/accounts/settings/" in message.body
    if kind == Kind.CANCELLATION:
        # Nothing left to see on the session page: the next step instead.
        next_step = f"{SITE}/sessions/" if role == "mentor" else f"{SITE}/mentors/maya-mentor/"
        assert f'href="{next_step}"' in page
        assert next_step in message.body
    elif kind == Kind.HOLD:
        # The held time has no page yet: the link confirms it.
        confirm = re.search(rf'href="({SITE}/book/confirm/[^"]+/)"', page).group(1)
        assert confirm in message.body
        assert session_page(session) not in message.body
    else:
        assert f'href="{session_page(session)}"' in page
        assert session_page(session) in message.body


@pytest.mark.parametrize(("kind", "role"), EVERY_EMAIL)
def test_the_meeting_link_is_in_messages_about_a_session_still_to_come(kind, role, mentor, mentee):
    session = session_for(kind, mentor, mentee)
    message = email(session, kind, recipient_of(session, role))
    page = html_of(message)

    if kind in (Kind.CONFIRMATION, Kind.RESCHEDULE, Kind.REMINDER_24H, Kind.REMINDER_1H):
        assert f"Meeting link: {MEETING_URL}" in message.body
        assert f'href="{MEETING_URL}"' in page
    else:
        assert MEETING_URL not in message.body
        assert MEETING_URL not in page
        assert "meet.example.com" not in str(message.message())


def test_the_reminders_have_a_join_button(mentor, mentee):
    session = make_session(mentor, mentee)
    for kind in (Kind.REMINDER_24H, Kind.REMINDER_1H):
        page = html_of(email(session, kind, mentee.user))
        assert re.search(rf'<a href="{MEETING_URL}"[^>]*>Join the meeting</a>', page)


# --- Time zones and daylight saving ---------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "mentor_sees", "mentee_sees"),
    [
        # New York on summer time (UTC-4) the Friday before the change back…
        (
            datetime(2026, 10, 30, 13, 0, tzinfo=UTC),
            ("Fri 30 Oct, 09:00 EDT", "Friday 30 October 2026, 09:00–09:30 EDT"),
            ("Fri 30 Oct, 18:30 IST", "Friday 30 October 2026, 18:30–19:00 IST"),
        ),
        # …and on winter time (UTC-5) the Monday after: the same 09:00 for the
        # mentor is an hour later in Kolkata, which has no daylight saving.
        (
            datetime(2026, 11, 2, 14, 0, tzinfo=UTC),
            ("Mon 2 Nov, 09:00 EST", "Monday 2 November 2026, 09:00–09:30 EST"),
            ("Mon 2 Nov, 19:30 IST", "Monday 2 November 2026, 19:30–20:00 IST"),
        ),
    ],
    ids=["EDT", "EST"],
)
def test_times_follow_daylight_saving_of_the_recipients_zone(
    start, mentor_sees, mentee_sees, mentor, mentee
):
    session = make_session(mentor, mentee, start=start)
    for recipient, (subject_time, body_time), zone in (
        (mentor.user, mentor_sees, "America/New_York"),
        (mentee.user, mentee_sees, "Asia/Kolkata"),
    ):
        message = email(session, Kind.CONFIRMATION, recipient)
        assert message.subject.endswith(f", {subject_time} ({zone})")
        assert f"{body_time} ({zone})" in message.body
        assert f"{body_time} ({zone})" in words(html_of(message))


def test_a_session_across_the_clock_change_names_both_offsets(mentor, mentee):
    # Sunday 1 November 2026: New York's clocks go back from 02:00 EDT to
    # 01:00 EST, so 05:30-06:30 UTC is 01:30 EDT to 01:30 EST.
    session = make_session(
        mentor,
        mentee,
        start=datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        end=datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
        duration_minutes=60,
    )
    message = email(session, Kind.CONFIRMATION, mentor.user)
    # Django's "T" format is blank for a wall time that happens twice: the
    # abbreviation must still be there.
    assert message.subject.endswith(", Sun 1 Nov, 01:30 EDT (America/New_York)")
    expected = "Sunday 1 November 2026, 01:30 EDT–01:30 EST (America/New_York)"
    assert expected in message.body
    assert expected in words(html_of(message))
    message = email(session, Kind.CONFIRMATION, mentee.user)
    assert "Sunday 1 November 2026, 11:00–12:00 IST (Asia/Kolkata)" in message.body


def test_the_session_page_names_the_zone_of_an_ambiguous_time_as_the_email_does(
    client, mentor, mentee
):
    # 05:00-05:30 UTC on Sunday 1 November 2026 is 01:00-01:30 EDT in New York;
    # 01:30 happens again an hour later, in EST.
    session = make_session(
        mentor,
        mentee,
        start=datetime(2026, 11, 1, 5, 0, tzinfo=UTC),
        end=datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
    )
    assert (
        "Sunday 1 November 2026, 01:00–01:30 EDT"
        in email(session, Kind.CONFIRMATION, mentor.user).body
    )
    client.force_login(mentor.user)
    page = words(client.get(f"/sessions/{session.pk}/").text)
    assert "Sunday 1 November 2026, 01:00–01:30 EDT" in page


def test_a_recipient_without_a_zone_reads_utc(mentor, mentee):
    mentee.user.timezone = ""
    mentee.user.save()
    message = email(make_session(mentor, mentee), Kind.REMINDER_1H, mentee.user)
    assert (
        message.subject == "In one hour: Intro call with Maya Mentor, Mon 30 Nov, 14:00 UTC (UTC)"
    )
    assert "Monday 30 November 2026, 14:00–14:30 UTC (UTC)" in message.body


# --- Reschedule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "subject", "was", "now"),
    [
        (
            "mentor",
            "Moved: Intro call with Kiran Mentee is now Mon 9 Mar, 10:00 EDT (America/New_York)",
            "It was on Friday 6 March, 09:00 EST.",
            "Monday 9 March 2026, 10:00–10:30 EDT (America/New_York)",
        ),
        (
            "mentee",
            "Moved: Intro call with Maya Mentor is now Mon 9 Mar, 19:30 IST (Asia/Kolkata)",
            "It was on Friday 6 March, 19:30 IST.",
            "Monday 9 March 2026, 19:30–20:00 IST (Asia/Kolkata)",
        ),
    ],
)
def test_the_reschedule_names_the_previous_time_across_the_spring_change(
    role, subject, was, now, mentor, mentee
):
    # New York moves its clocks forward on Sunday 8 March 2026: the same
    # 14:00 UTC is 09:00 EST on the Friday before and 10:00 EDT after.
    earlier = make_session(mentor, mentee, start=datetime(2026, 3, 6, 14, 0, tzinfo=UTC))
    later = moved(earlier, to=datetime(2026, 3, 9, 14, 0, tzinfo=UTC))

    message = email(later, Kind.RESCHEDULE, recipient_of(later, role))

    assert message.subject == subject
    for body in (text_words(message.body), words(html_of(message))):
        assert was in body
        assert now in body


def test_the_reschedule_invite_moves_the_event_it_replaces(mentor, mentee):
    original = make_session(mentor, mentee, start=FRIDAY_BEFORE_14_UTC)
    _, _, first = the_invite(email(original, Kind.CONFIRMATION, mentee.user))
    later = moved(original, to=MONDAY_14_UTC)

    _, calendar, event = the_invite(email(later, Kind.RESCHEDULE, mentee.user))

    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == str(first["UID"]) == f"{original.ical_uid}@{UID_DOMAIN}"
    assert event["SEQUENCE"] > first["SEQUENCE"]
    assert event.decoded("DTSTART") == MONDAY_14_UTC
    assert event["STATUS"] == "CONFIRMED"


# --- Cancellation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "role", "sentence"),
    [
        ("mentee", "mentor", "Kiran Mentee cancelled your session."),
        ("mentee", "mentee", "You cancelled this session; Maya Mentor has been told."),
        ("mentor", "mentee", "Maya Mentor cancelled your session."),
        ("mentor", "mentor", "You cancelled this session; Kiran Mentee has been told."),
        ("staff", "mentee", "Your session with Maya Mentor was cancelled by the Mentorship team."),
        ("staff", "mentor", "Your session with Kiran Mentee was cancelled by the Mentorship team."),
    ],
)
def test_the_cancellation_says_who_cancelled_and_why(who, role, sentence, mentor, mentee):
    by = {
        "mentee": mentee.user,
        "mentor": mentor.user,
        "staff": UserFactory(name="Sam Staff", is_staff=True),
    }[who]
    session = cancelled(
        make_session(mentor, mentee), by=by, reason="The office is closed that day.\nSorry!"
    )

    message = email(session, Kind.CANCELLATION, recipient_of(session, role))

    text, page = text_words(message.body), words(html_of(message))
    for body in (text, page):
        assert sentence in body
        assert "The office is closed that day." in body
        assert "Sam Staff" not in body  # staff act as the team, not by name
    assert "Reason: The office is closed that day.\nSorry!" in message.body
    assert "The office is closed that day.<br>Sorry!" in html_of(message)


def test_a_cancellation_without_a_reason_has_no_reason_line(mentor, mentee):
    session = cancelled(make_session(mentor, mentee), by=mentor.user, reason="")
    message = email(session, Kind.CANCELLATION, mentee.user)
    assert "Reason" not in message.body
    assert "Reason" not in words(html_of(message))


def test_the_cancellation_invite_removes_the_event(mentor, mentee):
    session = make_session(mentor, mentee)
    _, _, booked = the_invite(email(session, Kind.CONFIRMATION, mentor.user))
    cancelled(session, by=mentee.user)

    part, calendar, event = the_invite(email(session, Kind.CANCELLATION, mentor.user))

    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "CANCEL"
    assert calendar["METHOD"] == "CANCEL"
    assert str(event["UID"]) == str(booked["UID"]) == f"{session.ical_uid}@{UID_DOMAIN}"
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] >= booked["SEQUENCE"]
    assert "URL" not in event
    assert "LOCATION" not in event


# --- Invites ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "role"), EVERY_EMAIL)
def test_only_booking_moving_and_cancelling_carry_an_invite(kind, role, mentor, mentee):
    session = session_for(kind, mentor, mentee)
    message = email(session, kind, recipient_of(session, role))
    parts = calendar_parts(message)

    if kind not in WITH_INVITE:
        assert parts == []
        assert message.attachments == []
        return
    method = WITH_INVITE[kind]
    [part] = parts
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == method
    assert part.get_content_charset() == "utf-8"
    assert part.get_filename() == "invite.ics"
    calendar = Calendar.from_ical(part.get_payload(decode=True))
    assert calendar["METHOD"] == method
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{session.ical_uid}@{UID_DOMAIN}"
    assert event["SEQUENCE"] == session.ical_sequence
    assert event.decoded("DTSTART") == session.start
    assert event.decoded("DTEND") == session.end
    assert event["STATUS"] == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")
    # The platform organises under the mentor's name; each recipient's invite
    # lists only that recipient, and the other side's address is nowhere in it.
    recipient = recipient_of(session, role)
    other = session.mentee.user if recipient == session.mentor.user else session.mentor.user
    assert str(event["ORGANIZER"]) == f"mailto:{organizer_email()}"
    assert event["ORGANIZER"].params["CN"] == "Maya Mentor"
    assert str(event["ATTENDEE"]) == f"mailto:{recipient.email}"
    assert other.email not in part.get_payload(decode=True).decode()


SYNCED_SENTENCES = {
    Notification.Kind.CONFIRMATION: "It is being added to your connected calendar",
    Notification.Kind.RESCHEDULE: "Your connected calendar",
    Notification.Kind.CANCELLATION: "It is being removed from your connected calendar",
}


@pytest.mark.parametrize("kind", list(WITH_INVITE))
def test_a_mentor_whose_sessions_go_to_their_calendar_gets_no_invite(kind, mentor, mentee):
    """The push writes the event; an emailed invite as well would show the
    session twice in a calendar that adds invites from email. The mentee
    still gets the invite; so does a mentor whose calendar needs reconnecting."""
    from scheduling.models import CalendarConnection

    from .fake_calendar import CalendarConnectionFactory

    session = session_for(kind, mentor, mentee)
    connection = CalendarConnectionFactory(mentor=session.mentor, account="maya@fastmail.example")

    to_mentor = email(session, kind, session.mentor.user)
    assert calendar_parts(to_mentor) == []
    assert to_mentor.attachments == []
    for body in (text_words(to_mentor.body), words(html_of(to_mentor))):
        assert SYNCED_SENTENCES[kind] in body
        assert "(maya@fastmail.example)" in body
        assert "invite attached" not in body
    to_mentee = email(session, kind, session.mentee.user)
    assert len(calendar_parts(to_mentee)) == 1
    assert "invite attached" in text_words(to_mentee.body)

    connection.status = CalendarConnection.Status.NEEDS_REAUTH
    connection.save()
    row = Notification.objects.get(session=session, kind=kind, recipient=session.mentor.user)
    to_mentor = email_of(row)  # built again, at the next attempt
    assert len(calendar_parts(to_mentor)) == 1
    assert "invite attached" in text_words(to_mentor.body)


def test_the_confirmation_invite_is_a_request_with_the_sessions_uid(mentor, mentee):
    session = make_session(mentor, mentee)
    part, calendar, event = the_invite(email(session, Kind.CONFIRMATION, mentee.user))
    assert part["Content-Type"].startswith("text/calendar")
    assert part.get_param("method") == "REQUEST"
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == f"{session.ical_uid}@{UID_DOMAIN}"
    assert event["SEQUENCE"] == 0
    assert str(event["URL"]) == MEETING_URL


# --- Headers ------------------------------------------------------------------------------------


def test_the_message_id_is_the_same_for_one_row_and_differs_between_rows(mentor, mentee):
    session = make_session(mentor, mentee)
    for_mentee = Notification.objects.create(
        session=session,
        kind=Kind.CONFIRMATION,
        recipient=mentee.user,
        occurrence=outbox.occurrence(session),
    )
    for_mentor = Notification.objects.create(
        session=session,
        kind=Kind.CONFIRMATION,
        recipient=mentor.user,
        occurrence=outbox.occurrence(session),
    )
    first = email_of(for_mentee).message()["Message-ID"]
    again = email_of(for_mentee).message()["Message-ID"]
    other = email_of(for_mentor).message()["Message-ID"]
    assert first == again == f"<notification-{for_mentee.pk}@{UID_DOMAIN}>"
    assert other == f"<notification-{for_mentor.pk}@{UID_DOMAIN}>"
    assert other != first


# --- Escaping -----------------------------------------------------------------------------------

HOSTILE_NAME = "Eve <script>alert('name')</script> O'Brien & Co"
HOSTILE_TITLE = '<b>Intro</b> & "call"'
HOSTILE_TOPIC = "<script>alert('topic')</script>\nTom's & Jerry's plan"
HOSTILE_REASON = '<img src=x onerror=alert(1)> I\'m "busy" & away'


@pytest.mark.parametrize(("kind", "role"), EVERY_EMAIL)
def test_what_people_typed_is_escaped_in_html_and_verbatim_in_text(kind, role, mentor, mentee):
    for user in (mentor.user, mentee.user):
        user.name = HOSTILE_NAME if user == mentor.user else "Kiran Mentee"
        user.save()
    session = session_for(kind, mentor, mentee)
    Session.objects.filter(pk=session.pk).update(title=HOSTILE_TITLE, topic=HOSTILE_TOPIC)
    if kind == Kind.CANCELLATION:
        Session.objects.filter(pk=session.pk).update(
            cancellation_reason=HOSTILE_REASON, cancelled_by=mentor.user
        )
    session.refresh_from_db()

    message = email(session, kind, recipient_of(session, role))
    page = html_of(message)

    for raw in ("<script", "<img", "<b>Intro"):
        assert raw not in page
    assert "&lt;script&gt;" in page
    seen = words(page)
    if role == "mentee":
        assert HOSTILE_NAME in seen
    assert HOSTILE_TITLE in seen
    assert "Tom's & Jerry's plan" in seen
    # The plain text is text: no entities, what was typed reads as typed.
    text = message.body
    for artifact in ("&amp;", "&#x27;", "&#39;", "&quot;", "&lt;", "&gt;"):
        assert artifact not in text
        assert artifact not in message.subject
    assert HOSTILE_TITLE in text
    assert HOSTILE_TITLE in message.subject
    assert "Tom's & Jerry's plan" in text
    if role == "mentee":
        assert HOSTILE_NAME in text
        assert HOSTILE_NAME in message.subject
    if kind == Kind.CANCELLATION:
        assert f"Reason: {HOSTILE_REASON}" in text
        assert "&lt;img src=x onerror=alert(1)&gt; I&#x27;m &quot;busy&quot; &amp; away" in page


@pytest.mark.parametrize(("kind", "role"), EVERY_EMAIL)
def test_the_plain_text_has_no_template_leftovers(kind, role, mentor, mentee):
    session = session_for(kind, mentor, mentee)
    text = email(session, kind, recipient_of(session, role)).body
    assert "{" not in text
    assert "<" not in text
    assert "\n\n\n" not in text  # no stacked blank lines where a tag was
    assert not re.search(r"[ \t]+\n", text.replace("-- \n", ""))  # no trailing spaces


# --- Through the services -----------------------------------------------------------------------


def test_booking_moving_and_cancelling_send_one_event_to_both_calendars(
    time_machine, django_capture_on_commit_callbacks
):
    # The real path: services write the rows, delivery runs on commit (Celery
    # is eager in tests) and the messages land in the outbox of the locmem backend.
    # The services read the clock: Thursday 26 November 2026, 12:00 UTC.
    time_machine.move_to(datetime(2026, 11, 26, 12, 0, tzinfo=UTC), tick=False)
    mentor = new_york_mentor(starting=date(2026, 11, 23))
    mentee_user = UserFactory(name="Kiran Mentee", timezone="Asia/Kolkata")
    intro = mentor.session_types.get(slug="intro-call")

    with django_capture_on_commit_callbacks(execute=True):
        session = book_session(
            mentee_user=mentee_user, mentor=mentor, session_type=intro, start=MONDAY_14_UTC
        )
    with django_capture_on_commit_callbacks(execute=True):
        later = reschedule_session(
            session=session, by=mentee_user, start=MONDAY_14_UTC + timedelta(days=1)
        )
    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session=later, by=mentor.user, reason="I am ill, sorry.")

    # Each change, in order, reaches both sides (the two of one change in
    # either order: their rows are delivered as the database lists them).
    sent = [(message.subject.split(":")[0], message.to[0]) for message in mail.outbox]
    assert [verb for verb, _ in sent] == ["Booked"] * 2 + ["Moved"] * 2 + ["Cancelled"] * 2
    for first in (0, 2, 4):
        assert {sent[first][1], sent[first + 1][1]} == {mentee_user.email, mentor.user.email}

    def message_to(verb, user):
        [message] = [m for m in mail.outbox if m.subject.startswith(verb) and m.to == [user.email]]
        return message

    invites = [the_invite(message) for message in mail.outbox]
    uid = f"{session.ical_uid}@{UID_DOMAIN}"
    assert {str(event["UID"]) for _, _, event in invites} == {uid}
    assert [(calendar["METHOD"], event["SEQUENCE"]) for _, calendar, event in invites] == [
        ("REQUEST", 0),
        ("REQUEST", 0),
        ("REQUEST", 1),
        ("REQUEST", 1),
        # A cancellation is newer than the invite it cancels (RFC 5546).
        ("CANCEL", 2),
        ("CANCEL", 2),
    ]
    moved_for_mentor = message_to("Moved", mentor.user)
    assert "It was on Monday 30 November, 09:00 EST." in moved_for_mentor.body
    assert "Tuesday 1 December 2026, 09:00–09:30 EST (America/New_York)" in moved_for_mentor.body
    cancelled_for_mentee = message_to("Cancelled", mentee_user)
    assert "Maya Mentor cancelled your session." in cancelled_for_mentee.body
    assert "Reason: I am ill, sorry." in cancelled_for_mentee.body
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
