"""The availability services on the days the clocks change (DESIGN.md §5).

A weekly rule's first occurrence is stored as instants and its later days
repeat the wall-clock times read back from them, so the services must never
store a first occurrence whose times the clock skips. One-off rows (date
overrides, time off) are instants: a local time the clock skips becomes the
change, when the clock passes it.

New York, 2027: 02:00 becomes 03:00 on Sunday 14 March (07:00 UTC). The clock
is frozen on Wednesday 10 March, so the change is ahead.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from scheduling import availability as services
from scheduling.models import Availability
from scheduling.slots import available_slots
from scheduling.tests.factories import mentor_without_hours

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2027, 3, 10, 17, 0, tzinfo=UTC)  # Wednesday 12:00 in New York
CHANGE_DAY = date(2027, 3, 14)
CHANGE = datetime(2027, 3, 14, 7, 0, tzinfo=UTC)
SUNDAY = 6


@pytest.fixture(autouse=True)
def frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def mentor():
    return mentor_without_hours(zone="America/New_York")


def slots_on(mentor, day: date, minutes: int = 30) -> list[tuple[str, str]]:
    """(start, end) of ``day``'s slots (New York), as local times with their offset."""
    session_type = mentor.session_types.get(duration_minutes=minutes)
    start = datetime.combine(day, time.min, tzinfo=NEW_YORK)
    slots = available_slots(mentor, session_type, start, start + timedelta(days=1), now=NOW)
    return [
        (
            f"{slot.start.astimezone(NEW_YORK):%H:%M%z}",
            f"{slot.end.astimezone(NEW_YORK):%H:%M%z}",
        )
        for slot in slots
    ]


def test_weekly_hours_saved_on_the_day_of_the_change_keep_their_end(mentor):
    # Sunday hours 01:00-02:30, saved on the Sunday 02:30 does not exist.
    services.replace_weekly_hours(
        mentor=mentor,
        timezone="America/New_York",
        weekly={SUNDAY: [(time(1), time(2, 30))]},
        starting=CHANGE_DAY,
    )

    [row] = Availability.objects.filter(mentor=mentor)
    # Anchored a week earlier, where 02:30 exists: the rule reads 01:00-02:30.
    assert row.start == datetime(2027, 3, 7, 1, 0, tzinfo=NEW_YORK)
    assert row.end == datetime(2027, 3, 7, 2, 30, tzinfo=NEW_YORK)
    # That Sunday the hours end at the change; the Sunday after, at 02:30 again.
    assert slots_on(mentor, CHANGE_DAY) == [
        ("01:00-0500", "01:30-0500"),
        ("01:30-0500", "03:00-0400"),
    ]
    assert slots_on(mentor, CHANGE_DAY + timedelta(weeks=1)) == [
        ("01:00-0400", "01:30-0400"),
        ("01:30-0400", "02:00-0400"),
        ("02:00-0400", "02:30-0400"),
    ]


def test_weekly_hours_starting_in_the_skipped_hour_skip_that_day_only(mentor):
    services.replace_weekly_hours(
        mentor=mentor,
        timezone="America/New_York",
        weekly={SUNDAY: [(time(2, 30), time(4))]},
        starting=CHANGE_DAY,
    )

    assert slots_on(mentor, CHANGE_DAY) == []
    assert slots_on(mentor, CHANGE_DAY + timedelta(weeks=1)) == [
        ("02:30-0400", "03:00-0400"),
        ("03:00-0400", "03:30-0400"),
        ("03:30-0400", "04:00-0400"),
    ]


def test_the_editor_shows_the_hours_as_entered_after_saving_on_the_day_of_the_change(mentor):
    services.replace_weekly_hours(
        mentor=mentor,
        timezone="America/New_York",
        weekly={SUNDAY: [(time(2, 30), time(4))]},
        starting=CHANGE_DAY,
    )
    [row] = Availability.objects.filter(mentor=mentor)
    assert row.start.astimezone(NEW_YORK).time() == time(2, 30)
    assert row.end.astimezone(NEW_YORK).time() == time(4)


def test_a_date_override_ending_in_the_skipped_hour_ends_at_the_change(mentor):
    services.set_date_override(mentor=mentor, day=CHANGE_DAY, ranges=[(time(1), time(2, 30))])

    [row] = Availability.objects.filter(mentor=mentor)
    assert (row.start, row.end) == (datetime(2027, 3, 14, 6, 0, tzinfo=UTC), CHANGE)
    assert slots_on(mentor, CHANGE_DAY) == [
        ("01:00-0500", "01:30-0500"),
        ("01:30-0500", "03:00-0400"),
    ]


def test_a_date_override_starting_in_the_skipped_hour_starts_at_the_change(mentor):
    services.set_date_override(mentor=mentor, day=CHANGE_DAY, ranges=[(time(2, 30), time(4))])

    [row] = Availability.objects.filter(mentor=mentor)
    assert (row.start, row.end) == (CHANGE, datetime(2027, 3, 14, 8, 0, tzinfo=UTC))


def test_a_date_override_wholly_in_the_skipped_hour_is_refused(mentor):
    with pytest.raises(ValidationError, match="the clocks skip 02:15–02:45"):
        services.set_date_override(
            mentor=mentor, day=CHANGE_DAY, ranges=[(time(2, 15), time(2, 45))]
        )
    assert not Availability.objects.filter(mentor=mentor).exists()


def test_time_off_from_a_skipped_time_starts_at_the_change(mentor):
    row = services.add_time_off(
        mentor=mentor,
        start=datetime(2027, 3, 14, 2, 30),  # noqa: DTZ001 (wall clock, as the form gives it)
        end=datetime(2027, 3, 15, 0, 0),  # noqa: DTZ001
    )
    assert row.start == CHANGE
    assert row.end == datetime(2027, 3, 15, 4, 0, tzinfo=UTC)
