"""The availability editor's services: weekly hours, date overrides, time off.

Checked through the slot engine (``available_slots`` with an explicit ``now``),
since what matters is which times mentees can book.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from scheduling import availability as services
from scheduling.models import Availability
from scheduling.slots import available_slots
from scheduling.tests.factories import mentor_without_hours

# Thursday 26 November 2026, 13:00 in Berlin.
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
WEEKDAYS_9_TO_12 = {day: [(time(9), time(12))] for day in range(5)}


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    """The services read the clock (today in the mentor's zone): frozen at NOW."""
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def mentor(db, frozen_now):
    return mentor_without_hours(zone="Europe/Berlin")


def local_times(mentor, day: date, *, now: datetime = NOW) -> list[str]:
    """The bookable start times of ``day`` (mentor's zone) for the 60-minute type."""
    zone = ZoneInfo(mentor.user.timezone)
    session_type = mentor.session_types.get(slug="mentoring-session")
    start = datetime.combine(day, time.min, tzinfo=zone)
    slots = available_slots(mentor, session_type, start, start + timedelta(days=1), now=now)
    return [f"{slot.start.astimezone(zone):%H:%M}" for slot in slots]


def wall(year, month, day, hour, minute=0) -> datetime:
    """A naive wall-clock time (what the editor's time-off form produces)."""
    return datetime.combine(date(year, month, day), time(hour, minute))


def rows_state(mentor) -> list[tuple]:
    return list(
        Availability.objects.filter(mentor=mentor)
        .order_by("pk")
        .values_list("kind", "timezone", "start", "end", "recurrence")
    )


def test_weekly_hours_saved_and_replaced(mentor):
    services.save_weekly_hours(
        mentor=mentor, weekly={0: [(time(14), time(17)), (time(9), time(12))]}
    )
    assert sorted(
        Availability.objects.filter(mentor=mentor).values_list("recurrence", flat=True)
    ) == ["RRULE:FREQ=WEEKLY;BYDAY=MO", "RRULE:FREQ=WEEKLY;BYDAY=MO"]
    monday = date(2026, 11, 30)
    assert local_times(mentor, monday) == ["09:00", "10:00", "11:00", "14:00", "15:00", "16:00"]

    services.save_weekly_hours(mentor=mentor, weekly={1: [(time(10), time(12))]})
    assert local_times(mentor, monday) == []
    assert local_times(mentor, date(2026, 12, 1)) == ["10:00", "11:00"]
    assert Availability.objects.filter(mentor=mentor).count() == 1


@pytest.mark.parametrize(
    "weekly",
    [
        {0: [(time(9), time(12)), (time(11), time(13))]},  # overlap
        {0: [(time(12), time(9))]},  # ends before it starts
        {0: [(time(9), time(9))]},  # empty
    ],
)
def test_bad_weekly_hours_refused_and_nothing_changes(mentor, weekly):
    services.save_weekly_hours(mentor=mentor, weekly=WEEKDAYS_9_TO_12)
    before = rows_state(mentor)
    with pytest.raises(ValidationError):
        services.save_weekly_hours(mentor=mentor, weekly={**WEEKDAYS_9_TO_12, **weekly})
    assert rows_state(mentor) == before


def test_override_with_other_hours_changes_only_that_date(mentor):
    services.save_weekly_hours(mentor=mentor, weekly=WEEKDAYS_9_TO_12)
    wednesday, next_wednesday = date(2026, 12, 2), date(2026, 12, 9)
    others = [date(2026, 12, 1), date(2026, 12, 3), next_wednesday]
    before = {day: local_times(mentor, day) for day in others}

    services.set_date_override(
        mentor=mentor, day=wednesday, ranges=[(time(14), time(16)), (time(18), time(19))]
    )

    assert local_times(mentor, wednesday) == ["14:00", "15:00", "18:00"]
    assert {day: local_times(mentor, day) for day in others} == before
    weekly_wednesday = Availability.objects.get(mentor=mentor, recurrence__contains="BYDAY=WE")
    assert "EXDATE:20261202T090000" in weekly_wednesday.recurrence.splitlines()
    [override] = services.date_overrides(Availability.objects.filter(mentor=mentor))
    assert override.day == wednesday
    assert override.ranges == ((time(14), time(16)), (time(18), time(19)))


def test_day_off_removes_the_date_and_removing_it_restores(mentor):
    services.save_weekly_hours(mentor=mentor, weekly=WEEKDAYS_9_TO_12)
    wednesday = date(2026, 12, 2)
    assert local_times(mentor, wednesday) == ["09:00", "10:00", "11:00"]

    override = services.set_date_override(mentor=mentor, day=wednesday, ranges=[])
    assert override.is_day_off
    assert local_times(mentor, wednesday) == []
    assert local_times(mentor, date(2026, 12, 9)) == ["09:00", "10:00", "11:00"]

    assert services.remove_date_override(mentor=mentor, day=wednesday) is True
    assert local_times(mentor, wednesday) == ["09:00", "10:00", "11:00"]
    assert services.date_overrides(Availability.objects.filter(mentor=mentor)) == []
    assert services.remove_date_override(mentor=mentor, day=wednesday) is False


def test_removing_an_override_with_hours_restores_weekly_hours(mentor):
    services.save_weekly_hours(mentor=mentor, weekly=WEEKDAYS_9_TO_12)
    friday = date(2026, 12, 4)
    services.set_date_override(mentor=mentor, day=friday, ranges=[(time(15), time(17))])
    services.remove_date_override(mentor=mentor, day=friday)
    assert local_times(mentor, friday) == ["09:00", "10:00", "11:00"]
    assert not Availability.objects.filter(mentor=mentor, recurrence="").exists()


def test_setting_an_override_again_replaces_it(mentor):
    services.save_weekly_hours(mentor=mentor, weekly=WEEKDAYS_9_TO_12)
    wednesday = date(2026, 12, 2)
    services.set_date_override(mentor=mentor, day=wednesday, ranges=[(time(14), time(16))])
    services.set_date_override(mentor=mentor, day=wednesday, ranges=[])
    assert local_times(mentor, wednesday) == []
    [override] = services.date_overrides(Availability.objects.filter(mentor=mentor))
    assert override.is_day_off


def test_overrides_survive_a_weekly_hours_save(mentor):
    services.save_weekly_hours(mentor=mentor, weekly=WEEKDAYS_9_TO_12)
    wednesday, thursday = date(2026, 12, 2), date(2026, 12, 3)
    services.set_date_override(mentor=mentor, day=wednesday, ranges=[])
    services.set_date_override(mentor=mentor, day=thursday, ranges=[(time(16), time(17))])

    services.save_weekly_hours(
        mentor=mentor, weekly={day: [(time(8), time(10))] for day in range(5)}
    )

    assert local_times(mentor, wednesday) == []
    assert local_times(mentor, thursday) == ["16:00"]
    assert local_times(mentor, date(2026, 12, 9)) == ["08:00", "09:00"]
    assert [o.day for o in services.date_overrides(Availability.objects.filter(mentor=mentor))] == [
        wednesday,
        thursday,
    ]


def test_day_off_on_a_day_without_hours_or_in_the_past_is_refused(mentor):
    services.save_weekly_hours(mentor=mentor, weekly=WEEKDAYS_9_TO_12)
    before = rows_state(mentor)
    with pytest.raises(ValidationError, match="no weekly hours"):
        services.set_date_override(mentor=mentor, day=date(2026, 11, 28), ranges=[])  # Saturday
    with pytest.raises(ValidationError, match="today or a later date"):
        services.set_date_override(mentor=mentor, day=date(2026, 11, 25), ranges=[])
    with pytest.raises(ValidationError, match="overlap"):
        services.set_date_override(
            mentor=mentor,
            day=date(2026, 12, 2),
            ranges=[(time(9), time(11)), (time(10), time(12))],
        )
    assert rows_state(mentor) == before


def test_time_off_blocks_a_multi_day_range(mentor):
    services.save_weekly_hours(mentor=mentor, weekly=WEEKDAYS_9_TO_12)
    row = services.add_time_off(
        mentor=mentor, start=wall(2026, 12, 1, 10, 0), end=wall(2026, 12, 3, 11, 0)
    )
    assert row.kind == Availability.Kind.BLOCKED
    assert row.timezone == "Europe/Berlin"
    assert local_times(mentor, date(2026, 12, 1)) == ["09:00"]
    assert local_times(mentor, date(2026, 12, 2)) == []
    assert local_times(mentor, date(2026, 12, 3)) == ["11:00"]
    assert local_times(mentor, date(2026, 12, 4)) == ["09:00", "10:00", "11:00"]

    assert services.remove_time_off(mentor=mentor, time_off_id=row.pk) is True
    assert local_times(mentor, date(2026, 12, 2)) == ["09:00", "10:00", "11:00"]


def test_time_off_refused_when_backwards_or_over(mentor):
    with pytest.raises(ValidationError, match="end after it starts"):
        services.add_time_off(mentor=mentor, start=wall(2026, 12, 3, 10), end=wall(2026, 12, 1, 10))
    with pytest.raises(ValidationError, match="already over"):
        services.add_time_off(mentor=mentor, start=wall(2026, 11, 1, 10), end=wall(2026, 11, 2, 10))
    assert not Availability.objects.filter(mentor=mentor).exists()


def test_remove_time_off_is_scoped_to_the_mentor(mentor):
    other = mentor_without_hours(zone="Europe/Berlin")
    row = services.add_time_off(
        mentor=other, start=wall(2026, 12, 1, 10), end=wall(2026, 12, 2, 10)
    )
    assert services.remove_time_off(mentor=mentor, time_off_id=row.pk) is False
    assert Availability.objects.filter(pk=row.pk).exists()


def test_dst_week_keeps_nine_oclock_local(db, time_machine):
    """New York springs forward on Sunday 8 March 2026: 09:00 local is 14:00 UTC
    the Monday before and 13:00 UTC the Monday after."""
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    time_machine.move_to(now)
    mentor = mentor_without_hours(zone="America/New_York")
    services.save_weekly_hours(mentor=mentor, weekly={0: [(time(9), time(10))]})
    session_type = mentor.session_types.get(slug="mentoring-session")
    slots = available_slots(mentor, session_type, now, datetime(2026, 3, 17, tzinfo=UTC), now=now)
    assert [slot.start for slot in slots] == [
        datetime(2026, 3, 2, 14, 0, tzinfo=UTC),
        datetime(2026, 3, 9, 13, 0, tzinfo=UTC),
        datetime(2026, 3, 16, 13, 0, tzinfo=UTC),
    ]
    # A day off in the DST week lands on the right local date.
    services.set_date_override(mentor=mentor, day=date(2026, 3, 9), ranges=[])
    slots = available_slots(mentor, session_type, now, datetime(2026, 3, 17, tzinfo=UTC), now=now)
    assert [slot.start.date() for slot in slots] == [date(2026, 3, 2), date(2026, 3, 16)]
