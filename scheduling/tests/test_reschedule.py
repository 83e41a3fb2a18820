"""``reschedule_session``: move a session in one transaction, or change nothing.

The same New York mentor as in ``test_booking`` (weekday hours 09:00–12:00,
no buffer, no notice, a 12-hour cancellation cutoff); ``now`` is Monday
1 June 2026, 08:00 in New York.
"""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.db import IntegrityError

from accounts.tests.factories import UserFactory
from mentorship.services import update_mentor_profile
from scheduling import booking
from scheduling.booking import BookingRefused, SlotTaken, book_session, reschedule_session
from scheduling.models import Session
from scheduling.slots import available_slots
from scheduling.tests.factories import NOW, SessionFactory, book, new_york_mentor, ny

pytestmark = pytest.mark.django_db

TUESDAY_9 = ny(2026, 6, 2, 9)
WEDNESDAY_10 = ny(2026, 6, 3, 10)


@pytest.fixture
def mentor():
    return new_york_mentor(starting=NOW.date())


@pytest.fixture
def hour(mentor):
    return mentor.session_types.get(slug="mentoring-session")


@pytest.fixture
def mentee():
    return UserFactory()


@pytest.fixture
def session(mentee, mentor, hour):
    return book(mentee, mentor, hour, TUESDAY_9, topic="Career change")


def move(session, by, start, now=NOW):
    return reschedule_session(session=session, by=by, start=start, now=now)


def snapshot():
    return sorted(
        Session.objects.values_list("pk", "status", "start", "cancelled_at", "cancellation_reason")
    )


def assert_refused(match, session, by, start, *, exception=BookingRefused, now=NOW):
    before = snapshot()
    with pytest.raises(exception, match=match) as info:
        move(session, by, start, now=now)
    assert snapshot() == before
    message = str(info.value)
    assert message[0].isupper() and message.endswith(".")


def test_moves_the_session_keeping_its_details_and_calendar_event(session, mentee):
    moved = move(session, mentee, WEDNESDAY_10)

    old = Session.objects.get(pk=session.pk)
    assert old.status == Session.Status.CANCELLED
    assert old.cancelled_by == mentee
    assert old.cancelled_at == NOW
    assert old.cancellation_reason == "Rescheduled by the mentee."
    assert old.rescheduled_to == moved

    assert moved.status == Session.Status.UPCOMING
    assert (moved.start, moved.end) == (WEDNESDAY_10, WEDNESDAY_10 + timedelta(hours=1))
    assert moved.rescheduled_from == old
    assert (moved.mentor, moved.mentee, moved.session_type) == (
        old.mentor,
        old.mentee,
        old.session_type,
    )
    assert (moved.title, moved.duration_minutes, moved.topic) == (
        old.title,
        old.duration_minutes,
        "Career change",
    )
    assert (moved.meeting_id, moved.meeting_url) == (old.meeting_id, old.meeting_url)
    assert moved.ical_uid == old.ical_uid
    assert moved.ical_sequence == old.ical_sequence + 1


def test_a_second_move_raises_the_sequence_again(session, mentee):
    first = move(session, mentee, WEDNESDAY_10)
    second = move(first, mentee, ny(2026, 6, 4, 11))
    assert second.ical_uid == session.ical_uid
    assert second.ical_sequence == 2
    assert Session.objects.blocking().count() == 1


def test_its_own_time_does_not_stand_in_the_way(mentee):
    """With a 15-minute buffer, a session at 09:00 keeps 10:00 from being
    booked by anyone else; its own mentee may move it there."""
    mentor = new_york_mentor(starting=NOW.date(), buffer_minutes=15)
    hour = mentor.session_types.get(slug="mentoring-session")
    session = book(mentee, mentor, hour, TUESDAY_9)
    ten = ny(2026, 6, 2, 10)
    with pytest.raises(SlotTaken):
        book(UserFactory(), mentor, hour, ten)
    assert move(session, mentee, ten).start == ten


def test_frees_the_old_time_and_takes_the_new(session, mentee, mentor, hour):
    moved = move(session, mentee, WEDNESDAY_10)
    tuesday = available_slots(mentor, hour, TUESDAY_9, TUESDAY_9 + timedelta(hours=3), now=NOW)
    wednesday = available_slots(mentor, hour, ny(2026, 6, 3, 9), ny(2026, 6, 3, 12), now=NOW)
    assert TUESDAY_9 in [slot.start for slot in tuesday]
    assert moved.start not in [slot.start for slot in wednesday]


def test_the_mentor_cannot_move_it(session, mentor):
    assert_refused("Only the mentee", session, mentor.user, WEDNESDAY_10)


def test_an_outsider_cannot_move_it(session):
    assert_refused("Only the mentee", session, UserFactory(), WEDNESDAY_10)


def test_refused_past_the_cutoff(session, mentee):
    late = TUESDAY_9 - timedelta(hours=11)
    assert_refused("up to 12 hours", session, mentee, WEDNESDAY_10, now=late)


def test_refused_once_started_or_cancelled(session, mentee, mentor):
    assert_refused("no longer", session, mentee, WEDNESDAY_10, now=TUESDAY_9)
    booking.cancel_session(session=session, by=mentor.user, now=NOW)
    assert_refused("no longer", session, mentee, WEDNESDAY_10)


def test_refused_to_the_same_time(session, mentee):
    assert_refused("current time", session, mentee, TUESDAY_9)


@pytest.mark.parametrize(
    "start",
    [
        ny(2026, 6, 3, 8),  # outside the hours
        ny(2026, 6, 3, 9, 7),  # not on the grid
        ny(2026, 6, 3, 11, 30),  # would end after 12:00
        ny(2026, 6, 6, 10),  # Saturday
        ny(2026, 5, 29, 10),  # in the past
    ],
    ids=["outside", "misaligned", "overruns", "weekend", "past"],
)
def test_refused_to_a_time_not_offered(session, mentee, start):
    assert_refused("not available|passed", session, mentee, start)


def test_refused_to_a_taken_time(session, mentee, mentor, hour):
    book(UserFactory(), mentor, hour, WEDNESDAY_10)
    assert_refused("not available", session, mentee, WEDNESDAY_10, exception=SlotTaken)


def test_refused_into_the_mentees_own_other_session(session, mentee):
    other_mentor = new_york_mentor(starting=NOW.date())
    other_type = other_mentor.session_types.get(slug="intro-call")
    book(mentee, other_mentor, other_type, WEDNESDAY_10)
    assert_refused("already have a session", session, mentee, WEDNESDAY_10)


def test_refused_when_the_mentor_stopped_taking_bookings(session, mentee, mentor):
    update_mentor_profile(
        mentor=mentor, changes={"is_accepting_bookings": False}, tags=[], links={}
    )
    assert_refused("not taking bookings", session, mentee, WEDNESDAY_10)


def test_the_moved_session_does_not_count_twice_against_the_limits(settings, mentee, mentor, hour):
    settings.MAX_UPCOMING_SESSIONS_WITH_ONE_MENTOR = 1
    settings.MAX_UPCOMING_SESSIONS_PER_MENTEE = 1
    session = book(mentee, mentor, hour, TUESDAY_9)
    assert move(session, mentee, WEDNESDAY_10).start == WEDNESDAY_10


def test_a_type_changed_since_booking_keeps_the_sessions_length(session, mentee, hour):
    hour.duration_minutes = 30
    hour.save()
    moved = move(session, mentee, WEDNESDAY_10)
    assert moved.duration_minutes == 60
    assert moved.end - moved.start == timedelta(hours=1)


def test_a_naive_start_is_refused(session, mentee):
    assert_refused("not valid", session, mentee, WEDNESDAY_10.replace(tzinfo=None))


def test_a_failure_after_the_cancel_changes_nothing(session, mentee, monkeypatch):
    """The cancel and the insert are one transaction: if the insert fails, the
    old session is still upcoming and nothing new exists."""

    def insert_fails(**kwargs):
        raise IntegrityError("the insert failed")

    monkeypatch.setattr(Session.objects, "create", insert_fails)
    # Not the overlap constraint: a bug, which surfaces as it is (not "just taken").
    with pytest.raises(IntegrityError, match="the insert failed"):
        move(session, mentee, WEDNESDAY_10)
    assert Session.objects.get(pk=session.pk).status == Session.Status.UPCOMING


def test_booking_a_mentor_who_is_busy_as_a_mentee_is_refused(mentor, hour):
    """A mentor's own bookings as a mentee take their time too."""
    other_mentor = new_york_mentor(starting=NOW.date())
    book(mentor.user, other_mentor, other_mentor.session_types.get(slug="intro-call"), TUESDAY_9)
    slots = available_slots(mentor, hour, TUESDAY_9, TUESDAY_9 + timedelta(hours=3), now=NOW)
    assert [slot.start for slot in slots] == [ny(2026, 6, 2, 10), ny(2026, 6, 2, 11)]
    with pytest.raises(SlotTaken):
        book(UserFactory(), mentor, hour, TUESDAY_9)


def test_a_mentor_cannot_book_over_their_own_sessions_as_mentor(mentor, hour):
    book(UserFactory(), mentor, hour, TUESDAY_9)
    other_mentor = new_york_mentor(starting=NOW.date())
    with pytest.raises(BookingRefused, match="already have a session"):
        book_session(
            mentee_user=mentor.user,
            mentor=other_mentor,
            session_type=other_mentor.session_types.get(slug="intro-call"),
            start=ny(2026, 6, 2, 9, 30),
            now=NOW,
        )


def test_a_completed_session_of_the_mentee_does_not_block(session, mentee, mentor):
    SessionFactory(mentee=session.mentee, mentor=mentor, status="completed")
    assert move(session, mentee, WEDNESDAY_10).status == Session.Status.UPCOMING


def test_rescheduling_does_not_ask_again_for_a_confirmed_address(session, mentee):
    # Booking checked it; a move is not a new booking (unchanged behaviour).
    EmailAddress.objects.filter(user=mentee).update(verified=False)
    moved = move(session, mentee, WEDNESDAY_10)
    assert moved.start == WEDNESDAY_10
