"""``book_session``: the rules a booking must pass, one test per refusal.

A mentor in New York with weekday hours 09:00–12:00, no buffer and no minimum
notice (unless a test says otherwise); ``now`` is passed explicitly everywhere.
Every refusal must raise ``BookingRefused`` with a message for the user and
write nothing: no ``Session`` row, and no ``MenteeProfile`` for a first-time
mentee either.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from mentorship.models import MenteeProfile, MentorProfile
from mentorship.services import update_mentor_profile
from scheduling.booking import TOPIC_MAX_LENGTH, BookingRefused, SlotTaken
from scheduling.models import Session, SessionType
from scheduling.tests.factories import NOW, TUESDAY_9, SessionFactory, book, new_york_mentor, ny

pytestmark = pytest.mark.django_db


@pytest.fixture
def mentor():
    return new_york_mentor(starting=NOW.date())


@pytest.fixture
def hour(mentor) -> SessionType:
    return mentor.session_types.get(slug="mentoring-session")


def assert_refused(match, *, exception=BookingRefused, mentee_user=None, **kwargs):
    """``book(...)`` raises ``exception`` with a message matching ``match`` and
    writes nothing. Returns the exception."""
    mentee_user = mentee_user or UserFactory()
    had_profile = MenteeProfile.objects.filter(user=mentee_user).exists()
    sessions_before = set(Session.objects.values_list("pk", flat=True))
    with pytest.raises(exception, match=match) as info:
        book(mentee_user, **kwargs)
    assert set(Session.objects.values_list("pk", flat=True)) == sessions_before
    if not had_profile:
        assert not MenteeProfile.objects.filter(user=mentee_user).exists()
    message = str(info.value)
    assert message and message[0].isupper() and message.endswith(".")
    return info.value


# --- The happy path ---------------------------------------------------------------------------


def test_booking_creates_an_upcoming_session_with_a_snapshot_and_a_meeting_link(mentor, intro):
    mentee_user = UserFactory()
    assert not MenteeProfile.objects.filter(user=mentee_user).exists()

    session = book(mentee_user, mentor, intro, TUESDAY_9, topic="  Career change  ")

    session = Session.objects.get(pk=session.pk)  # what was stored
    assert session.mentor == mentor
    assert session.mentee == MenteeProfile.objects.get(user=mentee_user)  # created on the way
    assert session.session_type == intro
    assert session.title == "Intro call"
    assert session.duration_minutes == 30
    assert session.start == TUESDAY_9
    assert session.end == TUESDAY_9 + timedelta(minutes=30)
    assert session.status == Session.Status.UPCOMING
    assert session.topic == "Career change"
    assert session.meeting_url.startswith(settings.MEETING_BASE_URL.rstrip("/") + "/")
    assert session.meeting_url.endswith("/" + session.meeting_id)
    # An unguessable room: at least 128 bits of randomness after the prefix.
    assert len(session.meeting_id.removeprefix("mentorship-")) >= 22


def test_the_snapshot_survives_a_change_of_the_session_type(mentor, hour):
    session = book(UserFactory(), mentor, hour, TUESDAY_9)
    SessionType.objects.filter(pk=hour.pk).update(name="Deep dive", duration_minutes=90)
    session.refresh_from_db()
    assert (session.title, session.duration_minutes) == ("Mentoring session", 60)
    assert session.end - session.start == timedelta(minutes=60)


def test_two_bookings_get_different_meeting_rooms(mentor, intro):
    first = book(UserFactory(), mentor, intro, TUESDAY_9)
    second = book(UserFactory(), mentor, intro, TUESDAY_9 + timedelta(minutes=30))
    assert first.meeting_id != second.meeting_id
    assert first.meeting_url != second.meeting_url


def test_an_existing_mentee_profile_is_reused(mentor, intro):
    mentee_user = UserFactory()
    profile = MenteeProfile.objects.create(user=mentee_user, goals="Lead a team.")
    session = book(mentee_user, mentor, intro, TUESDAY_9)
    assert session.mentee_id == profile.pk
    assert MenteeProfile.objects.filter(user=mentee_user).count() == 1


def test_the_slot_in_the_last_minute_of_the_window_is_bookable(mentor, intro):
    session = book(UserFactory(), mentor, intro, ny(2026, 6, 2, 11, 30))
    assert session.end == ny(2026, 6, 2, 12)


def test_a_topic_of_exactly_the_maximum_length_is_accepted(mentor, intro):
    session = book(UserFactory(), mentor, intro, TUESDAY_9, topic="x" * TOPIC_MAX_LENGTH)
    assert len(session.topic) == TOPIC_MAX_LENGTH


def test_back_to_back_sessions_of_different_lengths_are_allowed(mentor, intro, hour):
    book(UserFactory(), mentor, hour, TUESDAY_9)  # 09:00-10:00
    later = book(UserFactory(), mentor, intro, ny(2026, 6, 2, 10))  # 10:00-10:30
    assert later.start == ny(2026, 6, 2, 10)


# --- Refusals: time ----------------------------------------------------------------------------


def test_a_start_in_the_past_is_refused(mentor, intro):
    assert_refused(
        "already passed",
        mentor=mentor,
        session_type=intro,
        start=ny(2026, 6, 1, 9),  # Monday 09:00, and it is 10:00 in New York
        now=ny(2026, 6, 1, 10),
    )


def test_a_start_equal_to_now_is_refused(mentor, intro):
    assert_refused(
        "already passed", mentor=mentor, session_type=intro, start=TUESDAY_9, now=TUESDAY_9
    )


@pytest.mark.parametrize(
    "start",
    [
        ny(2026, 6, 2, 8, 30),  # before the hours
        ny(2026, 6, 2, 12),  # when they end
        ny(2026, 6, 2, 11, 45),  # would run past 12:00
        ny(2026, 6, 6, 9),  # Saturday
        ny(2026, 6, 2, 9).astimezone(ZoneInfo("Europe/Berlin")).replace(hour=9),  # 09:00 Berlin
    ],
    ids=["before", "at-end", "overruns", "saturday", "other-zone"],
)
def test_a_start_outside_the_availability_is_refused(mentor, intro, start):
    assert_refused("not available", mentor=mentor, session_type=intro, start=start)


@pytest.mark.parametrize("minute", [10, 15, 45, 1])
def test_a_start_off_the_slot_grid_is_refused(mentor, intro, minute):
    assert_refused(
        "not available", mentor=mentor, session_type=intro, start=ny(2026, 6, 2, 9, minute)
    )


def test_a_start_off_the_grid_of_the_longer_type_is_refused(mentor, hour):
    # 09:30 is a slot of the 30-minute type, not of the 60-minute one.
    assert_refused("not available", mentor=mentor, session_type=hour, start=ny(2026, 6, 2, 9, 30))


def test_a_start_inside_the_minimum_notice_is_refused():
    mentor = new_york_mentor(starting=NOW.date(), minimum_notice_minutes=48 * 60)
    intro = mentor.session_types.get(slug="intro-call")
    # Tuesday 09:00 is 25 hours away.
    assert_refused("not available", mentor=mentor, session_type=intro, start=TUESDAY_9)
    # Wednesday 09:00 is 49 hours away: bookable.
    assert book(UserFactory(), mentor, intro, ny(2026, 6, 3, 9)).pk


def test_a_start_beyond_the_horizon_is_refused(mentor, intro):
    assert mentor.booking_horizon_days == 60
    # The horizon ends Friday 31 July at 08:00 in New York (now + 60 days):
    # 09:00 that day is an hour beyond it, Thursday 30 July 09:00 inside it.
    assert_refused("not available", mentor=mentor, session_type=intro, start=ny(2026, 7, 31, 9))
    assert_refused("not available", mentor=mentor, session_type=intro, start=ny(2026, 8, 3, 9))
    assert book(UserFactory(), mentor, intro, ny(2026, 7, 30, 11, 30)).pk


def test_a_naive_start_is_refused(mentor, intro):
    assert_refused(
        "not valid", mentor=mentor, session_type=intro, start=TUESDAY_9.replace(tzinfo=None)
    )


# --- Refusals: who may book --------------------------------------------------------------------


def test_a_mentor_cannot_book_their_own_profile(mentor, intro):
    assert_refused(
        "yourself", mentee_user=mentor.user, mentor=mentor, session_type=intro, start=TUESDAY_9
    )


def test_an_unverified_email_is_refused(mentor, intro):
    assert_refused(
        "confirm your email",
        mentee_user=UserFactory(verified=False),
        mentor=mentor,
        session_type=intro,
        start=TUESDAY_9,
    )


def test_the_confirmed_address_may_differ_in_case(mentor, intro):
    mentee_user = UserFactory(verified=False, email="kiran@example.com")
    EmailAddress.objects.create(
        user=mentee_user, email="Kiran@Example.com", verified=True, primary=True
    )
    assert book(mentee_user, mentor, intro, TUESDAY_9).pk


def test_only_the_users_own_address_counts(mentor, intro):
    # Another confirmed address of theirs does not confirm the one they sign in with.
    mentee_user = UserFactory(verified=False)
    EmailAddress.objects.create(user=mentee_user, email=mentee_user.email, verified=False)
    EmailAddress.objects.create(user=mentee_user, email="other@example.com", verified=True)
    assert_refused(
        "confirm your email",
        mentee_user=mentee_user,
        mentor=mentor,
        session_type=intro,
        start=TUESDAY_9,
    )


def test_an_unverified_mentor_booking_another_is_refused(mentor, intro):
    # Their own mentor row is locked (and read) in the same query: still refused.
    other = new_york_mentor(starting=NOW.date())
    EmailAddress.objects.filter(user=other.user).update(verified=False)
    assert_refused(
        "confirm your email",
        mentee_user=other.user,
        mentor=mentor,
        session_type=intro,
        start=TUESDAY_9,
    )


def test_the_email_check_is_read_with_the_mentors_lock(mentor, intro):
    # No query of its own: it is an EXISTS in the query that locks the mentor.
    mentee_user = UserFactory(verified=False)
    with (
        CaptureQueriesContext(connection) as captured,
        pytest.raises(BookingRefused, match="confirm your email"),
    ):
        book(mentee_user, mentor, intro, TUESDAY_9)
    [lock] = [
        query["sql"] for query in captured.captured_queries if "SAVEPOINT" not in query["sql"]
    ]
    assert "account_emailaddress" in lock and "mentorship_mentorprofile" in lock
    assert not Session.objects.exists()
    assert not MenteeProfile.objects.filter(user=mentee_user).exists()


def test_an_inactive_user_is_refused(mentor, intro):
    assert_refused(
        "sign in",
        mentee_user=UserFactory(is_active=False),
        mentor=mentor,
        session_type=intro,
        start=TUESDAY_9,
    )


def test_a_mentor_not_accepting_bookings_is_refused(mentor, intro):
    update_mentor_profile(
        mentor=mentor, changes={"is_accepting_bookings": False}, tags=[], links={}
    )
    assert_refused("not taking bookings", mentor=mentor, session_type=intro, start=TUESDAY_9)


def test_the_mentor_row_is_read_fresh_not_from_the_callers_copy(mentor, intro):
    stale = MentorProfile.objects.get(pk=mentor.pk)
    MentorProfile.objects.filter(pk=mentor.pk).update(is_accepting_bookings=False)
    assert stale.is_accepting_bookings
    assert_refused("not taking bookings", mentor=stale, session_type=intro, start=TUESDAY_9)


# --- Refusals: what is booked ------------------------------------------------------------------


def test_an_inactive_session_type_is_refused(mentor, intro):
    SessionType.objects.filter(pk=intro.pk).update(is_active=False)
    intro.refresh_from_db()
    assert_refused("not offered", mentor=mentor, session_type=intro, start=TUESDAY_9)


def test_a_session_type_of_another_mentor_is_refused(mentor):
    other = new_york_mentor(starting=NOW.date())
    foreign = other.session_types.get(slug="intro-call")
    assert_refused("not offered", mentor=mentor, session_type=foreign, start=TUESDAY_9)


def test_an_overlong_topic_is_refused(mentor, intro):
    assert_refused(
        "1000 characters",
        mentor=mentor,
        session_type=intro,
        start=TUESDAY_9,
        topic="x" * (TOPIC_MAX_LENGTH + 1),
    )


# --- Refusals: conflicts -----------------------------------------------------------------------


def test_a_taken_slot_is_refused_with_slot_taken(mentor, intro):
    book(UserFactory(), mentor, intro, TUESDAY_9)
    assert_refused(
        "not available", exception=SlotTaken, mentor=mentor, session_type=intro, start=TUESDAY_9
    )


def test_the_same_mentee_cannot_book_the_same_slot_twice(mentor, intro):
    mentee_user = UserFactory()
    book(mentee_user, mentor, intro, TUESDAY_9)
    assert_refused(
        "not available",
        exception=SlotTaken,
        mentee_user=mentee_user,
        mentor=mentor,
        session_type=intro,
        start=TUESDAY_9,
    )


def test_a_shorter_session_inside_a_longer_one_is_refused(mentor, intro, hour):
    book(UserFactory(), mentor, hour, TUESDAY_9)  # 09:00-10:00
    assert_refused(
        "not available",
        exception=SlotTaken,
        mentor=mentor,
        session_type=intro,
        start=ny(2026, 6, 2, 9, 30),
    )


def test_a_longer_session_over_a_shorter_one_is_refused(mentor, intro, hour):
    book(UserFactory(), mentor, intro, ny(2026, 6, 2, 9, 30))  # 09:30-10:00
    assert_refused(
        "not available", exception=SlotTaken, mentor=mentor, session_type=hour, start=TUESDAY_9
    )


def test_the_mentees_own_overlapping_session_with_another_mentor_is_refused(mentor, hour):
    other = new_york_mentor(starting=NOW.date())
    other_intro = other.session_types.get(slug="intro-call")
    mentee_user = UserFactory()
    book(mentee_user, mentor, hour, TUESDAY_9)  # 09:00-10:00 with the first mentor
    error = assert_refused(
        "already have a session",
        mentee_user=mentee_user,
        mentor=other,
        session_type=other_intro,
        start=ny(2026, 6, 2, 9, 30),
    )
    assert not isinstance(error, SlotTaken)  # the slot is free: the mentee is not
    # Right after it ends is fine.
    assert book(mentee_user, other, other_intro, ny(2026, 6, 2, 10)).pk


def test_a_cancelled_session_frees_its_slot(mentor, intro, hour):
    first = book(UserFactory(), mentor, hour, TUESDAY_9)
    Session.objects.filter(pk=first.pk).update(status=Session.Status.CANCELLED, cancelled_at=NOW)
    again = book(UserFactory(), mentor, intro, ny(2026, 6, 2, 9, 30))
    assert again.status == Session.Status.UPCOMING
    assert Session.objects.blocking().filter(mentor=mentor).count() == 1


def test_a_cancelled_session_frees_the_mentee_too(mentor, intro):
    other = new_york_mentor(starting=NOW.date())
    mentee_user = UserFactory()
    first = book(mentee_user, mentor, intro, TUESDAY_9)
    Session.objects.filter(pk=first.pk).update(status=Session.Status.CANCELLED, cancelled_at=NOW)
    assert book(mentee_user, other, other.session_types.get(slug="intro-call"), TUESDAY_9).pk


# --- Refusals: limits --------------------------------------------------------------------------


def test_the_limit_with_one_mentor(mentor, intro):
    assert settings.MAX_UPCOMING_SESSIONS_WITH_ONE_MENTOR == 3
    mentee_user = UserFactory()
    for minutes in (0, 30, 60):
        book(mentee_user, mentor, intro, TUESDAY_9 + timedelta(minutes=minutes))
    assert_refused(
        "at most 3 upcoming sessions with one mentor",
        mentee_user=mentee_user,
        mentor=mentor,
        session_type=intro,
        start=ny(2026, 6, 3, 9),
    )
    # Another mentor is fine.
    other = new_york_mentor(starting=NOW.date())
    assert book(mentee_user, other, other.session_types.get(slug="intro-call"), ny(2026, 6, 3, 9))


def test_the_limit_per_mentee(mentor, intro):
    assert settings.MAX_UPCOMING_SESSIONS_PER_MENTEE == 10
    mentee_user = UserFactory()
    mentee = MenteeProfile.objects.create(user=mentee_user)
    # Ten upcoming sessions, at most two per mentor, on ten different days.
    others = [new_york_mentor(starting=NOW.date()) for _ in range(5)]
    for number in range(10):
        day = TUESDAY_9 + timedelta(days=7 * (number + 1))
        SessionFactory(mentor=others[number // 2], mentee=mentee, start=day)
    assert_refused(
        "at most 10 upcoming",
        mentee_user=mentee_user,
        mentor=mentor,
        session_type=intro,
        start=TUESDAY_9,
    )


def test_past_and_cancelled_sessions_do_not_count_towards_the_limits(mentor, intro):
    mentee_user = UserFactory()
    mentee = MenteeProfile.objects.create(user=mentee_user)
    for number in range(3):  # ended before now
        SessionFactory(mentor=mentor, mentee=mentee, start=NOW - timedelta(days=number + 1))
    for number in range(3):  # cancelled
        SessionFactory(
            mentor=mentor,
            mentee=mentee,
            start=TUESDAY_9 + timedelta(days=7 * (number + 1)),
            status=Session.Status.CANCELLED,
        )
    assert book(mentee_user, mentor, intro, TUESDAY_9).pk
