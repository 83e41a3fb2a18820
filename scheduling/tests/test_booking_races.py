"""Double bookings under real concurrency.

Each booking runs in its own thread, so on its own database connection (Django
gives every thread one), and all threads are released together by a barrier.
The slot engine is slowed down a little (``slow_check``) so that every thread's
check-then-insert window overlaps the others': without the locks in
``book_session`` each thread would see the time free and insert.

The PostgreSQL-only test at the end bypasses the service and shows the
exclusion constraint ``session_no_overlap_per_mentor`` as the backstop.
"""

import time as clock
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import describe_outcomes, run_together, split_outcomes
from mentorship.models import MenteeProfile
from scheduling import booking, holds
from scheduling.booking import BookingRefused, SlotTaken, book_session
from scheduling.models import Session
from scheduling.tests.factories import NOW, TUESDAY_9, SessionFactory, new_york_mentor, ny

TUESDAY_930 = ny(2026, 6, 2, 9, 30)
THREAD_TIMEOUT = 60


def shared_memory_sqlite() -> bool:
    """True when the test database is SQLite's shared-cache in-memory database
    (Django's default for SQLite tests). Its connections lock whole tables and
    fail at once with "database table is locked" instead of waiting for the
    busy timeout, so concurrent writers are refused rather than queued: the
    service still answers SlotTaken (never a 500), but the races cannot show
    that a winner always exists or that bookings of different times all pass.
    A file test database (``DATABASES["default"]["TEST"]["NAME"]``) queues
    them like production SQLite does.
    """
    return connection.vendor == "sqlite" and connection.is_in_memory_db()


def expect_one_winner(booked, outcomes) -> None:
    if shared_memory_sqlite():
        assert len(booked) <= 1, describe_outcomes(outcomes)
    else:
        assert len(booked) == 1, describe_outcomes(outcomes)


@pytest.fixture
def slow_check(monkeypatch):
    """Widen the window between the slot check and the insert to 50 ms."""
    real = booking.available_slots

    def slow(*args, **kwargs):
        slots = real(*args, **kwargs)
        clock.sleep(0.05)
        return slots

    monkeypatch.setattr(booking, "available_slots", slow)


def booking_call(mentee_user, mentor, session_type, start):
    def call():
        return book_session(
            mentee_user=mentee_user,
            mentor=mentor,
            session_type=session_type,
            start=start,
            now=NOW,
        )

    return call


@pytest.mark.django_db(transaction=True)
def test_twelve_mentees_racing_for_one_slot_book_it_once(slow_check):
    mentor = new_york_mentor(starting=NOW.date())
    intro = mentor.session_types.get(slug="intro-call")
    mentees = [UserFactory() for _ in range(12)]  # none has a mentee profile yet

    outcomes = run_together([booking_call(user, mentor, intro, TUESDAY_9) for user in mentees])

    booked, refused = split_outcomes(outcomes, BookingRefused)
    expect_one_winner(booked, outcomes)
    assert len(booked) + len(refused) == 12
    assert all(isinstance(error, SlotTaken) for error in refused), describe_outcomes(outcomes)
    assert Session.objects.count() == len(booked)
    if not booked:
        return
    session = Session.objects.get()
    assert session.pk == booked[0].pk
    assert (session.start, session.end) == (TUESDAY_9, TUESDAY_9 + timedelta(minutes=30))
    # Refused mentees wrote nothing: only the winner got a mentee profile.
    assert list(MenteeProfile.objects.values_list("user_id", flat=True)) == [session.mentee.user_id]


def guest_hold_call(number, mentor, session_type, start):
    guest = holds.Guest(
        f"Visitor {number}", f"visitor{number}@example.com", "a passphrase 42", "UTC"
    )

    def call():
        return holds.hold_guest_booking(
            guest=guest, mentor=mentor, session_type=session_type, start=start, now=NOW
        )

    return call


@pytest.mark.django_db(transaction=True)
def test_six_visitors_and_six_mentees_racing_for_one_slot_make_one_hold_or_session(slow_check):
    """Issue 16: holds are covered by the same guarantees as bookings."""
    mentor = new_york_mentor(starting=NOW.date())
    intro = mentor.session_types.get(slug="intro-call")
    calls = [guest_hold_call(number, mentor, intro, TUESDAY_9) for number in range(6)]
    calls += [booking_call(UserFactory(), mentor, intro, TUESDAY_9) for _ in range(6)]

    outcomes = run_together(calls)

    won, refused = split_outcomes(outcomes, BookingRefused)
    expect_one_winner(won, outcomes)
    assert len(won) + len(refused) == 12
    assert all(isinstance(error, SlotTaken) for error in refused), describe_outcomes(outcomes)
    assert Session.objects.count() == len(won)
    # A refused visitor's account was rolled back with their hold.
    visitors = User.objects.filter(email__startswith="visitor")
    assert visitors.count() == sum(1 for row in won if row.status == Session.Status.PENDING)


@pytest.mark.django_db(transaction=True)
def test_overlapping_sessions_of_different_lengths_racing_book_at_most_one(slow_check):
    mentor = new_york_mentor(starting=NOW.date())
    intro = mentor.session_types.get(slug="intro-call")  # 30 minutes
    hour = mentor.session_types.get(slug="mentoring-session")  # 60 minutes
    first, second = UserFactory(), UserFactory()

    outcomes = run_together(
        [
            booking_call(first, mentor, hour, TUESDAY_9),  # 09:00-10:00
            booking_call(second, mentor, intro, TUESDAY_930),  # 09:30-10:00
        ]
    )

    booked, refused = split_outcomes(outcomes, BookingRefused)
    expect_one_winner(booked, outcomes)
    assert all(isinstance(error, SlotTaken) for error in refused), describe_outcomes(outcomes)
    assert Session.objects.blocking().filter(mentor=mentor).count() == len(booked)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("has_profile", [False, True], ids=["first-booking", "known-mentee"])
def test_one_mentee_racing_two_mentors_books_at_most_one(slow_check, has_profile):
    mentors = [new_york_mentor(starting=NOW.date()), new_york_mentor(starting=NOW.date())]
    mentee_user = UserFactory()
    if has_profile:
        MenteeProfile.objects.create(user=mentee_user)

    outcomes = run_together(
        [
            booking_call(
                mentee_user, mentor, mentor.session_types.get(slug="intro-call"), TUESDAY_9
            )
            for mentor in mentors
        ]
    )

    booked, refused = split_outcomes(outcomes, BookingRefused)
    expect_one_winner(booked, outcomes)
    assert len(booked) + len(refused) == 2
    assert Session.objects.filter(mentee__user=mentee_user).count() == len(booked)
    assert MenteeProfile.objects.filter(user=mentee_user).count() == (
        1 if booked or has_profile else 0
    )


@pytest.mark.django_db(transaction=True)
def test_races_for_different_slots_all_succeed(slow_check):
    """The locks serialize, they do not refuse: six mentees booking six
    different times of one mentor all get their session."""
    if shared_memory_sqlite():
        pytest.skip(
            "the in-memory SQLite test database refuses concurrent writers at once "
            "('database table is locked') instead of queueing them; use a file test database"
        )
    mentor = new_york_mentor(starting=NOW.date())
    intro = mentor.session_types.get(slug="intro-call")
    starts = [TUESDAY_9 + timedelta(minutes=30 * number) for number in range(6)]

    outcomes = run_together([booking_call(UserFactory(), mentor, intro, start) for start in starts])

    booked, refused = split_outcomes(outcomes, BookingRefused)
    assert not refused, describe_outcomes(outcomes)
    assert sorted(session.start for session in booked) == starts
    assert Session.objects.filter(mentor=mentor).count() == 6


@pytest.mark.django_db(transaction=True)
def test_a_reschedule_racing_bookings_for_the_same_time_moves_or_changes_nothing(slow_check):
    """A mentee moving their session to 10:00 while five others book 10:00:
    exactly one gets the time. If the move loses, the session is still at
    09:00, upcoming; if it wins, the 09:00 session is cancelled and replaced."""
    mentor = new_york_mentor(starting=NOW.date())
    intro = mentor.session_types.get(slug="intro-call")
    mover = UserFactory()
    session = book_session(
        mentee_user=mover, mentor=mentor, session_type=intro, start=TUESDAY_9, now=NOW
    )
    ten = TUESDAY_9 + timedelta(hours=1)

    def move():
        return booking.reschedule_session(session=session, by=mover, start=ten, now=NOW)

    outcomes = run_together(
        [move] + [booking_call(UserFactory(), mentor, intro, ten) for _ in range(5)]
    )

    booked, refused = split_outcomes(outcomes, BookingRefused)
    expect_one_winner(booked, outcomes)
    assert all(isinstance(error, SlotTaken) for error in refused), describe_outcomes(outcomes)
    at_ten = Session.objects.blocking().filter(mentor=mentor, start=ten)
    assert at_ten.count() == len(booked)
    session.refresh_from_db()
    if outcomes[0][0] == "ok":
        assert session.status == Session.Status.CANCELLED
        assert at_ten.get().rescheduled_from_id == session.pk
    else:
        assert session.status == Session.Status.UPCOMING
        assert session.cancelled_at is None
    assert Session.objects.blocking().filter(mentor=mentor).count() == 1 + len(booked) - (
        outcomes[0][0] == "ok"
    )


@pytest.mark.django_db(transaction=True)
def test_two_mentors_booking_each_other_at_the_same_time_book_at_most_one(slow_check):
    """Each is the other's mentee: the mentor rows are locked in one order, so
    they neither deadlock into a 500 nor both succeed."""
    first, second = new_york_mentor(starting=NOW.date()), new_york_mentor(starting=NOW.date())

    outcomes = run_together(
        [
            booking_call(
                first.user, second, second.session_types.get(slug="intro-call"), TUESDAY_9
            ),
            booking_call(second.user, first, first.session_types.get(slug="intro-call"), TUESDAY_9),
        ]
    )

    booked, refused = split_outcomes(outcomes, BookingRefused)
    expect_one_winner(booked, outcomes)
    assert len(booked) + len(refused) == 2
    assert Session.objects.blocking().count() == len(booked)


# --- The database backstop -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_exclusion_constraint_refuses_overlapping_rows_of_one_mentor():
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL only")
    mentor = new_york_mentor(starting=NOW.date())
    start = datetime(2026, 6, 2, 13, 0, tzinfo=UTC)
    SessionFactory(mentor=mentor, start=start, duration_minutes=60)  # 13:00-14:00

    # Overlapping upcoming and active rows are refused by the database.
    for status, offset in [
        (Session.Status.UPCOMING, timedelta(minutes=30)),
        (Session.Status.ACTIVE, timedelta(minutes=-15)),  # 12:45-13:15
        (Session.Status.UPCOMING, timedelta(0)),
        (Session.Status.PENDING, timedelta(minutes=45)),  # a visitor's hold
    ]:
        with (
            pytest.raises(IntegrityError, match="session_no_overlap_per_mentor"),
            transaction.atomic(),
        ):
            SessionFactory(mentor=mentor, start=start + offset, duration_minutes=30, status=status)

    # A cancelled (or completed, or expired hold) overlapping row is allowed.
    SessionFactory(mentor=mentor, start=start, status=Session.Status.CANCELLED)
    SessionFactory(mentor=mentor, start=start, status=Session.Status.EXPIRED)
    SessionFactory(mentor=mentor, start=start, status=Session.Status.COMPLETED)
    # Ranges are half-open: back to back is allowed.
    SessionFactory(mentor=mentor, start=start + timedelta(hours=1), duration_minutes=30)
    # Another mentor at the same time is allowed.
    SessionFactory(mentor=new_york_mentor(starting=NOW.date()), start=start)
    assert Session.objects.blocking().filter(mentor=mentor).count() == 2
