"""``/sessions/<uuid>/invite.ics`` and the builder behind it (``scheduling/notifications/ics.py``).

Every file is read back with ``icalendar.Calendar.from_ical``, as a calendar
client would. The clock is frozen at Thursday 26 November 2026, 12:00 UTC; the
session is Monday 30 November 2026, 14:00-14:30 UTC (19:30 in Kolkata).
"""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from icalendar import Calendar

from accounts.tests.factories import UserFactory
from mentorship.tests.factories import MenteeProfileFactory, MentorProfileFactory
from scheduling.models import Session
from scheduling.notifications.ics import session_calendar
from scheduling.tests.factories import MEETING_URL, UID_DOMAIN, SessionFactory

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
MONDAY_14_UTC = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("uid_domain")]


@pytest.fixture(autouse=True)
def platform_address(settings):
    settings.DEFAULT_FROM_EMAIL = "Mentorship <noreply@mentorship.example>"


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def mentee_user():
    return UserFactory(name="Kiran Mentee", email="kiran@example.com", timezone="Asia/Kolkata")


@pytest.fixture
def mentor_user():
    return UserFactory(name="Maya Mentor", email="maya@example.com", timezone="America/New_York")


@pytest.fixture
def session(mentor_user, mentee_user):
    return SessionFactory(
        mentor=MentorProfileFactory(user=mentor_user),
        mentee=MenteeProfileFactory(user=mentee_user),
        title="Intro call",
        start=MONDAY_14_UTC,
        topic="Moving into data science",
        meeting_url=MEETING_URL,
    )


def invite_url(session) -> str:
    return reverse("scheduling:session_invite", kwargs={"session_id": session.pk})


def the_event(content: bytes):
    """The calendar and its one VEVENT, parsed as a client would."""
    calendar = Calendar.from_ical(content)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def unfolded(content: bytes) -> str:
    """The raw text with RFC 5545 line folding undone."""
    return content.decode("utf-8").replace("\r\n ", "")


def fetch(client, user, session):
    client.force_login(user)
    response = client.get(invite_url(session))
    assert response.status_code == 200
    return the_event(response.content)


# --- the file ---------------------------------------------------------------------------------


def test_the_mentee_gets_the_session_as_a_calendar_file(client, session, mentee_user):
    client.force_login(mentee_user)
    response = client.get(invite_url(session))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    # 19:30 on Monday 30 November in Kolkata.
    assert response["Content-Disposition"] == (
        'attachment; filename="mentorship-session-2026-11-30.ics"'
    )
    assert response["Cache-Control"] == "private, no-store"

    calendar, event = the_event(response.content)
    assert str(calendar["PRODID"]) == "-//Mentorship//Sessions//EN"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "PUBLISH"

    assert str(event["UID"]) == f"{session.ical_uid}@{UID_DOMAIN}"
    assert event.decoded("SEQUENCE") == 0
    assert event.decoded("DTSTAMP") == NOW
    assert event.decoded("DTSTART") == session.start == MONDAY_14_UTC
    assert event.decoded("DTEND") == session.end == MONDAY_14_UTC + timedelta(minutes=30)
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    raw = unfolded(response.content)
    assert "\r\nDTSTAMP:20261126T120000Z\r\n" in raw
    assert "\r\nDTSTART:20261130T140000Z\r\n" in raw
    assert "\r\nDTEND:20261130T143000Z\r\n" in raw

    assert str(event["SUMMARY"]) == "Intro call: Maya Mentor & Kiran Mentee"
    assert str(event["DESCRIPTION"]) == (f"Topic: Moving into data science\n\nJoin: {MEETING_URL}")
    assert str(event["URL"]) == MEETING_URL
    assert str(event["LOCATION"]) == MEETING_URL
    assert str(event["STATUS"]) == "CONFIRMED"

    # The platform organizes under the mentor's name; the reader is the one
    # attendee; the mentor's address is nowhere in the mentee's file.
    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:noreply@mentorship.example"
    assert organizer.params["CN"] == "Maya Mentor"
    attendee = event["ATTENDEE"]
    assert not isinstance(attendee, list), "the reader is the one attendee"
    assert str(attendee) == "mailto:kiran@example.com"
    assert b"maya@example.com" not in response.content
    assert attendee.params["CN"] == "Kiran Mentee"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    assert attendee.params["PARTSTAT"] == "ACCEPTED"


def test_the_mentor_gets_the_same_event_with_the_link(client, session, mentee_user, mentor_user):
    _, for_mentee = fetch(client, mentee_user, session)
    _, for_mentor = fetch(client, mentor_user, session)
    assert str(for_mentor["URL"]) == MEETING_URL
    for name in ("UID", "SEQUENCE", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "ORGANIZER"):
        assert for_mentor[name] == for_mentee[name], name


def test_the_file_name_carries_the_date_in_the_readers_zone(client, session, mentee_user):
    # 20:00 UTC: 15:00 on Monday in New York, 01:30 on Tuesday in Kolkata.
    Session.objects.filter(pk=session.pk).update(
        start=datetime(2026, 11, 30, 20, 0, tzinfo=UTC),
        end=datetime(2026, 11, 30, 20, 30, tzinfo=UTC),
    )
    client.force_login(mentee_user)
    response = client.get(invite_url(session))
    assert 'filename="mentorship-session-2026-12-01.ics"' in response["Content-Disposition"]
    client.force_login(session.mentor.user)
    response = client.get(invite_url(session))
    assert 'filename="mentorship-session-2026-11-30.ics"' in response["Content-Disposition"]


def test_the_uid_and_stamp_are_stable_across_requests(client, session, mentee_user, frozen_now):
    _, first = fetch(client, mentee_user, session)
    frozen_now.move_to(NOW + timedelta(hours=1))
    _, second = fetch(client, mentee_user, session)
    assert str(first["UID"]) == str(second["UID"]) == f"{session.ical_uid}@{UID_DOMAIN}"
    # DTSTAMP is when the session last changed (here: was booked), not when
    # the file was made: two downloads of one revision are the same event.
    assert first.decoded("DTSTAMP") == second.decoded("DTSTAMP") == session.ical_revised_at == NOW


def test_a_reschedule_chain_is_one_event_with_a_rising_sequence(client, session, mentee_user):
    """The rescheduled session keeps the UID and carries the higher SEQUENCE."""
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED, cancelled_at=NOW)
    moved = SessionFactory(
        mentor=session.mentor,
        mentee=session.mentee,
        title="Intro call",
        start=MONDAY_14_UTC + timedelta(days=1),
        meeting_url=MEETING_URL,
        rescheduled_from=session,
        ical_uid=session.ical_uid,
        ical_sequence=3,
    )
    _, old = fetch(client, mentee_user, session)
    _, new = fetch(client, mentee_user, moved)

    assert str(old["UID"]) == str(new["UID"]) == f"{session.ical_uid}@{UID_DOMAIN}"
    assert old.decoded("SEQUENCE") == 0
    assert new.decoded("SEQUENCE") == 3
    assert new.decoded("DTSTART") == MONDAY_14_UTC + timedelta(days=1)
    assert str(old["STATUS"]) == "CANCELLED"
    assert str(new["STATUS"]) == "CONFIRMED"


def test_a_cancelled_session_is_a_cancelled_event_without_the_link(client, session, mentee_user):
    Session.objects.filter(pk=session.pk).update(
        status=Session.Status.CANCELLED, cancelled_at=NOW, cancellation_reason="Ill"
    )
    client.force_login(mentee_user)
    response = client.get(invite_url(session))
    calendar, event = the_event(response.content)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(event["STATUS"]) == "CANCELLED"
    assert MEETING_URL.encode() not in response.content
    assert "URL" not in event and "LOCATION" not in event


def test_a_non_ascii_name_and_topic_round_trip(client, mentee_user):
    mentor = UserFactory(name="Zoë Ñandú-Łukasiewicz", email="zoe@example.com")
    mentee_user.name = "山田 太郎"
    mentee_user.save()
    topic = "Café ☕ — préparer un entretien, «système» design " * 3
    session = SessionFactory(
        mentor=MentorProfileFactory(user=mentor),
        mentee=MenteeProfileFactory(user=mentee_user),
        title="Revue de CV",
        start=MONDAY_14_UTC,
        topic=topic,
        meeting_url=MEETING_URL,
    )
    client.force_login(mentee_user)
    content = client.get(invite_url(session)).content

    _, event = the_event(content)
    assert str(event["SUMMARY"]) == "Revue de CV: Zoë Ñandú-Łukasiewicz & 山田 太郎"
    assert str(event["DESCRIPTION"]).startswith(f"Topic: {topic}\n\n")
    assert event["ORGANIZER"].params["CN"] == "Zoë Ñandú-Łukasiewicz"
    assert event["ATTENDEE"].params["CN"] == "山田 太郎"  # the reader
    # Folded at 75 octets without splitting a character (decoding would fail).
    content.decode("utf-8")
    assert all(len(line) <= 75 for line in content.split(b"\r\n"))


def test_a_topic_with_newlines_commas_and_semicolons_is_escaped(client, session, mentee_user):
    Session.objects.filter(pk=session.pk).update(
        topic="Salary, equity; and\r\nnotice period\\ two lines"
    )
    client.force_login(mentee_user)
    content = client.get(invite_url(session)).content

    raw = unfolded(content)
    assert (
        "\r\nDESCRIPTION:Topic: Salary\\, equity\\; and\\nnotice period\\\\ two lines\\n\\nJoin: "
        in raw
    )
    _, event = the_event(content)
    assert str(event["DESCRIPTION"]) == (
        f"Topic: Salary, equity; and\nnotice period\\ two lines\n\nJoin: {MEETING_URL}"
    )


def test_a_name_with_quotes_and_separators_stays_one_parameter(client, session, mentor_user):
    mentor_user.name = 'Sam "Sunny" O\'Neil, Jr.; PhD: data'
    mentor_user.save()
    _, event = fetch(client, mentor_user, session)
    assert event["ORGANIZER"].params["CN"] == 'Sam "Sunny" O\'Neil, Jr.; PhD: data'
    assert str(event["ORGANIZER"]) == "mailto:noreply@mentorship.example"
    assert str(event["SUMMARY"]).startswith('Intro call: Sam "Sunny" O\'Neil, Jr.; PhD: data & ')


# --- who may have it ----------------------------------------------------------------------------


def test_staff_get_the_file_without_the_meeting_link(client, session):
    client.force_login(UserFactory(is_staff=True))
    response = client.get(invite_url(session))
    assert response.status_code == 200
    assert MEETING_URL.encode() not in response.content
    _, event = the_event(response.content)
    assert "URL" not in event and "LOCATION" not in event
    assert str(event["DESCRIPTION"]) == "Topic: Moving into data science"
    assert str(event["SUMMARY"]) == "Intro call: Maya Mentor & Kiran Mentee"


def test_staff_who_take_part_get_the_link(client, session, mentor_user):
    mentor_user.is_staff = True
    mentor_user.save()
    _, event = fetch(client, mentor_user, session)
    assert str(event["URL"]) == MEETING_URL


def test_anyone_else_gets_404(client, session):
    client.force_login(UserFactory())
    assert client.get(invite_url(session)).status_code == 404


def test_an_unknown_session_is_404(client, mentee_user):
    client.force_login(mentee_user)
    url = reverse("scheduling:session_invite", kwargs={"session_id": uuid.uuid4()})
    assert client.get(url).status_code == 404


def test_the_file_needs_a_sign_in(client, session):
    response = client.get(invite_url(session))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={invite_url(session)}"


def test_the_file_is_get_and_head_only(client, session, mentee_user):
    client.force_login(mentee_user)
    assert client.post(invite_url(session)).status_code == 405
    head = client.head(invite_url(session))
    assert head.status_code == 200
    assert head["Content-Type"] == "text/calendar; charset=utf-8"


# The Django session, the user, the session with both people.
INVITE_QUERIES = 3


@pytest.mark.parametrize("viewer", ["mentee", "mentor", "staff"])
def test_the_file_query_budget(client, session, viewer, django_assert_max_num_queries):
    users = {
        "mentee": session.mentee.user,
        "mentor": session.mentor.user,
        "staff": UserFactory(is_staff=True),
    }
    client.force_login(users[viewer])
    with django_assert_max_num_queries(INVITE_QUERIES):
        assert client.get(invite_url(session)).status_code == 200


# --- the builder, as the notification emails will use it ----------------------------------------


def test_a_cancel_message_cancels_the_same_event(session):
    calendar, event = the_event(session_calendar(session, method="CANCEL"))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == f"{session.ical_uid}@{UID_DOMAIN}"
    assert event.decoded("SEQUENCE") == session.ical_sequence
    assert "URL" not in event


def test_a_request_carries_the_sequence(session):
    Session.objects.filter(pk=session.pk).update(ical_sequence=2)
    session.refresh_from_db()
    calendar, event = the_event(session_calendar(session, method="REQUEST"))
    assert str(calendar["METHOD"]) == "REQUEST"
    assert event.decoded("SEQUENCE") == 2
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["URL"]) == MEETING_URL


def test_an_unknown_method_is_refused(session):
    with pytest.raises(ValueError, match="REPLY"):
        session_calendar(session, method="REPLY")


def test_the_uid_domain_defaults_when_not_configured(session, settings):
    del settings.ICAL_UID_DOMAIN
    _, event = the_event(session_calendar(session))
    assert str(event["UID"]) == f"{session.ical_uid}@mentorship.local"
