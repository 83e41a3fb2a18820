"""The booking transaction's two statements (``scheduling.booking``):
``lock_and_read_booking`` (the locks and every rule's data) and
``insert_booking`` (the session and its notifications, guarded against a
session the read's snapshot missed), the conditional lapsed-hold UPDATE, and
the booking's check of the requested start agreeing with the slot engine.

A mentor in New York with weekday hours 09:00-12:00 there; ``now`` is the
factories' ``NOW`` (Monday morning).
"""

import copy
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from mentorship.tests.factories import MenteeProfileFactory
from scheduling import booking
from scheduling.booking import (
    BookingRefused,
    _check_read,
    insert_booking,
    lock_and_read_booking,
)
from scheduling.models import Session
from scheduling.notifications import outbox
from scheduling.slots import available_slots, db_uuid_text
from scheduling.tests.factories import (
    NOW,
    TUESDAY_9,
    BusyIntervalFactory,
    SessionFactory,
    book,
    new_york_mentor,
    ny,
)

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def mentor():
    return new_york_mentor(starting=NOW.date())


def read(mentor, user, session_type, start):
    end = start + timedelta(minutes=session_type.duration_minutes)
    return lock_and_read_booking(mentor, user, session_type, start, end, NOW)


def test_one_statement_locks_and_reads_what_the_rules_need(mentor, intro):
    mentee_user = UserFactory()
    mentee = MenteeProfileFactory(user=mentee_user)
    other = new_york_mentor(starting=NOW.date(), name="Other Mentor")
    theirs = SessionFactory(
        mentor=other, mentee=mentee, start=ny(2026, 6, 3, 10), end=ny(2026, 6, 3, 11)
    )
    given = SessionFactory(mentor=mentor, start=ny(2026, 6, 2, 10), end=ny(2026, 6, 2, 11))
    lapsed = SessionFactory(
        mentor=mentor,
        start=TUESDAY_9,
        end=TUESDAY_9 + timedelta(minutes=30),
        status=Session.Status.PENDING,
        hold_expires_at=NOW - timedelta(minutes=1),
    )
    BusyIntervalFactory(mentor=mentor, start=TUESDAY_9 + timedelta(hours=1))

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        found = read(mentor, mentee_user, intro, TUESDAY_9)

    [sql] = [query["sql"] for query in queries.captured_queries if "SAVEPOINT" not in query["sql"]]
    if connection.vendor == "postgresql":
        assert "FOR UPDATE OF m" in sql and "FOR UPDATE)" in sql  # the mentor's and the mentee's
    assert found.mentor.pk == mentor.pk and found.mentor.buffer_minutes == mentor.buffer_minutes
    assert found.mentor.user.timezone == "America/New_York"
    assert found.offers_type and found.email_verified and not found.has_calendar
    assert found.mentee_id == mentee.pk and found.own_mentor_id is None
    assert [row[0] for row in found.mine] == [theirs.start]
    assert found.lapsed == [lapsed.pk]
    tags = sorted(row[0] for row in found.rows)
    assert tags.count("busy") == 1 and tags.count("session") == 1 and "window" in tags
    assert {db_uuid_text(seen) for seen in found.seen} >= {given.pk.hex, theirs.pk.hex}


def test_the_users_own_mentor_row_is_read_with_the_lock(mentor, intro):
    other = new_york_mentor(starting=NOW.date(), name="Other Mentor")
    found = read(mentor, other.user, intro, TUESDAY_9)
    assert found.own_mentor_id == other.pk and found.mentor.pk == mentor.pk


def test_a_mentor_row_that_is_gone_reads_no_mentor(mentor, intro):
    gone = copy.copy(mentor)
    gone.pk = UserFactory().pk  # no mentor row has this id
    assert read(gone, UserFactory(), intro, TUESDAY_9).mentor is None


def test_the_insert_guard_refuses_a_session_the_read_did_not_see(mentor, intro):
    mentee_user = UserFactory()
    mentee = MenteeProfileFactory(user=mentee_user)
    found = read(mentor, mentee_user, intro, TUESDAY_9)
    # Committed by someone else between the read's snapshot and the insert:
    # the mentee's own session with another mentor at the same time.
    other = new_york_mentor(starting=NOW.date(), name="Other Mentor")
    SessionFactory(mentor=other, mentee=mentee, start=TUESDAY_9, end=TUESDAY_9 + timedelta(hours=1))
    session = booking._new_session(
        found.mentor, mentee, intro, TUESDAY_9, TUESDAY_9 + timedelta(minutes=30), "", NOW, False
    )
    rows = outbox.rows([session], outbox.Kind.CONFIRMATION)

    assert insert_booking(found, session, rows) is None
    assert not Session.objects.filter(mentor=mentor).exists()

    # Read again (what ``_book`` does), the rules refuse it with their own words.
    again = read(mentor, mentee_user, intro, TUESDAY_9)
    with pytest.raises(BookingRefused, match="already have a session at that time"):
        _check_read(again, intro, TUESDAY_9, TUESDAY_9 + timedelta(minutes=30), NOW, hold=False)


def test_the_insert_writes_the_session_and_its_notifications_when_nothing_was_missed(mentor, intro):
    mentee_user = UserFactory()
    mentee = MenteeProfileFactory(user=mentee_user)
    found = read(mentor, mentee_user, intro, TUESDAY_9)
    session = booking._new_session(
        found.mentor, mentee, intro, TUESDAY_9, TUESDAY_9 + timedelta(minutes=30), "", NOW, False
    )
    ids = insert_booking(found, session, outbox.rows([session], outbox.Kind.CONFIRMATION))

    stored = Session.objects.get(pk=session.pk)
    assert (stored.mentor, stored.mentee, stored.start) == (mentor, mentee, TUESDAY_9)
    assert sorted(ids) == sorted(stored.notifications.values_list("pk", flat=True))
    assert set(stored.notifications.values_list("recipient_id", flat=True)) == {
        mentor.user_id,
        mentee_user.pk,
    }


def test_a_booking_racing_a_missed_session_reads_again_and_refuses(mentor, intro, monkeypatch):
    # The first read misses the mentee's session (as a read that waited on a
    # lock would); the guard stops the insert, the second read sees it.
    mentee_user = UserFactory()
    mentee = MenteeProfileFactory(user=mentee_user)
    other = new_york_mentor(starting=NOW.date(), name="Other Mentor")
    real = booking.lock_and_read_booking
    reads = []

    def read_then_someone_books(*args, **kwargs):
        found = real(*args, **kwargs)
        if not reads:
            SessionFactory(
                mentor=other, mentee=mentee, start=TUESDAY_9, end=TUESDAY_9 + timedelta(hours=1)
            )
        reads.append(found)
        return found

    monkeypatch.setattr(booking, "lock_and_read_booking", read_then_someone_books)
    with pytest.raises(BookingRefused, match="already have a session at that time"):
        book(mentee_user, mentor, intro, TUESDAY_9)
    assert len(reads) == 2
    assert not Session.objects.filter(mentor=mentor).exists()


EXPIRE = 'UPDATE "scheduling_session" SET "status" = \'expired\''


def test_a_lapsed_hold_at_the_time_is_expired_by_an_update_only_then(mentor, intro):
    hold = SessionFactory(
        mentor=mentor,
        start=TUESDAY_9,
        end=TUESDAY_9 + timedelta(minutes=30),
        status=Session.Status.PENDING,
        hold_expires_at=NOW - timedelta(minutes=1),
    )
    first, second = UserFactory(), UserFactory()
    with CaptureQueriesContext(connection) as queries:
        session = book(first, mentor, intro, TUESDAY_9)
    assert any(query["sql"].startswith(EXPIRE) for query in queries.captured_queries)
    hold.refresh_from_db()
    assert hold.status == Session.Status.EXPIRED
    assert Session.objects.get(pk=session.pk).status == Session.Status.UPCOMING

    later = TUESDAY_9 + timedelta(hours=1)
    with CaptureQueriesContext(connection) as queries:
        book(second, mentor, intro, later)
    assert not any(query["sql"].startswith("UPDATE") for query in queries.captured_queries)


@pytest.mark.parametrize(("buffer", "cap"), [(0, None), (15, None), (10, 2)])
def test_the_booking_check_agrees_with_the_slot_engine(buffer, cap, intro):
    # Every quarter hour of two days, some taken by sessions (the mentor's,
    # and one the mentor booked as a mentee), a busy time, a buffer and a
    # daily cap: the booking's check passes exactly where the engine offers.
    mentor = new_york_mentor(starting=NOW.date(), buffer_minutes=buffer, max_sessions_per_day=cap)
    intro = mentor.session_types.get(slug="intro-call")
    SessionFactory(mentor=mentor, start=ny(2026, 6, 2, 10), end=ny(2026, 6, 2, 10, 30))
    other = new_york_mentor(starting=NOW.date(), name="Other Mentor")
    SessionFactory(
        mentor=other,
        mentee=MenteeProfileFactory(user=mentor.user),
        start=ny(2026, 6, 3, 9, 30),
        end=ny(2026, 6, 3, 10),
    )
    BusyIntervalFactory(mentor=mentor, start=ny(2026, 6, 3, 11), end=ny(2026, 6, 3, 11, 20))
    user = UserFactory()
    day = ny(2026, 6, 2, 8)
    offered = {
        slot.start for slot in available_slots(mentor, intro, day, day + timedelta(days=2), now=NOW)
    }
    assert offered
    for step in range(2 * 24 * 4):
        start = day + timedelta(minutes=15 * step)
        found = read(mentor, user, intro, start)
        try:
            _check_read(found, intro, start, start + timedelta(minutes=30), NOW, hold=False)
        except BookingRefused:
            assert start not in offered, start
        else:
            assert start in offered, start
