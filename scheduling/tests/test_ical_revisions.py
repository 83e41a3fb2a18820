"""One calendar event through book → reschedule → cancel, as every channel shows it.

Every change sent to calendars is a revision (RFC 5545 §3.8.7.4): SEQUENCE
rises with each, the cancellation included (RFC 5546: a client acts on a
CANCEL only when it is newer than what it holds), and DTSTAMP is when that
change was made. The invites emailed, the ``invite.ics`` download and the
personal feed must say the same of one revision, however late they are built.

The clock is frozen (time-machine) and moved an hour between the changes:
booked Thursday 26 November 2026 12:00 UTC, moved 13:00, cancelled 14:00.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from icalendar import Calendar

from accounts.tests.factories import UserFactory
from scheduling.booking import book_session, cancel_session, reschedule_session
from scheduling.models import Session
from scheduling.notifications import outbox
from scheduling.notifications.feeds import feed_for
from scheduling.tests.factories import new_york_mentor

pytestmark = pytest.mark.django_db

BOOKED = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
MOVED = BOOKED + timedelta(hours=1)
CANCELLED = BOOKED + timedelta(hours=2)
MONDAY_14_UTC = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # 09:00 in New York


def events_in(content: bytes) -> list:
    return Calendar.from_ical(content).walk("VEVENT")


def emailed_invites(messages) -> list[tuple[str, object]]:
    """(METHOD, VEVENT) of each text/calendar part of ``messages``, in order."""
    found = []
    for message in messages:
        for part in message.message().walk():
            if part.get_content_type() == "text/calendar":
                calendar = Calendar.from_ical(part.get_payload(decode=True))
                [event] = calendar.walk("VEVENT")
                found.append((str(calendar["METHOD"]), event))
    return found


def revision(event) -> tuple[str, int, datetime, str]:
    return (
        str(event["UID"]),
        event.decoded("SEQUENCE"),
        event.decoded("DTSTAMP"),
        str(event["STATUS"]),
    )


@pytest.fixture
def people():
    mentor = new_york_mentor(starting=date(2026, 11, 23))
    mentee_user = UserFactory(name="Kiran Mentee", timezone="Asia/Kolkata")
    return mentor, mentee_user


def test_sequence_rises_and_dtstamp_is_the_change_in_emails_downloads_and_the_feed(
    client, people, time_machine, django_capture_on_commit_callbacks
):
    mentor, mentee_user = people
    intro = mentor.session_types.get(slug="intro-call")
    feed = feed_for(user=mentee_user)
    client.force_login(mentee_user)

    def download(session: Session):
        response = client.get(reverse("scheduling:session_invite", args=[session.pk]))
        assert response.status_code == 200
        [event] = events_in(response.content)
        return event

    def in_feed() -> list:
        response = client.get(reverse("scheduling:calendar_feed_ics", args=[feed.token]))
        assert response.status_code == 200
        return events_in(response.content)

    time_machine.move_to(BOOKED, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        session = book_session(
            mentee_user=mentee_user, mentor=mentor, session_type=intro, start=MONDAY_14_UTC
        )
    uid = revision(download(session))[0]
    booked = (uid, 0, BOOKED, "CONFIRMED")
    assert [(method, revision(event)) for method, event in emailed_invites(mail.outbox)] == [
        ("REQUEST", booked),
        ("REQUEST", booked),
    ]
    assert revision(download(session)) == booked
    assert [revision(event) for event in in_feed()] == [booked]

    time_machine.move_to(MOVED, tick=False)
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        moved = reschedule_session(
            session=session, by=mentee_user, start=MONDAY_14_UTC + timedelta(days=1)
        )
    moved_revision = (uid, 1, MOVED, "CONFIRMED")
    assert [(method, revision(event)) for method, event in emailed_invites(mail.outbox[sent:])] == [
        ("REQUEST", moved_revision),
        ("REQUEST", moved_revision),
    ]
    assert revision(download(moved)) == moved_revision
    assert [revision(event) for event in in_feed()] == [moved_revision]
    # The old row, superseded by the move, keeps its revision: a client that
    # imports it holds a newer one and ignores it.
    assert revision(download(session)) == (uid, 0, BOOKED, "CANCELLED")

    time_machine.move_to(CANCELLED, tick=False)
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session=moved, by=mentor.user, reason="Ill, sorry.")
    cancelled_revision = (uid, 2, CANCELLED, "CANCELLED")
    assert [(method, revision(event)) for method, event in emailed_invites(mail.outbox[sent:])] == [
        ("CANCEL", cancelled_revision),
        ("CANCEL", cancelled_revision),
    ]
    assert revision(download(moved)) == cancelled_revision
    assert in_feed() == []  # the feed drops a cancelled session

    # Built again a day later, the files still describe the same revisions.
    time_machine.move_to(CANCELLED + timedelta(days=1), tick=False)
    assert revision(download(moved)) == cancelled_revision
    assert revision(download(session)) == (uid, 0, BOOKED, "CANCELLED")

    # Each channel saw a strictly rising SEQUENCE for the one UID.
    emailed = [revision(event)[1] for _method, event in emailed_invites(mail.outbox)[::2]]
    assert emailed == [0, 1, 2]


def test_a_late_delivery_carries_the_stamp_of_the_change_not_of_the_send(people, time_machine):
    """The outbox may send hours after the change (after a broker outage,
    say): the invite still describes the change."""
    mentor, mentee_user = people
    intro = mentor.session_types.get(slug="intro-call")
    time_machine.move_to(BOOKED, tick=False)
    # Not run on commit: nothing is delivered now.
    session = book_session(
        mentee_user=mentee_user, mentor=mentor, session_type=intro, start=MONDAY_14_UTC
    )
    assert mail.outbox == []

    time_machine.move_to(BOOKED + timedelta(hours=3), tick=False)
    outcomes = [
        outbox.deliver(pk).status for pk in session.notifications.values_list("pk", flat=True)
    ]

    assert outcomes == ["sent", "sent"]
    assert [revision(event)[1:3] for _method, event in emailed_invites(mail.outbox)] == [
        (0, BOOKED),
        (0, BOOKED),
    ]
