"""``available_slots`` on real rows, its query budget, and the models' own checks."""

from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from scheduling.models import Availability, Session, SessionType
from scheduling.slots import available_slots
from scheduling.tests.factories import (
    AvailabilityFactory,
    BusyIntervalFactory,
    SessionFactory,
    SessionTypeFactory,
    mentor_without_hours,
)

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"


def new_york(*parts: int) -> datetime:
    """A New York wall-clock time as UTC (June: EDT, -04:00)."""
    return datetime(*parts, tzinfo=NEW_YORK).astimezone(UTC)


# Monday 1 June 2026, 08:00 in New York.
NOW = new_york(2026, 6, 1, 8)
WEEK = (new_york(2026, 6, 1), new_york(2026, 6, 7))

# Every mentor here: in New York, no hours until a test adds rows, a 10-minute
# buffer, no notice, bookable 90 days ahead; loaded with the user, as pages do.
mentor_in_new_york = partial(
    mentor_without_hours, zone="America/New_York", buffer_minutes=10, booking_horizon_days=90
)


def mornings(mentor, *, hours: int = 3, recurrence: str = WEEKDAYS, **options) -> Availability:
    """09:00 for ``hours`` hours, New York time, from Monday 1 June."""
    return AvailabilityFactory(
        mentor=mentor,
        start=new_york(2026, 6, 1, 9),
        end=new_york(2026, 6, 1, 9 + hours),
        recurrence=recurrence,
        **options,
    )


def half_hour_session(mentor, start: datetime, **options) -> Session:
    return SessionFactory(
        mentor=mentor,
        session_type=None,
        duration_minutes=30,
        start=start,
        end=start + timedelta(minutes=30),
        **options,
    )


def local_starts(slots) -> list[str]:
    return [f"{slot.start.astimezone(NEW_YORK):%a %H:%M}" for slot in slots]


def test_a_week_of_rules_overrides_sessions_and_busy_times():
    mentor = mentor_in_new_york()
    half_hour = SessionTypeFactory(mentor=mentor, duration_minutes=30)
    mornings(mentor)
    AvailabilityFactory(  # Tuesday afternoons too
        mentor=mentor,
        start=new_york(2026, 6, 2, 14),
        end=new_york(2026, 6, 2, 17),
        recurrence="RRULE:FREQ=WEEKLY;BYDAY=TU",
    )
    AvailabilityFactory(  # overrides: Wednesday morning off, Saturday morning on
        mentor=mentor,
        kind=Availability.Kind.BLOCKED,
        start=new_york(2026, 6, 3, 9),
        end=new_york(2026, 6, 3, 12),
    )
    AvailabilityFactory(mentor=mentor, start=new_york(2026, 6, 6, 10), end=new_york(2026, 6, 6, 12))
    half_hour_session(mentor, new_york(2026, 6, 1, 10))
    half_hour_session(mentor, new_york(2026, 6, 1, 11), status=Session.Status.CANCELLED)
    BusyIntervalFactory(mentor=mentor, start=new_york(2026, 6, 2, 9), end=new_york(2026, 6, 2, 10))
    # Another mentor's session and busy time change nothing here.
    other = mentor_in_new_york()
    half_hour_session(other, new_york(2026, 6, 4, 9))
    BusyIntervalFactory(mentor=other, start=new_york(2026, 6, 5, 9), end=new_york(2026, 6, 5, 12))

    slots = available_slots(mentor, half_hour, *WEEK, now=NOW)

    whole_morning = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert local_starts(slots) == [
        # 10:00 upcoming (10 minutes' buffer each side); 11:00 was cancelled
        *(f"Mon {hour}" for hour in ["09:00", "11:00", "11:30"]),
        # busy 09:00-10:00 from the calendar, plus the buffer
        *(f"Tue {hour}" for hour in ["10:30", "11:00", "11:30"]),
        *(f"Tue {hour}" for hour in ["14:00", "14:30", "15:00", "15:30", "16:00", "16:30"]),
        *(f"Thu {hour}" for hour in whole_morning),
        *(f"Fri {hour}" for hour in whole_morning),
        *(f"Sat {hour}" for hour in ["10:00", "10:30", "11:00", "11:30"]),
    ]


@pytest.mark.parametrize(
    ("status", "blocks"),
    [
        (Session.Status.UPCOMING, True),
        (Session.Status.ACTIVE, True),
        (Session.Status.COMPLETED, False),
        (Session.Status.NO_SHOW, False),
        (Session.Status.CANCELLED, False),
    ],
)
def test_only_upcoming_and_active_sessions_block_their_time(status, blocks):
    # A 09:00-09:30 session; it is 09:20. Finished early (completed) or never
    # attended, it leaves 09:30 free; still running, its buffer covers 09:30.
    mentor = mentor_in_new_york()
    half_hour = SessionTypeFactory(mentor=mentor, duration_minutes=30)
    mornings(mentor)
    half_hour_session(mentor, new_york(2026, 6, 1, 9), status=status)

    slots = available_slots(
        mentor,
        half_hour,
        new_york(2026, 6, 1),
        new_york(2026, 6, 2),
        now=new_york(2026, 6, 1, 9, 20),
    )

    assert ("Mon 09:30" not in local_starts(slots)) is blocks
    assert "Mon 10:00" in local_starts(slots)


@pytest.mark.parametrize(
    ("second_status", "monday_is_full"),
    [
        (Session.Status.UPCOMING, True),
        (Session.Status.COMPLETED, True),
        (Session.Status.NO_SHOW, True),
        (Session.Status.CANCELLED, False),
    ],
)
def test_the_daily_cap_counts_every_session_but_cancelled_ones(second_status, monday_is_full):
    mentor = mentor_in_new_york(max_sessions_per_day=2)
    hour = SessionTypeFactory(mentor=mentor, duration_minutes=60)
    mornings(mentor, hours=8)
    half_hour_session(mentor, new_york(2026, 6, 1, 7), status=Session.Status.COMPLETED)
    half_hour_session(mentor, new_york(2026, 6, 1, 16), status=second_status)

    slots = available_slots(mentor, hour, new_york(2026, 6, 1), new_york(2026, 6, 3), now=NOW)

    days = {slot.start.astimezone(NEW_YORK).date().day for slot in slots}
    assert (1 not in days) is monday_is_full
    assert 2 in days


def test_the_daily_cap_counts_sessions_by_the_mentors_local_date():
    # 22:00 on Monday in New York is 02:00 on Tuesday in UTC: it fills Monday.
    mentor = mentor_in_new_york(max_sessions_per_day=1)
    hour = SessionTypeFactory(mentor=mentor, duration_minutes=60)
    mornings(mentor)
    half_hour_session(mentor, new_york(2026, 6, 1, 22))

    slots = available_slots(mentor, hour, new_york(2026, 6, 1), new_york(2026, 6, 3), now=NOW)

    assert local_starts(slots) == ["Tue 09:00", "Tue 10:00", "Tue 11:00"]


def test_notice_and_horizon_come_from_the_mentor():
    mentor = mentor_in_new_york(minimum_notice_minutes=24 * 60, booking_horizon_days=3)
    hour = SessionTypeFactory(mentor=mentor, duration_minutes=60)
    mornings(mentor)

    slots = available_slots(mentor, hour, *WEEK, now=new_york(2026, 6, 1, 9, 30))

    # From Tuesday 09:30 (a day's notice) to Thursday 09:30 (three days ahead).
    assert local_starts(slots) == [
        "Tue 10:00",
        "Tue 11:00",
        "Wed 09:00",
        "Wed 10:00",
        "Wed 11:00",
        "Thu 09:00",
    ]


@pytest.mark.parametrize("obstacle", ["session", "busy"])
@pytest.mark.parametrize(
    ("obstacle_start", "obstacle_end"),
    [((9, 25), (9, 55)), ((11, 5), (11, 35))],
    ids=["ending-before-the-range", "starting-after-the-range"],
)
def test_obstacles_just_outside_the_range_asked_for_still_count(
    obstacle, obstacle_start, obstacle_end
):
    # Asked for starts in 10:00-10:30 only: the one candidate, 10:00-11:00, is
    # within the 10-minute buffer of something outside that range.
    mentor = mentor_in_new_york()
    hour = SessionTypeFactory(mentor=mentor, duration_minutes=60)
    mornings(mentor)
    start, end = new_york(2026, 6, 1, *obstacle_start), new_york(2026, 6, 1, *obstacle_end)
    if obstacle == "session":
        half_hour_session(mentor, start)
    else:
        BusyIntervalFactory(mentor=mentor, start=start, end=end)

    slots = available_slots(
        mentor, hour, new_york(2026, 6, 1, 10), new_york(2026, 6, 1, 10, 30), now=NOW
    )

    assert slots == []


def test_without_obstacles_that_range_offers_its_slot():
    mentor = mentor_in_new_york()
    hour = SessionTypeFactory(mentor=mentor, duration_minutes=60)
    mornings(mentor)

    slots = available_slots(
        mentor, hour, new_york(2026, 6, 1, 10), new_york(2026, 6, 1, 10, 30), now=NOW
    )

    assert local_starts(slots) == ["Mon 10:00"]


def test_a_mentor_without_availability_has_no_slots():
    mentor = mentor_in_new_york()
    hour = SessionTypeFactory(mentor=mentor, duration_minutes=60)
    BusyIntervalFactory(mentor=mentor, start=new_york(2026, 6, 2, 9))

    assert available_slots(mentor, hour, *WEEK, now=NOW) == []


# --- Query budget ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "rules", "sessions"),
    [(1, 1, 1), (62, 1, 1), (1, 20, 1), (1, 1, 40), (62, 20, 40)],
    ids=["1-day", "62-days", "20-rules", "40-sessions", "62-days-20-rules-40-sessions"],
)
def test_available_slots_reads_the_database_once_whatever_the_size(
    django_assert_num_queries, days, rules, sessions
):
    # One query (availability rows, sessions and busy intervals in one UNION
    # ALL, ``slots.schedule_sql``) however long the range and however many
    # rows: the mentor page must not grow an N+1 as a mentor adds rules or gets booked.
    mentor = mentor_in_new_york()
    hour = SessionTypeFactory(mentor=mentor, duration_minutes=60)
    mornings(mentor, hours=8, recurrence="RRULE:FREQ=DAILY")
    for index in range(1, rules):
        AvailabilityFactory(
            mentor=mentor,
            kind=Availability.Kind.BLOCKED if index % 2 else Availability.Kind.AVAILABLE,
            start=new_york(2026, 6, 1, 18) + timedelta(minutes=5 * index),
            end=new_york(2026, 6, 1, 19) + timedelta(minutes=5 * index),
            recurrence=f"RRULE:FREQ=WEEKLY;INTERVAL={index}",
        )
    for index in range(sessions):
        # One a day at 09:00 from Tuesday, spread over the longest range.
        half_hour_session(mentor, new_york(2026, 6, 2, 9) + timedelta(days=index))
        BusyIntervalFactory(mentor=mentor, start=new_york(2026, 6, 2, 15) + timedelta(days=index))
    start = new_york(2026, 6, 1)

    with django_assert_num_queries(1):
        slots = available_slots(mentor, hour, start, start + timedelta(days=days), now=NOW)

    assert slots
    assert slots[-1].start >= start + timedelta(days=days - 1)


# --- The models' own checks --------------------------------------------------------------------


def test_a_sound_availability_row_passes_full_clean():
    mentor = mentor_in_new_york()
    row = Availability(
        mentor=mentor,
        timezone="Asia/Kathmandu",
        start=datetime(2026, 6, 1, 3, 15, tzinfo=UTC),
        end=datetime(2026, 6, 1, 6, 15, tzinfo=UTC),
        recurrence="RRULE:FREQ=WEEKLY;BYDAY=MO,TH\nEXDATE:20260604T090000",
    )

    row.full_clean()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "EST5EDT-nope"}, "timezone"),
        ({"end": datetime(2026, 6, 1, 8, 0, tzinfo=UTC)}, "__all__"),
        ({"end": datetime(2026, 6, 1, 9, 0, tzinfo=UTC)}, "__all__"),
        ({"recurrence": "RRULE:FREQ=HOURLY"}, "recurrence"),
        ({"recurrence": "RRULE:FREQ=WEEKLY;BYDAY=MO;BYHOUR=9\nnonsense"}, "recurrence"),
        # Accepted, this would make available_slots raise TypeError (naive
        # occurrences against an aware EXDATE) on every page showing the slots.
        ({"recurrence": "RRULE:FREQ=WEEKLY;BYDAY=MO\nEXDATE:20260608T090000Z"}, "recurrence"),
    ],
    ids=[
        "unknown-zone",
        "made-up-zone",
        "end-before-start",
        "empty",
        "hourly",
        "garbage",
        "exdate-in-utc",
    ],
)
def test_availability_full_clean_refuses(changes, field):
    mentor = mentor_in_new_york()
    row = Availability(
        mentor=mentor,
        timezone="America/New_York",
        start=datetime(2026, 6, 1, 9, 0, tzinfo=UTC),
        end=datetime(2026, 6, 1, 12, 0, tzinfo=UTC),
        recurrence="RRULE:FREQ=WEEKLY;BYDAY=MO",
    )
    for name, value in changes.items():
        setattr(row, name, value)

    with pytest.raises(ValidationError) as refused:
        row.full_clean()

    assert field in refused.value.message_dict


@pytest.mark.parametrize("minutes", [10, 245, 32, 0])
def test_session_type_full_clean_refuses_a_bad_length(minutes):
    session_type = SessionType(
        mentor=mentor_in_new_york(), name="Chat", slug="chat", duration_minutes=minutes
    )

    with pytest.raises(ValidationError) as refused:
        session_type.full_clean()

    assert "duration_minutes" in refused.value.message_dict


@pytest.mark.parametrize("minutes", [15, 45, 240])
def test_session_type_full_clean_accepts_a_good_length(minutes):
    SessionType(
        mentor=mentor_in_new_york(), name="Chat", slug="chat", duration_minutes=minutes
    ).full_clean()


def skip_unless_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "the no-overlap exclusion constraint exists only on PostgreSQL "
            "(on SQLite book_session's write lock is the guarantee)"
        )


def test_postgresql_refuses_two_overlapping_sessions_of_one_mentor():
    skip_unless_postgresql()
    mentor = mentor_in_new_york()
    ten = new_york(2026, 6, 1, 10)
    half_hour_session(mentor, ten)

    with pytest.raises(IntegrityError), transaction.atomic():
        half_hour_session(mentor, ten + timedelta(minutes=15))
    with pytest.raises(IntegrityError), transaction.atomic():
        half_hour_session(mentor, ten + timedelta(minutes=15), status=Session.Status.ACTIVE)

    # A cancelled session may overlap, sessions may touch, other mentors are free.
    half_hour_session(mentor, ten, status=Session.Status.CANCELLED)
    half_hour_session(mentor, ten + timedelta(minutes=30))
    half_hour_session(mentor_in_new_york(), ten)
    assert Session.objects.filter(start__gte=ten, start__lt=ten + timedelta(hours=1)).count() == 4


def test_postgresql_checks_the_overlap_in_full_clean_too():
    skip_unless_postgresql()
    mentor = mentor_in_new_york()
    existing = half_hour_session(mentor, new_york(2026, 6, 1, 10))
    overlapping = Session(
        mentor=mentor,
        mentee=existing.mentee,
        title="Second",
        duration_minutes=30,
        start=existing.start + timedelta(minutes=15),
        end=existing.end + timedelta(minutes=15),
    )

    with pytest.raises(ValidationError):
        overlapping.full_clean()

    overlapping.status = Session.Status.CANCELLED
    overlapping.full_clean()
