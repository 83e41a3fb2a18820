"""Concrete cases for the slot engine: daylight-saving changes, odd offsets,
recurrence lines and each booking rule on its own (DESIGN.md §5, §6).

Expected times are written out by hand in UTC and checked again in local time,
so a reader can verify each case against a calendar.
"""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling.slots import BookingRules, Window, compute_slots, expand, parse_recurrence

EARLY = datetime(2026, 1, 1, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def wall(*parts: int) -> datetime:
    """A wall-clock time, zone to be given: what a mentor types into the form."""
    return datetime(*parts, tzinfo=UTC).replace(tzinfo=None)


def rule_window(
    zone: str,
    first_local: datetime,
    length: timedelta,
    recurrence: str = "",
    kind: str = "available",
) -> Window:
    """A window as the mentor enters it: wall-clock start and length in ``zone``."""
    tz = ZoneInfo(zone)
    start = first_local.replace(tzinfo=tz).astimezone(UTC)
    end = (first_local + length).replace(tzinfo=tz).astimezone(UTC)
    return Window(kind, zone, start, end, recurrence)


def slots_for(
    windows,
    start: datetime,
    end: datetime,
    *,
    duration: int = 60,
    now: datetime = EARLY,
    sessions=(),
    busy=(),
    sessions_per_day: Counter | None = None,
    **rule_options,
):
    rule_options.setdefault("horizon", timedelta(days=365))
    return compute_slots(
        windows=windows,
        sessions=list(sessions),
        busy=list(busy),
        rules=BookingRules(duration=timedelta(minutes=duration), **rule_options),
        now=now,
        start=start,
        end=end,
        sessions_per_day=sessions_per_day,
    )


def starts(slots) -> list[datetime]:
    return [slot.start for slot in slots]


def local_times(slots, zone: str) -> list[datetime]:
    return [slot.start.astimezone(ZoneInfo(zone)).replace(tzinfo=None) for slot in slots]


# --- Daylight-saving changes ------------------------------------------------------------------

SUNDAY_MORNINGS = {
    # zone, first Sunday (local); the three Sundays' 09:00 in UTC, around a change
    "new-york-spring": (
        "America/New_York",
        wall(2026, 3, 1, 9, 0),
        [utc(2026, 3, 1, 14), utc(2026, 3, 8, 13), utc(2026, 3, 15, 13)],
    ),
    "new-york-autumn": (
        "America/New_York",
        wall(2026, 10, 25, 9, 0),
        [utc(2026, 10, 25, 13), utc(2026, 11, 1, 14), utc(2026, 11, 8, 14)],
    ),
    "london-spring": (
        "Europe/London",
        wall(2026, 3, 22, 9, 0),
        [utc(2026, 3, 22, 9), utc(2026, 3, 29, 8), utc(2026, 4, 5, 8)],
    ),
    "london-autumn": (
        "Europe/London",
        wall(2026, 10, 18, 9, 0),
        [utc(2026, 10, 18, 8), utc(2026, 10, 25, 9), utc(2026, 11, 1, 9)],
    ),
    # Lord Howe moves by half an hour: +11:00 in summer, +10:30 in winter.
    "lord-howe-april": (
        "Australia/Lord_Howe",
        wall(2026, 3, 29, 9, 0),
        [utc(2026, 3, 28, 22), utc(2026, 4, 4, 22, 30), utc(2026, 4, 11, 22, 30)],
    ),
    "lord-howe-october": (
        "Australia/Lord_Howe",
        wall(2026, 9, 27, 9, 0),
        [utc(2026, 9, 26, 22, 30), utc(2026, 10, 3, 22), utc(2026, 10, 10, 22)],
    ),
}


@pytest.mark.parametrize(
    ("zone", "first_local", "sunday_mornings"),
    SUNDAY_MORNINGS.values(),
    ids=SUNDAY_MORNINGS.keys(),
)
def test_weekly_rule_keeps_its_wall_clock_hours_across_a_change(zone, first_local, sunday_mornings):
    window = rule_window(zone, first_local, timedelta(hours=3), "RRULE:FREQ=WEEKLY;BYDAY=SU")

    slots = slots_for(
        [window], sunday_mornings[0] - timedelta(days=1), sunday_mornings[-1] + timedelta(days=1)
    )

    hour = timedelta(hours=1)
    assert starts(slots) == [
        morning + index * hour for morning in sunday_mornings for index in (0, 1, 2)
    ]
    assert {moment.time() for moment in local_times(slots, zone)} == {
        time(9, 0),
        time(10, 0),
        time(11, 0),
    }


def test_the_utc_hour_of_a_weekly_rule_moves_with_the_change():
    window = rule_window(
        "America/New_York", wall(2026, 3, 1, 9, 0), timedelta(hours=3), "RRULE:FREQ=WEEKLY"
    )

    occurrences = expand(window, utc(2026, 3, 1), utc(2026, 3, 9))

    assert occurrences == [
        (utc(2026, 3, 1, 14), utc(2026, 3, 1, 17)),
        (utc(2026, 3, 8, 13), utc(2026, 3, 8, 16)),
    ]


@pytest.mark.parametrize(
    ("viewer_zone", "expected_local_times"),
    [
        ("Asia/Kolkata", ["00:30", "01:30", "02:30", "21:30", "22:30", "23:30"]),
        ("Asia/Kathmandu", ["00:45", "01:45", "02:45", "21:45", "22:45", "23:45"]),
    ],
)
def test_a_viewer_asks_for_one_local_date(viewer_zone, expected_local_times):
    # The mentor is in London (BST, +01:00): every day 17:00-23:00, 16:00-22:00 UTC.
    window = rule_window(
        "Europe/London", wall(2026, 6, 1, 17, 0), timedelta(hours=6), "RRULE:FREQ=DAILY"
    )
    viewer = ZoneInfo(viewer_zone)
    day_start = datetime(2026, 6, 15, tzinfo=viewer).astimezone(UTC)
    day_end = datetime(2026, 6, 16, tzinfo=viewer).astimezone(UTC)

    slots = slots_for([window], day_start, day_end)

    assert starts(slots) == [
        utc(2026, 6, 14, 19),
        utc(2026, 6, 14, 20),
        utc(2026, 6, 14, 21),
        utc(2026, 6, 15, 16),
        utc(2026, 6, 15, 17),
        utc(2026, 6, 15, 18),
    ]
    assert {moment.date() for moment in local_times(slots, viewer_zone)} == {date(2026, 6, 15)}
    assert [f"{moment:%H:%M}" for moment in local_times(slots, viewer_zone)] == (
        expected_local_times
    )


def test_a_mentor_in_kathmandu_gets_slots_on_a_quarter_hour_offset():
    # 09:00-12:00 at +05:45 is 03:15-06:15 UTC; 45-minute sessions fill it exactly.
    window = rule_window(
        "Asia/Kathmandu", wall(2026, 6, 1, 9, 0), timedelta(hours=3), "RRULE:FREQ=WEEKLY"
    )

    slots = slots_for([window], utc(2026, 6, 1), utc(2026, 6, 2), duration=45)

    assert starts(slots) == [
        utc(2026, 6, 1, 3, 15),
        utc(2026, 6, 1, 4, 0),
        utc(2026, 6, 1, 4, 45),
        utc(2026, 6, 1, 5, 30),
    ]
    assert [f"{moment:%H:%M}" for moment in local_times(slots, "Asia/Kathmandu")] == [
        "09:00",
        "09:45",
        "10:30",
        "11:15",
    ]


@pytest.mark.parametrize(
    ("zone", "first_local", "length", "skipped_day", "expected"),
    [
        # 02:30 does not exist in New York on 2026-03-08 (02:00 → 03:00).
        (
            "America/New_York",
            wall(2026, 3, 1, 2, 30),
            timedelta(minutes=90),
            date(2026, 3, 8),
            [
                utc(2026, 3, 1, 7, 30),
                utc(2026, 3, 1, 8, 0),
                utc(2026, 3, 1, 8, 30),
                utc(2026, 3, 15, 6, 30),
                utc(2026, 3, 15, 7, 0),
                utc(2026, 3, 15, 7, 30),
            ],
        ),
        # 02:10 does not exist on Lord Howe on 2026-10-04 (02:00 → 02:30).
        (
            "Australia/Lord_Howe",
            wall(2026, 9, 27, 2, 10),
            timedelta(minutes=30),
            date(2026, 10, 4),
            [utc(2026, 9, 26, 15, 40), utc(2026, 10, 10, 15, 10)],
        ),
    ],
)
def test_an_occurrence_starting_in_the_skipped_time_is_left_out(
    zone, first_local, length, skipped_day, expected
):
    window = rule_window(zone, first_local, length, "RRULE:FREQ=WEEKLY;BYDAY=SU")
    week = timedelta(days=7)

    slots = slots_for(
        [window],
        window.start - timedelta(days=1),
        window.start + 2 * week + timedelta(days=1),
        duration=30,
    )

    assert starts(slots) == expected
    assert skipped_day not in {moment.date() for moment in local_times(slots, zone)}


# Daily hours whose end the clock skips on one day: (zone, the first
# day's hours as wall-clock start and length, the change in UTC). Each day's
# hours begin a quarter of an hour before the change, so that day they last
# 15 minutes and end at the change (the clock passes their end there).
HOURS_ENDING_IN_A_SKIPPED_TIME = {
    # 02:00 becomes 03:00 on 14 March: 01:45-02:45.
    "new-york": ("America/New_York", wall(2027, 3, 7, 1, 45), timedelta(hours=1),
                 utc(2027, 3, 14, 7, 0)),
    # 01:00 becomes 02:00 on 28 March: 00:45-01:45.
    "london": ("Europe/London", wall(2027, 3, 21, 0, 45), timedelta(hours=1),
               utc(2027, 3, 28, 1, 0)),
    # 02:00 becomes 02:30 on 3 October (a 30-minute change): 01:45-02:15.
    "lord-howe": ("Australia/Lord_Howe", wall(2027, 9, 26, 1, 45), timedelta(minutes=30),
                  utc(2027, 10, 2, 15, 30)),
    # 02:45 becomes 03:45 on 26 September (at +12:45): 02:30-03:30.
    "chatham": ("Pacific/Chatham", wall(2027, 9, 19, 2, 30), timedelta(hours=1),
                utc(2027, 9, 25, 14, 0)),
    # 02:00 becomes 03:00 on 22 March 2026, after Ramadan: 01:45-02:45 (from
    # 20 September 2026 Morocco keeps +00 all year in tzdata 2026f).
    "casablanca": ("Africa/Casablanca", wall(2026, 3, 15, 1, 45), timedelta(hours=1),
                   utc(2026, 3, 22, 2, 0)),
}  # fmt: skip


@pytest.mark.parametrize(
    ("zone", "first_local", "length", "change"),
    HOURS_ENDING_IN_A_SKIPPED_TIME.values(),
    ids=HOURS_ENDING_IN_A_SKIPPED_TIME.keys(),
)
def test_hours_whose_end_the_clock_skips_end_at_the_change(zone, first_local, length, change):
    tz = ZoneInfo(zone)
    window = rule_window(zone, first_local, length, "RRULE:FREQ=DAILY")
    change_day = change.astimezone(tz).date()
    days = (change_day - timedelta(days=1), change_day, change_day + timedelta(days=1))
    start = datetime.combine(days[0], time.min, tzinfo=tz)
    end = datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=tz)

    # 15-minute sessions: that day holds one, from the start to the change.
    quarter_hours = slots_for([window], start, end, duration=15, now=window.start)
    on_change_day = [slot for slot in quarter_hours if slot.start.astimezone(tz).date() == days[1]]
    assert [(slot.start, slot.end) for slot in on_change_day] == [
        (change - timedelta(minutes=15), change)
    ]
    # The days either side keep their whole hours.
    per_day = Counter(slot.start.astimezone(tz).date() for slot in quarter_hours)
    assert per_day == {days[0]: length // timedelta(minutes=15), days[1]: 1,
                       days[2]: length // timedelta(minutes=15)}  # fmt: skip

    # 30-minute sessions do not fit that day; on the others every slot ends by
    # the hours' wall-clock end.
    half_hours = slots_for([window], start, end, duration=30, now=window.start)
    assert days[1] not in {slot.start.astimezone(tz).date() for slot in half_hours}
    wall_end = (first_local + length).time()
    assert half_hours
    for slot in half_hours:
        assert slot.end.astimezone(tz).time() <= wall_end, slot


def test_an_ambiguous_end_is_its_first_occurrence():
    # 00:30-01:30 every day in New York; 01:30 happens twice on 2026-11-01 and
    # the hours end at the first (05:30 UTC, EDT): one hour, as on other days.
    window = rule_window(
        "America/New_York", wall(2026, 10, 25, 0, 30), timedelta(hours=1), "RRULE:FREQ=DAILY"
    )

    slots = slots_for([window], utc(2026, 11, 1), utc(2026, 11, 2), duration=30)

    assert [(slot.start, slot.end) for slot in slots] == [
        (utc(2026, 11, 1, 4, 30), utc(2026, 11, 1, 5, 0)),
        (utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 5, 30)),
    ]


@pytest.mark.parametrize(
    ("zone", "first_local", "expected_starts"),
    [
        # 01:30 happens twice in New York on 2026-11-01: EDT (05:30 UTC), then EST.
        # The wall-clock hour to 02:30 EST is two real hours that day.
        (
            "America/New_York",
            wall(2026, 10, 25, 1, 30),
            [
                utc(2026, 10, 25, 5, 30),
                utc(2026, 11, 1, 5, 30),
                utc(2026, 11, 1, 6, 30),
                utc(2026, 11, 8, 6, 30),
            ],
        ),
        # 01:30 happens twice on Lord Howe on 2026-04-05: +11:00, then +10:30.
        (
            "Australia/Lord_Howe",
            wall(2026, 3, 29, 1, 30),
            [
                utc(2026, 3, 28, 14, 30),
                utc(2026, 4, 4, 14, 30),
                utc(2026, 4, 11, 15, 0),
            ],
        ),
    ],
)
def test_an_ambiguous_start_takes_its_first_occurrence(zone, first_local, expected_starts):
    window = rule_window(zone, first_local, timedelta(hours=1), "RRULE:FREQ=WEEKLY;BYDAY=SU")

    slots = slots_for([window], window.start - timedelta(days=1), window.start + timedelta(days=15))

    assert starts(slots) == expected_starts


def test_a_one_off_window_in_the_repeated_hour_keeps_its_stored_times():
    # 01:30-02:30 EST on 2026-11-01, i.e. the *second* 01:30 in New York: the
    # row holds exact UTC instants and a one-off has nothing to recompute.
    window = Window(
        "available", "America/New_York", utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 7, 30)
    )

    slots = slots_for([window], utc(2026, 11, 1), utc(2026, 11, 2), duration=30)

    assert starts(slots) == [utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 7, 0)]


# --- Recurrence lines ------------------------------------------------------------------------


def test_an_exdate_line_leaves_out_that_date():
    window = rule_window(
        "America/New_York",
        wall(2026, 3, 2, 9, 0),
        timedelta(hours=3),
        "RRULE:FREQ=WEEKLY;BYDAY=MO\nEXDATE:20260309T090000",
    )

    slots = slots_for([window], utc(2026, 3, 1), utc(2026, 3, 20), duration=180)

    assert starts(slots) == [utc(2026, 3, 2, 14), utc(2026, 3, 16, 13)]


@pytest.mark.parametrize(
    "recurrence",
    [
        "FREQ=HOURLY",
        "RRULE:FREQ=HOURLY;INTERVAL=2",
        "RRULE:FREQ=MINUTELY",
        "RRULE:FREQ=SECONDLY",
        "garbage",
        "RRULE:FREQ=WEEKLY;BYDAY=XX",
        "RRULE:FREQ=WEEKLY;COUNT=many",
        "RRULE:FREQ=WEEKLY;BYDAY=MO\n" + "EXDATE:20260309T090000\n" * 200,
        # Daily in name only: 96 starts a day is as many windows as an
        # every-15-minutes rule.
        "RRULE:FREQ=DAILY;BYHOUR=" + ",".join(map(str, range(24))) + ";BYMINUTE=0,15,30,45",
    ],
    ids=[
        "hourly",
        "hourly-interval",
        "minutely",
        "secondly",
        "garbage",
        "bad-weekday",
        "bad-count",
        "too-long",
        "many-starts-a-day",
    ],
)
def test_recurrences_we_do_not_expand_raise_value_error(recurrence):
    with pytest.raises(ValueError):
        parse_recurrence(recurrence)


@pytest.mark.parametrize(
    "recurrence",
    [
        "RRULE:FREQ=WEEKLY;BYDAY=MO\nEXDATE:20260309T140000Z",
        "RRULE:FREQ=WEEKLY;BYDAY=MO\nEXDATE;TZID=America/New_York:20260309T090000",
        "DTSTART;TZID=America/New_York:20260302T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO",
        # A DTSTART line of its own would move the window's time of day.
        "DTSTART:20260302T000000\nRRULE:FREQ=WEEKLY;BYDAY=MO",
    ],
    ids=["exdate-utc", "exdate-tzid", "dtstart-tzid", "dtstart-naive"],
)
def test_recurrences_with_their_own_zone_or_start_are_refused(recurrence):
    """Times in a rule are the window's wall-clock times. A rule that carries a
    zone or a start of its own must be refused when it is saved: accepted, it
    makes expansion compare naive and aware datetimes (TypeError on every page
    that shows the mentor's slots) or silently shifts the window."""
    with pytest.raises(ValueError):
        parse_recurrence(recurrence)


def test_the_daily_cap_applies_to_each_day_of_the_mentors_zone():
    # Available 14:00-16:00 UTC every day, which is 23:00-01:00 in Tokyo; one
    # session already on 2 June in Tokyo and a cap of one a day.
    window = rule_window("UTC", wall(2026, 6, 1, 14, 0), timedelta(hours=2), "RRULE:FREQ=DAILY")

    slots = slots_for(
        [window],
        utc(2026, 6, 1),
        utc(2026, 6, 3),
        max_sessions_per_day=1,
        mentor_timezone="Asia/Tokyo",
        sessions_per_day=Counter({date(2026, 6, 2): 1}),
    )

    # 1 June 15:00 UTC and 2 June 14:00 UTC are both on 2 June in Tokyo.
    assert starts(slots) == [utc(2026, 6, 1, 14), utc(2026, 6, 2, 15)]


# --- One rule at a time ----------------------------------------------------------------------

WORKDAY = rule_window(
    "America/New_York",
    wall(2026, 6, 1, 9, 0),
    timedelta(hours=8),
    "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
)
MONDAY = (utc(2026, 6, 1), utc(2026, 6, 2))


def new_york(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)


def test_a_workday_in_new_york_without_obstacles():
    slots = slots_for([WORKDAY], *MONDAY)

    assert starts(slots) == [new_york(2026, 6, 1, hour) for hour in range(9, 17)]


def test_blocked_windows_remove_the_slots_they_touch():
    lunch = rule_window(
        "America/New_York",
        wall(2026, 5, 4, 12, 0),
        timedelta(hours=1),
        "RRULE:FREQ=DAILY",
        kind="blocked",
    )
    dentist = Window("blocked", "UTC", new_york(2026, 6, 1, 14, 30), new_york(2026, 6, 1, 15, 0))

    slots = slots_for([WORKDAY, lunch, dentist], *MONDAY)

    assert starts(slots) == [new_york(2026, 6, 1, hour) for hour in (9, 10, 11, 13, 15, 16)]


def test_a_blocked_window_wins_over_an_available_one_whatever_their_order():
    blocked = Window("blocked", "UTC", new_york(2026, 6, 1, 9), new_york(2026, 6, 1, 17))

    assert slots_for([blocked, WORKDAY], *MONDAY) == []
    assert slots_for([WORKDAY, blocked], *MONDAY) == []


@pytest.mark.parametrize("obstacle", ["sessions", "busy"])
def test_sessions_and_busy_times_keep_the_buffer_free_on_both_sides(obstacle):
    taken = [(new_york(2026, 6, 1, 12), new_york(2026, 6, 1, 13))]

    without_buffer = slots_for([WORKDAY], *MONDAY, **{obstacle: taken})
    with_buffer = slots_for([WORKDAY], *MONDAY, buffer=timedelta(minutes=15), **{obstacle: taken})

    assert starts(without_buffer) == [
        new_york(2026, 6, 1, hour) for hour in (9, 10, 11, 13, 14, 15, 16)
    ]
    # 11:00-12:00 ends inside 11:45-12:00 and 13:00 starts inside 13:00-13:15.
    assert starts(with_buffer) == [new_york(2026, 6, 1, hour) for hour in (9, 10, 14, 15, 16)]


def test_a_buffer_is_not_kept_around_blocked_windows():
    blocked = Window("blocked", "UTC", new_york(2026, 6, 1, 12), new_york(2026, 6, 1, 13))

    slots = slots_for([WORKDAY, blocked], *MONDAY, buffer=timedelta(minutes=30))

    assert new_york(2026, 6, 1, 11) in starts(slots)
    assert new_york(2026, 6, 1, 13) in starts(slots)


def test_minimum_notice_keeps_the_grid():
    # Now 08:50 with two hours' notice: the earliest start is 10:50, and the
    # first slot is the next one on the hourly grid from 09:00.
    slots = slots_for(
        [WORKDAY],
        *MONDAY,
        now=new_york(2026, 6, 1, 8, 50),
        minimum_notice=timedelta(hours=2),
    )

    assert starts(slots) == [new_york(2026, 6, 1, hour) for hour in range(11, 17)]


def test_the_horizon_ends_the_offer():
    # Now Monday 09:30 with a two-day horizon: Wednesday 09:00 is the last start.
    slots = slots_for(
        [WORKDAY],
        utc(2026, 6, 1),
        utc(2026, 6, 6),
        now=new_york(2026, 6, 1, 9, 30),
        horizon=timedelta(days=2),
    )

    assert starts(slots)[0] == new_york(2026, 6, 1, 10)
    assert starts(slots)[-1] == new_york(2026, 6, 3, 9)
    assert len(slots) == 7 + 8 + 1


def test_a_range_ending_mid_window_offers_only_the_slots_starting_before_it():
    slots = slots_for([WORKDAY], new_york(2026, 6, 1, 10, 30), new_york(2026, 6, 1, 12))

    assert starts(slots) == [new_york(2026, 6, 1, 11)]


@pytest.mark.parametrize(
    ("range_start", "expected"),
    [
        (
            utc(2026, 6, 1),
            [
                utc(2026, 6, 1, 8),
                utc(2026, 6, 1, 8, 45),
                utc(2026, 6, 1, 9, 30),
                utc(2026, 6, 1, 10, 15),
            ],
        ),
        (utc(2026, 6, 1, 9, 15), [utc(2026, 6, 1, 9, 30), utc(2026, 6, 1, 10, 15)]),
        (utc(2026, 6, 1, 9, 45), [utc(2026, 6, 1, 10, 15)]),
    ],
    ids=["whole-day", "from-09:15", "from-09:45"],
)
def test_the_grid_does_not_depend_on_the_range_asked_for(range_start, expected):
    """Two windows that touch are one stretch of time (08:00–11:00) and share one
    grid, so a slot offered for the whole day is offered, at the same time, for
    any range that contains its start, and no other slot is (the booking form
    re-checks a chosen slot with a narrow range)."""
    early = Window("available", "UTC", utc(2026, 6, 1, 8), utc(2026, 6, 1, 9))
    late = Window("available", "UTC", utc(2026, 6, 1, 9), utc(2026, 6, 1, 11))

    slots = slots_for([early, late], range_start, utc(2026, 6, 2), duration=45)

    assert starts(slots) == expected


def test_a_range_inside_daily_hours_takes_the_grid_from_the_run_that_touches_them():
    """Daily 00:00-08:00 and 08:00-20:00 touch: one run from midnight, so
    50-minute slots asked for from 14:00 lie on the grid from 00:00 (13:20,
    14:10...), not from 08:00 (13:50...)."""
    night = Window("available", "UTC", utc(2026, 5, 1), utc(2026, 5, 1, 8), "RRULE:FREQ=DAILY")
    day = Window("available", "UTC", utc(2026, 5, 1, 8), utc(2026, 5, 1, 20), "RRULE:FREQ=DAILY")

    slots = slots_for([night, day], utc(2026, 6, 1, 14), utc(2026, 6, 1, 16), duration=50)

    assert starts(slots) == [
        utc(2026, 6, 1, 14, 10),
        utc(2026, 6, 1, 15, 0),
        utc(2026, 6, 1, 15, 50),
    ]


def test_round_the_clock_hours_take_the_grid_from_their_first_day():
    """A daily 24-hour window is one run from its first day (4 days earlier
    here): 50-minute slots continue that grid, which shifts by 10 minutes a
    day (1440 = 28 x 50 + 40)."""
    always = Window("available", "UTC", utc(2026, 5, 28), utc(2026, 5, 29), "RRULE:FREQ=DAILY")

    slots = slots_for([always], utc(2026, 6, 1, 12), utc(2026, 6, 1, 14), duration=50)

    # 4 days after 00:00 on 28 May is 5760 minutes = 115 x 50 + 10: 00:40 on
    # 1 June is on the grid, and so are 12:20 and 13:10.
    assert starts(slots) == [utc(2026, 6, 1, 12, 20), utc(2026, 6, 1, 13, 10)]


def test_a_slot_starting_exactly_at_the_horizon_is_not_offered():
    from datetime import UTC, datetime, timedelta

    from scheduling.slots import BookingRules, Window, compute_slots

    now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    window = Window("available", "UTC", now, now + timedelta(hours=3))
    rules = BookingRules(duration=timedelta(hours=1), horizon=timedelta(hours=2))
    slots = compute_slots(
        windows=[window],
        sessions=[],
        busy=[],
        rules=rules,
        now=now,
        start=now,
        end=now + timedelta(days=1),
    )
    # 09:00 and 10:00 start before now + 2 h; 11:00 starts exactly at it.
    assert [slot.start.hour for slot in slots] == [9, 10]


def test_a_rule_starting_in_the_repeated_hour_keeps_its_first_instant():
    """A daily rule whose first start is 01:15 EST on 1 November 2026 (the
    second 01:15 in New York): that occurrence is the stored instant, not the
    first 01:15 (EDT) an hour earlier; later days use their own 01:15."""
    first_start = datetime(2026, 11, 1, 6, 15, tzinfo=UTC)  # 01:15 EST
    window = Window(
        "blocked",
        "America/New_York",
        first_start,
        datetime(2026, 11, 1, 7, 0, tzinfo=UTC),  # 02:00 EST
        "RRULE:FREQ=DAILY",
    )
    occurrences = expand(
        window, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)
    )
    assert occurrences[0] == (first_start, datetime(2026, 11, 1, 7, 0, tzinfo=UTC))
    assert occurrences[1] == (
        datetime(2026, 11, 2, 6, 15, tzinfo=UTC),
        datetime(2026, 11, 2, 7, 0, tzinfo=UTC),
    )
