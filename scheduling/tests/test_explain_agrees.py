"""The explainer agrees with the slot engine: over random schedules, a start
is offered exactly when it is explained as bookable.

Two levels:

- pure: ``compute_slots`` over a range against ``explain.findings`` for every
  candidate start in it (each quarter hour, every start the engine offers,
  and starts a few minutes off them): a start is offered exactly when
  ``findings`` is empty;
- through the database: the same kind of schedule stored as rows (sessions
  upcoming, held, lapsed, cancelled and completed; busy times; date
  overrides as the editor stores them), ``available_slots`` against
  ``explain``, which adds what the engine does not judge (a start that has
  passed, a switched-off type, a mentor not taking bookings).

Schedules: weekly hours begun weeks earlier (some with a date left out, as
overrides are stored, and one-off hours on that date), time off, sessions,
busy times, buffer, notice, horizon and daily cap, in zones with and
without daylight saving, around the days New York's and London's clocks
change as often as elsewhere. ``now`` is always given, never read.
"""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from scheduling.explain import explain as explain_start
from scheduling.explain import findings
from scheduling.models import Availability, Session
from scheduling.slots import BookingRules, Window, compute_slots
from scheduling.tests.factories import (
    BusyIntervalFactory,
    SessionFactory,
    mentor_without_hours,
)

QUARTER = timedelta(minutes=15)
FIVE = timedelta(minutes=5)
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
# (zone, a local date to build the schedule around): days the clocks change,
# and ordinary days, in zones with and without daylight saving.
DAYS = [
    ("America/New_York", date(2026, 3, 8)),  # 02:00 becomes 03:00
    ("America/New_York", date(2026, 11, 1)),  # 02:00 becomes 01:00
    ("Europe/London", date(2026, 3, 29)),
    ("Europe/London", date(2026, 10, 25)),
    ("America/New_York", date(2026, 6, 2)),
    ("Asia/Kolkata", date(2026, 6, 2)),
    ("Australia/Lord_Howe", date(2026, 10, 4)),  # by 30 minutes
    ("UTC", date(2026, 9, 15)),
]
RANGE = timedelta(days=2)


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall-clock time in ``zone`` as an instant (first occurrence;
    a skipped time lands after the change)."""
    return moment.replace(tzinfo=zone).astimezone(UTC)


@st.composite
def schedules(draw) -> dict:
    zone_name, day = draw(st.sampled_from(DAYS))
    zone = ZoneInfo(zone_name)
    first_day = datetime.combine(day - timedelta(days=1), time())
    windows = []
    # Weekly hours, begun one to three weeks earlier on a weekday in the range.
    rule_times = []
    for _ in range(draw(st.integers(1, 3))):
        begins = time(draw(st.integers(0, 22)), 15 * draw(st.integers(0, 3)))
        length = QUARTER * draw(st.integers(1, 40))
        weekdays = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=2, max_size=7, unique=True))
        anchor = datetime.combine(
            first_day - timedelta(weeks=draw(st.integers(1, 3))), begins
        ) + timedelta(days=draw(st.integers(0, 6)))
        weekdays = sorted({*weekdays, WEEKDAYS[anchor.weekday()]})
        start = local(anchor, zone)
        # The rule's first occurrence is stored as instants whose wall-clock
        # times are the rule's (no zone here changes its clocks then).
        rule_times.append((start, start + length, f"RRULE:FREQ=WEEKLY;BYDAY={','.join(weekdays)}"))
    # A date override, as the editor stores one: the date left out of every
    # weekly rule (EXDATE at the rule's local start), and maybe other hours.
    override = draw(st.none() | st.integers(0, 2))
    for start, end, recurrence in rule_times:
        if override is not None:
            override_day = (first_day + timedelta(days=override)).date()
            local_start = start.astimezone(zone)
            excluded = datetime.combine(override_day, local_start.time())
            recurrence += f"\nEXDATE:{excluded:%Y%m%dT%H%M%S}"
        windows.append(Window("available", zone_name, start, end, recurrence))
    if override is not None:
        for _ in range(draw(st.integers(0, 2))):
            begins = datetime.combine(
                (first_day + timedelta(days=override)).date(),
                time(draw(st.integers(0, 20)), 15 * draw(st.integers(0, 3))),
            )
            start = local(begins, zone)
            windows.append(
                Window("available", zone_name, start, start + QUARTER * draw(st.integers(1, 16)))
            )
    range_start = local(first_day, zone)

    def somewhere(longest: timedelta) -> tuple[datetime, datetime]:
        """An interval starting anywhere near the range, or (as often) during
        some weekly hours in it, where it takes time that was bookable."""
        if draw(st.booleans()):
            rule_start, rule_end, _recurrence = draw(st.sampled_from(rule_times))
            local_start = rule_start.astimezone(zone).replace(tzinfo=None)
            day = first_day + timedelta(days=draw(st.integers(0, 2)))
            into = FIVE * draw(st.integers(-6, (rule_end - rule_start) // FIVE))
            start = local(datetime.combine(day.date(), local_start.time()), zone) + into
        else:
            start = range_start + FIVE * draw(st.integers(-12 * 12, (RANGE // FIVE) + 12 * 12))
        return start, start + FIVE * draw(st.integers(1, longest // FIVE))

    for _ in range(draw(st.integers(0, 3))):  # time off
        windows.append(Window("blocked", zone_name, *somewhere(timedelta(hours=6))))
    sessions = [somewhere(timedelta(hours=2)) for _ in range(draw(st.integers(0, 4)))]
    busy = [somewhere(timedelta(hours=3)) for _ in range(draw(st.integers(0, 3)))]
    # Sessions that took place (completed) count towards the cap only.
    held = [somewhere(timedelta(hours=2)) for _ in range(draw(st.integers(0, 2)))]
    rules = BookingRules(
        duration=FIVE * draw(st.integers(3, 24)),
        buffer=FIVE * draw(st.integers(0, 12)),
        minimum_notice=QUARTER * draw(st.sampled_from([0, 0, 4, 4 * 12]) | st.integers(0, 4 * 36)),
        horizon=timedelta(days=draw(st.integers(1, 4))),
        max_sessions_per_day=draw(st.sampled_from([None, None, 1, 1, 2, 3])),
        mentor_timezone=zone_name,
    )
    # ``now`` on the quarter hour at times, so that a start can be ``now``.
    now = range_start + timedelta(seconds=draw(st.integers(-86400, 86400)))
    if draw(st.booleans()):
        now = now.replace(minute=now.minute // 15 * 15, second=0)
    return {
        "windows": windows,
        "sessions": sessions,
        "busy": busy,
        "held": held,
        "rules": rules,
        "now": now,
        "start": range_start,
        "end": range_start + RANGE,
    }


def sessions_per_day(schedule: dict) -> Counter:
    zone = ZoneInfo(schedule["rules"].mentor_timezone)
    return Counter(
        start.astimezone(zone).date() for start, _end in schedule["sessions"] + schedule["held"]
    )


def candidates(schedule: dict, offered: set[datetime]) -> list[datetime]:
    """Each quarter hour of the range, the starts offered and five minutes
    either side of each."""
    found = set(offered)
    moment = schedule["start"]
    while moment < schedule["end"]:
        found.add(moment)
        moment += QUARTER
    found |= {start + shift for start in offered for shift in (-FIVE, FIVE)}
    return sorted(moment for moment in found if schedule["start"] <= moment < schedule["end"])


def engine_starts(schedule: dict) -> set[datetime]:
    return {
        slot.start
        for slot in compute_slots(
            windows=schedule["windows"],
            sessions=schedule["sessions"],
            busy=schedule["busy"],
            rules=schedule["rules"],
            now=schedule["now"],
            start=schedule["start"],
            end=schedule["end"],
            sessions_per_day=sessions_per_day(schedule),
        )
    }


# Two hours, 09:00-11:00 and 10:00-12:00 in New York, run together: starts
# are laid every 45 minutes from 09:00 (09:00, 09:45, 10:30, 11:15), not
# from 10:00; the explainer names 10:00 off the grid.
OVERLAPPING_HOURS = {
    "windows": [
        Window(
            "available",
            "America/New_York",
            datetime(2026, 6, 1, 13, tzinfo=UTC),
            datetime(2026, 6, 1, 15, tzinfo=UTC),
            "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE",
        ),
        Window(
            "available",
            "America/New_York",
            datetime(2026, 6, 1, 14, tzinfo=UTC),
            datetime(2026, 6, 1, 16, tzinfo=UTC),
            "RRULE:FREQ=WEEKLY;BYDAY=TU",
        ),
    ],
    "sessions": [],
    "busy": [],
    "held": [],
    "rules": BookingRules(duration=timedelta(minutes=45), mentor_timezone="America/New_York"),
    "now": datetime(2026, 6, 1, 12, tzinfo=UTC),
    "start": datetime(2026, 6, 2, 4, tzinfo=UTC),
    "end": datetime(2026, 6, 4, 4, tzinfo=UTC),
}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules())
@example(OVERLAPPING_HOURS)
def test_a_start_is_offered_exactly_when_nothing_stands_in_its_way(schedule):
    offered = engine_starts(schedule)
    for start in candidates(schedule, offered):
        found = findings(
            windows=schedule["windows"],
            sessions=schedule["sessions"],
            busy=schedule["busy"],
            rules=schedule["rules"],
            now=schedule["now"],
            start=start,
            sessions_per_day=sessions_per_day(schedule),
        )
        assert (start in offered) == (not found), (start, found)


def test_the_example_finds_the_grid():
    offered = engine_starts(OVERLAPPING_HOURS)
    tuesday = [start for start in sorted(offered) if start.day == 2]
    assert [f"{start:%H:%M}" for start in tuesday] == ["13:00", "13:45", "14:30", "15:15"]
    inputs = {"windows", "sessions", "busy", "rules", "now"}
    found = findings(
        **{key: value for key, value in OVERLAPPING_HOURS.items() if key in inputs},
        start=datetime(2026, 6, 2, 14, tzinfo=UTC),
    )
    assert [finding.code for finding in found] == ["off_grid"]


# --- Through the database -------------------------------------------------------------------

STATUSES = [
    ("upcoming", timedelta(0)),
    ("pending", timedelta(minutes=20)),  # a live hold
    ("pending", -timedelta(minutes=1)),  # a hold that lapsed
    ("cancelled", timedelta(0)),
    ("completed", timedelta(0)),
]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    schedules(),
    st.lists(st.sampled_from(STATUSES), min_size=4, max_size=4),
    st.booleans(),
    st.booleans(),
)
def test_explain_agrees_with_available_slots(db, schedule, statuses, accepting, active):
    with transaction.atomic():
        rules = schedule["rules"]
        mentor = mentor_without_hours(
            zone=rules.mentor_timezone,
            buffer_minutes=int(rules.buffer.total_seconds() // 60),
            minimum_notice_minutes=int(rules.minimum_notice.total_seconds() // 60),
            booking_horizon_days=rules.horizon.days,
            max_sessions_per_day=rules.max_sessions_per_day,
            is_accepting_bookings=accepting,
        )
        session_type = mentor.session_types.first()
        session_type.duration_minutes = int(rules.duration.total_seconds() // 60)
        session_type.is_active = active
        session_type.save()
        Availability.objects.bulk_create(
            Availability(
                mentor=mentor,
                kind=window.kind,
                timezone=window.timezone,
                start=window.start,
                end=window.end,
                recurrence=window.recurrence,
            )
            for window in schedule["windows"]
        )
        now = schedule["now"]
        occupied: list[tuple[datetime, datetime]] = []
        for (start, end), (status, hold) in zip(schedule["sessions"], statuses, strict=False):
            if status in ("upcoming", "pending"):
                if any(
                    start < other_end and other_start < end for other_start, other_end in occupied
                ):
                    # PostgreSQL refuses two sessions of a mentor holding the same time.
                    status = "cancelled"
                occupied.append((start, end))
            SessionFactory(
                mentor=mentor,
                session_type=session_type,
                start=start,
                end=end,
                status=status,
                hold_expires_at=now + hold if status == Session.Status.PENDING else None,
            )
        for start, end in schedule["busy"]:
            BusyIntervalFactory(mentor=mentor, start=start, end=end)

        from scheduling.slots import available_slots

        offered = {
            slot.start
            for slot in available_slots(
                mentor, session_type, schedule["start"], schedule["end"], now=now
            )
        }
        # A quarter-hourly sample of the range (every offered start among them).
        for start in candidates(schedule, offered)[::3] + sorted(offered):
            explanation = explain_start(mentor, session_type, start, now=now)
            codes = {reason.code for reason in explanation.reasons}
            if start <= now or not accepting or not active:
                assert not explanation.bookable
                assert ("past" in codes) == (start <= now)
                assert ("not_accepting" in codes) == (not accepting)
                assert ("inactive_type" in codes) == (not active)
            else:
                assert explanation.bookable == (start in offered), (start, codes)
        transaction.set_rollback(True)
