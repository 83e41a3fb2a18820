"""Property tests of ``compute_slots`` over random windows, obstacles and rules.

Every slot the engine offers is checked against occurrences computed here by a
separate, deliberately plain expansion (one-off windows are their stored UTC
times; daily and weekly rules are walked day by day in local time, and an
occurrence's end is found by walking the clock forward a quarter hour at a
time), not by ``slots.expand``: a bug shared by the engine and its own
expansion would otherwise go unseen. Instants are drawn near this year's
daylight-saving changes of the zones below as often as anywhere else, since
that is where wall-clock arithmetic goes wrong, and rules are drawn whose
occurrence on a change day ends inside the skipped or the repeated time.
"""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from scheduling.slots import BookingRules, Slot, Window, compute_slots

ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "UTC",
    "Pacific/Chatham",
    "Africa/Casablanca",
]
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
QUARTER_HOUR = timedelta(minutes=15)

PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def offset_changes(zone_name: str, year: int = 2026) -> list[datetime]:
    """The instants (UTC, to the quarter hour) at which ``zone_name`` changes its offset."""
    zone = ZoneInfo(zone_name)
    changes = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    while day.year == year:
        next_day = day + timedelta(days=1)
        if day.astimezone(zone).utcoffset() != next_day.astimezone(zone).utcoffset():
            moment = day
            while moment.astimezone(zone).utcoffset() == day.astimezone(zone).utcoffset():
                moment += QUARTER_HOUR
            changes.append(moment)
        day = next_day
    return changes


# (zone, instant) for every daylight-saving change of 2026 in ZONES.
CHANGES = [(zone, moment) for zone in ZONES for moment in offset_changes(zone)]


def test_the_zones_have_the_changes_the_properties_aim_at():
    # New York, London, Lord Howe (by 30 minutes) and Chatham (at a :45
    # offset) change twice a year; Casablanca goes an hour back for Ramadan,
    # forward after it, and back for good in September (tzdata 2026f); the
    # others never change.
    assert Counter(zone for zone, _moment in CHANGES) == {
        "America/New_York": 2,
        "Europe/London": 2,
        "Australia/Lord_Howe": 2,
        "Pacific/Chatham": 2,
        "Africa/Casablanca": 3,
    }
    assert ("America/New_York", datetime(2026, 11, 1, 6, 0, tzinfo=UTC)) in CHANGES
    assert ("Australia/Lord_Howe", datetime(2026, 10, 3, 15, 30, tzinfo=UTC)) in CHANGES
    # Each change skips or repeats some wall-clock times, to end a window in.
    kinds = Counter(times_at(zone, change)[0] for zone, change in CHANGES)
    assert kinds == {"skipped": 5, "repeated": 6}
    assert times_at("Australia/Lord_Howe", datetime(2026, 10, 3, 15, 30, tzinfo=UTC)) == (
        "skipped",
        [datetime(2026, 10, 4, 2, 0), datetime(2026, 10, 4, 2, 15)],  # noqa: DTZ001 (wall clock)
    )


def times_at(zone_name: str, change: datetime) -> tuple[str, list[datetime]]:
    """The wall-clock times (naive, to the quarter hour) that ``change`` skips
    or repeats in ``zone_name``, and which of the two it does."""
    zone = ZoneInfo(zone_name)
    before = (change - QUARTER_HOUR).astimezone(zone).utcoffset()
    after = change.astimezone(zone).utcoffset()
    low, high = sorted([change + before, change + after])
    times = []
    moment = low.replace(tzinfo=None)
    while moment < high.replace(tzinfo=None):
        times.append(moment)
        moment += QUARTER_HOUR
    return ("skipped" if after > before else "repeated"), times


# --- A plain reference ---------------------------------------------------------------------


def reference_occurrences(window: Window, until: datetime) -> list[tuple[datetime, datetime]]:
    """All occurrences of ``window`` from its first one up to ``until``, in UTC.

    One-offs are their stored times. Rules (``FREQ=DAILY`` or ``FREQ=WEEKLY``
    with an optional ``BYDAY``) repeat the first occurrence's wall-clock start
    and wall-clock length; a start the clock skips drops that day, an ambiguous
    start is its first occurrence, and an occurrence ends when the clock first
    reads its wall-clock end or later: at the change for an end the clock
    skips, the first time round for one it repeats (DESIGN.md §5). The rule's
    first day is the stored instants.
    """
    if not window.recurrence:
        return [(window.start, window.end)]
    zone = ZoneInfo(window.timezone)
    first = window.start.astimezone(zone).replace(tzinfo=None)
    length = window.end.astimezone(zone).replace(tzinfo=None) - first
    parts = dict(part.split("=") for part in window.recurrence.removeprefix("RRULE:").split(";"))
    if parts["FREQ"] == "DAILY":
        weekdays = set(range(7))
    elif "BYDAY" in parts:
        weekdays = {WEEKDAYS.index(name) for name in parts["BYDAY"].split(",")}
    else:
        weekdays = {first.weekday()}
    occurrences = []
    day = first.date()
    last_day = until.astimezone(zone).date() + timedelta(days=1)
    while day <= last_day:
        if day.weekday() in weekdays and day == first.date():
            # The first occurrence is the stored instants, like a one-off (its
            # start may be the second of two equal wall-clock times).
            occurrences.append((window.start, window.end))
        elif day.weekday() in weekdays:
            local = datetime.combine(day, first.time())
            start = local.replace(tzinfo=zone).astimezone(UTC)
            if start.astimezone(zone).replace(tzinfo=None) == local:
                end = clock_first_reads(local + length, zone, since=start)
                if end > start:
                    occurrences.append((start, end))
        day += timedelta(days=1)
    return occurrences


def clock_first_reads(local: datetime, zone: ZoneInfo, *, since: datetime) -> datetime:
    """The first quarter hour (UTC) from ``since`` on at which the clock in
    ``zone`` reads ``local`` or later, found by walking the clock forward:
    every offset and every change of ZONES falls on a quarter hour."""
    moment = since
    while moment.astimezone(zone).replace(tzinfo=None) < local:
        moment += QUARTER_HOUR
    return moment


def union(intervals) -> list[tuple[datetime, datetime]]:
    """Sorted, disjoint union; intervals that touch are one."""
    runs: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if runs and start <= runs[-1][1]:
            runs[-1] = (runs[-1][0], max(runs[-1][1], end))
        else:
            runs.append((start, end))
    return runs


def overlaps(start: datetime, end: datetime, other_start: datetime, other_end: datetime) -> bool:
    return start < other_end and other_start < end


# --- Strategies ----------------------------------------------------------------------------


@st.composite
def anchors(draw) -> tuple[datetime, str, datetime | None]:
    """An instant to build a scenario around, with a zone to favour and the
    change it is near: near one of the year's offset changes half of the time,
    anywhere in 2026 otherwise (no change)."""
    if draw(st.booleans()):
        zone, change = draw(st.sampled_from(CHANGES))
        return change + draw(st.integers(-16, 16)) * QUARTER_HOUR, zone, change
    anchor = YEAR_START + draw(st.integers(0, 365 * 24 * 4)) * QUARTER_HOUR
    return anchor, draw(st.sampled_from(ZONES)), None


def quarter_hours(draw, low: timedelta, high: timedelta) -> timedelta:
    return draw(st.integers(low // QUARTER_HOUR, high // QUARTER_HOUR)) * QUARTER_HOUR


def five_minutes(draw, low: int, high: int) -> timedelta:
    return timedelta(minutes=5 * draw(st.integers(low // 5, high // 5)))


@st.composite
def rules_ending_at_a_change(draw, zone_name: str, change: datetime, kind: str) -> Window:
    """A daily or weekly rule whose occurrence on the day of ``change`` ends at
    a wall-clock time the change skips or repeats. Its first occurrence, days
    or weeks earlier, is stored as the instants of its wall-clock times (they
    exist then: no zone here changes twice within three weeks)."""
    zone = ZoneInfo(zone_name)
    _kind, times = times_at(zone_name, change)
    end = draw(st.sampled_from(times))
    length = quarter_hours(draw, QUARTER_HOUR, timedelta(hours=26))
    if draw(st.booleans()):
        length = min(length, timedelta(hours=4))
    start = end - length
    if draw(st.booleans()):
        recurrence = "RRULE:FREQ=DAILY"
        first_start = start - timedelta(days=draw(st.integers(1, 9)))
    else:
        weekdays = {WEEKDAYS[start.weekday()], *draw(st.lists(st.sampled_from(WEEKDAYS)))}
        recurrence = "RRULE:FREQ=WEEKLY;BYDAY=" + ",".join(sorted(weekdays))
        first_start = start - timedelta(weeks=draw(st.integers(1, 2)))
    stored_start = first_start.replace(tzinfo=zone).astimezone(UTC)
    stored_end = stored_start + length
    # The first occurrence must read back as the rule's wall-clock times.
    assume(stored_start.astimezone(zone).replace(tzinfo=None) == first_start)
    assume(stored_end.astimezone(zone).replace(tzinfo=None) == first_start + length)
    return Window(kind, zone_name, stored_start, stored_end, recurrence)


@st.composite
def windows(
    draw, anchor: datetime, favoured_zone: str, kind: str, change: datetime | None = None
) -> Window:
    if change is not None and draw(st.integers(0, 2)) == 0:
        return draw(rules_ending_at_a_change(favoured_zone, change, kind))
    zone = draw(st.one_of(st.just(favoured_zone), st.sampled_from(ZONES)))
    recurrence = draw(
        st.one_of(
            st.just(""),
            st.just("RRULE:FREQ=DAILY"),
            st.just("RRULE:FREQ=WEEKLY"),
            st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True).map(
                lambda days: "RRULE:FREQ=WEEKLY;BYDAY=" + ",".join(days)
            ),
        )
    )
    if recurrence:
        start = anchor + quarter_hours(draw, timedelta(days=-10), timedelta(days=1))
    else:
        start = anchor + quarter_hours(draw, timedelta(days=-1), timedelta(days=3))
    # Up to a little over a day, so that daily rules can run into each other.
    length = quarter_hours(draw, QUARTER_HOUR, timedelta(hours=26))
    if draw(st.booleans()):
        length = min(length, timedelta(hours=8))
    return Window(kind, zone, start, start + length, recurrence)


@st.composite
def scenarios(draw) -> dict:
    anchor, favoured_zone, change = draw(anchors())
    available = draw(
        st.lists(windows(anchor, favoured_zone, "available", change), min_size=1, max_size=4)
    )
    blocked = draw(st.lists(windows(anchor, favoured_zone, "blocked", change), max_size=2))

    def intervals(max_size: int, shortest: int, longest: int) -> list:
        found = []
        for _ in range(draw(st.integers(0, max_size))):
            start = anchor + five_minutes(draw, -24 * 60, 4 * 24 * 60)
            found.append((start, start + five_minutes(draw, shortest, longest)))
        return found

    sessions = intervals(4, 15, 240)
    busy = intervals(3, 5, 6 * 60)
    # Sessions already held (completed, no-show) count towards the cap only.
    held = intervals(3, 15, 240)
    rules = BookingRules(
        duration=five_minutes(draw, 15, 240),
        buffer=five_minutes(draw, 0, 120),
        minimum_notice=quarter_hours(draw, timedelta(0), timedelta(days=3)),
        horizon=timedelta(days=draw(st.integers(1, 14))),
        max_sessions_per_day=draw(st.one_of(st.none(), st.integers(1, 4))),
        mentor_timezone=draw(st.one_of(st.just(favoured_zone), st.sampled_from(ZONES))),
    )
    mentor_zone = ZoneInfo(rules.mentor_timezone)
    sessions_per_day = Counter(start.astimezone(mentor_zone).date() for start, _ in sessions + held)
    now = anchor + timedelta(seconds=draw(st.integers(-2 * 86400, 2 * 86400)))
    range_start = anchor + five_minutes(draw, -24 * 60, 3 * 24 * 60)
    range_end = range_start + quarter_hours(draw, timedelta(hours=1), timedelta(days=5))
    return {
        "windows": [*available, *blocked],
        "sessions": sessions,
        "busy": busy,
        "rules": rules,
        "now": now,
        "start": range_start,
        "end": range_end,
        "sessions_per_day": sessions_per_day,
    }


def engine_slots(scenario: dict) -> list[Slot]:
    return compute_slots(**scenario)


def reference_runs(scenario: dict, kind: str) -> list[tuple[datetime, datetime]]:
    until = scenario["end"] + scenario["rules"].duration + timedelta(days=1)
    return union(
        occurrence
        for window in scenario["windows"]
        if window.kind == kind
        for occurrence in reference_occurrences(window, until)
    )


def containing_run(runs, slot: Slot) -> tuple[datetime, datetime] | None:
    return next((run for run in runs if run[0] <= slot.start and slot.end <= run[1]), None)


def full_days(scenario: dict) -> set[date]:
    cap = scenario["rules"].max_sessions_per_day
    if cap is None:
        return set()
    return {day for day, count in scenario["sessions_per_day"].items() if count >= cap}


# Cases the properties found once, kept as explicit examples so that they run
# every time, first, whatever the random draw.

# Two windows that touch (08:00-11:00 in all): the grid is 08:00, 08:45, 09:30,
# 10:15. A grid taken from the windows that reach the range asked for (from 09:45)
# would start at 09:00 and offer 09:45 instead of 10:15.
TOUCHING_WINDOWS_ASKED_FROM_09_45 = {
    "windows": [
        Window(
            "available",
            "UTC",
            datetime(2026, 6, 1, 8, tzinfo=UTC),
            datetime(2026, 6, 1, 9, tzinfo=UTC),
        ),
        Window(
            "available",
            "UTC",
            datetime(2026, 6, 1, 9, tzinfo=UTC),
            datetime(2026, 6, 1, 11, tzinfo=UTC),
        ),
    ],
    "sessions": [],
    "busy": [],
    "rules": BookingRules(duration=timedelta(minutes=45)),
    "now": datetime(2026, 6, 1, tzinfo=UTC),
    "start": datetime(2026, 6, 1, 9, 45, tzinfo=UTC),
    "end": datetime(2026, 6, 2, tzinfo=UTC),
    "sessions_per_day": Counter(),
}

# A daily rule whose first start is New York's second 01:00 (EST) on the day
# the clocks go back, beside a one-off ending a quarter hour into it (found by
# hypothesis): the rule's first day is its stored instants, 06:00-06:30 UTC,
# so 06:15 is bookable that day; later days start at 01:00 EST too.
RULE_STARTING_IN_THE_REPEATED_HOUR = {
    "windows": [
        Window(
            "available",
            "America/New_York",
            datetime(2026, 11, 1, 6, tzinfo=UTC),
            datetime(2026, 11, 1, 6, 15, tzinfo=UTC),
        ),
        Window(
            "available",
            "America/New_York",
            datetime(2026, 11, 1, 6, tzinfo=UTC),
            datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
            "RRULE:FREQ=DAILY",
        ),
    ],
    "sessions": [],
    "busy": [],
    "rules": BookingRules(
        duration=timedelta(minutes=15),
        horizon=timedelta(days=1),
        mentor_timezone="America/New_York",
    ),
    "now": datetime(2026, 11, 1, 6, tzinfo=UTC),
    "start": datetime(2026, 11, 1, 6, tzinfo=UTC),
    "end": datetime(2026, 11, 1, 7, tzinfo=UTC),
    "sessions_per_day": Counter(),
}

# Daily hours 01:45-02:45 in New York (the case that found the rule): on
# 14 March 2027 02:00 becomes 03:00, so that day's hours end at the change,
# 07:00 UTC, a quarter of an hour after they begin: no 30-minute slot fits.
# The engine used to offer 06:45-07:15 and 07:15-07:45 UTC, the second wholly
# after 02:45.
HOURS_ENDING_IN_THE_SKIPPED_HOUR = {
    "windows": [
        Window(
            "available",
            "America/New_York",
            datetime(2027, 3, 7, 6, 45, tzinfo=UTC),
            datetime(2027, 3, 7, 7, 45, tzinfo=UTC),
            "RRULE:FREQ=DAILY",
        ),
    ],
    "sessions": [],
    "busy": [],
    "rules": BookingRules(
        duration=timedelta(minutes=30),
        horizon=timedelta(days=14),
        mentor_timezone="America/New_York",
    ),
    "now": datetime(2027, 3, 7, tzinfo=UTC),
    "start": datetime(2027, 3, 13, tzinfo=UTC),
    "end": datetime(2027, 3, 16, tzinfo=UTC),
    "sessions_per_day": Counter(),
}

# A one-off window in New York's repeated hour (the second 01:30, EST): going
# through wall-clock time would move it to the first 01:30 (EDT), an hour early.
ONE_OFF_IN_THE_REPEATED_HOUR = {
    "window": Window(
        "available",
        "America/New_York",
        datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 7, 30, tzinfo=UTC),
    ),
    "duration": timedelta(minutes=30),
    "now": datetime(2026, 10, 31, tzinfo=UTC),
    "range": (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)),
}


# --- Properties ----------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(scenarios())
@example(TOUCHING_WINDOWS_ASKED_FROM_09_45)
@example(RULE_STARTING_IN_THE_REPEATED_HOUR)
@example(HOURS_ENDING_IN_THE_SKIPPED_HOUR)
def test_every_offered_slot_obeys_every_rule(scenario):
    rules = scenario["rules"]
    slots = engine_slots(scenario)
    available_runs = reference_runs(scenario, "available")
    blocked_runs = reference_runs(scenario, "blocked")
    mentor_zone = ZoneInfo(rules.mentor_timezone)
    days_full = full_days(scenario)

    assert slots == sorted(slots)
    for earlier, later in pairwise(slots):
        assert earlier.end <= later.start, f"{earlier} overlaps {later}"

    for slot in slots:
        assert slot.end - slot.start == rules.duration
        assert scenario["start"] <= slot.start < scenario["end"]
        assert slot.start >= scenario["now"] + rules.minimum_notice
        assert slot.start < scenario["now"] + rules.horizon  # the horizon is exclusive

        run_around = containing_run(available_runs, slot)
        assert run_around is not None, f"{slot} is not inside available time {available_runs}"
        assert (slot.start - run_around[0]) % rules.duration == timedelta(0), (
            f"{slot} is off the grid of the available time {run_around}"
        )
        for blocked_start, blocked_end in blocked_runs:
            assert not overlaps(slot.start, slot.end, blocked_start, blocked_end)
        for obstacle_start, obstacle_end in scenario["sessions"] + scenario["busy"]:
            assert (
                slot.end <= obstacle_start - rules.buffer
                or slot.start >= obstacle_end + rules.buffer
            ), f"{slot} is within {rules.buffer} of {(obstacle_start, obstacle_end)}"
        assert slot.start.astimezone(mentor_zone).date() not in days_full


@PROPERTY_SETTINGS
@given(scenarios())
@example(TOUCHING_WINDOWS_ASKED_FROM_09_45)
@example(RULE_STARTING_IN_THE_REPEATED_HOUR)
@example(HOURS_ENDING_IN_THE_SKIPPED_HOUR)
def test_every_slot_the_rules_allow_is_offered(scenario):
    """The converse: nothing bookable is left out. The expected slots are laid
    on each run of available time from the run's start, at the session's length,
    and kept when every rule allows them."""
    rules = scenario["rules"]
    blocked_runs = reference_runs(scenario, "blocked")
    mentor_zone = ZoneInfo(rules.mentor_timezone)
    days_full = full_days(scenario)
    earliest = max(scenario["start"], scenario["now"] + rules.minimum_notice)
    latest = scenario["now"] + rules.horizon

    expected = []
    for run_start, run_end in reference_runs(scenario, "available"):
        slot_start = run_start
        while slot_start + rules.duration <= run_end and slot_start < scenario["end"]:
            slot_end = slot_start + rules.duration
            if (
                earliest <= slot_start < latest
                and not any(overlaps(slot_start, slot_end, *blocked) for blocked in blocked_runs)
                and not any(
                    overlaps(slot_start, slot_end, start - rules.buffer, end + rules.buffer)
                    for start, end in scenario["sessions"] + scenario["busy"]
                )
                and slot_start.astimezone(mentor_zone).date() not in days_full
            ):
                expected.append(Slot(slot_start, slot_end))
            slot_start = slot_end

    assert engine_slots(scenario) == expected


@st.composite
def single_windows(draw) -> dict:
    anchor, favoured_zone, _change = draw(anchors())
    zone = draw(st.one_of(st.just(favoured_zone), st.sampled_from(ZONES)))
    start = anchor + quarter_hours(draw, timedelta(hours=-3), timedelta(hours=3))
    end = start + five_minutes(draw, 5, 2 * 24 * 60)
    duration = five_minutes(draw, 15, 240)
    now = start - timedelta(seconds=draw(st.integers(0, 30 * 86400)))
    range_start = start + five_minutes(draw, -24 * 60, 24 * 60)
    range_end = range_start + five_minutes(draw, 5, 3 * 24 * 60)
    return {
        "window": Window("available", zone, start, end),
        "duration": duration,
        "now": now,
        "range": (range_start, range_end),
    }


@PROPERTY_SETTINGS
@given(single_windows())
@example(ONE_OFF_IN_THE_REPEATED_HOUR)
def test_one_window_without_obstacles_is_cut_into_whole_sessions(case):
    window, duration = case["window"], case["duration"]
    range_start, range_end = case["range"]
    slots = compute_slots(
        windows=[window],
        sessions=[],
        busy=[],
        rules=BookingRules(duration=duration, horizon=timedelta(days=365)),
        now=case["now"],
        start=range_start,
        end=range_end,
    )

    whole_sessions = (window.end - window.start) // duration
    expected = [
        Slot(window.start + index * duration, window.start + (index + 1) * duration)
        for index in range(whole_sessions)
    ]
    assert slots == [slot for slot in expected if range_start <= slot.start < range_end]
    if range_start <= window.start and window.end <= range_end:
        assert len(slots) == whole_sessions
