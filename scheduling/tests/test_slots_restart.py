"""Expanding old rules: ``slots.starting_near`` restarts daily and weekly rules
near the range asked for, so the cost no longer grows with a rule's age. The
restarted rules must give exactly the occurrences dateutil gives walking the
original rule from its first occurrence; hypothesis compares the two over
random rules and ranges up to ten years after the rule began."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.slots import Window, expand, parse_recurrence, starting_near

WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def wall(*parts) -> datetime:
    """A naive wall-clock time, as rules are expanded in (``parse_recurrence``)."""
    return datetime(*parts, tzinfo=UTC).replace(tzinfo=None)


@st.composite
def rules(draw):
    frequency = draw(st.sampled_from(["DAILY", "WEEKLY"]))
    parts = [f"FREQ={frequency}"]
    interval = draw(st.integers(1, 4))
    if interval > 1:
        parts.append(f"INTERVAL={interval}")
    days = draw(st.lists(st.sampled_from(WEEKDAYS), unique=True, max_size=4))
    if days:
        parts.append("BYDAY=" + ",".join(days))
    if frequency == "WEEKLY" and draw(st.booleans()):
        parts.append("WKST=" + draw(st.sampled_from(WEEKDAYS)))
    dtstart = draw(st.datetimes(min_value=wall(2016, 1, 1), max_value=wall(2026, 12, 31))).replace(
        second=0, microsecond=0
    )
    if draw(st.booleans()):
        until = dtstart + timedelta(days=draw(st.integers(0, 4000)))
        parts.append(f"UNTIL={until:%Y%m%dT%H%M%S}")
    lines = ["RRULE:" + ";".join(parts)]
    exdates = draw(st.lists(st.integers(0, 4000), max_size=3))
    if exdates:
        lines.append(
            "EXDATE:"
            + ",".join(f"{dtstart + timedelta(days=days):%Y%m%dT%H%M%S}" for days in exdates)
        )
    if draw(st.booleans()):
        extra = dtstart + timedelta(days=draw(st.integers(0, 4000)), hours=3)
        lines.append(f"RDATE:{extra:%Y%m%dT%H%M%S}")
    return "\n".join(lines), dtstart


@settings(max_examples=300, deadline=None)
@given(
    rule=rules(),
    offset=st.integers(-30, 3700),
    length=st.integers(0, 70),
)
def test_restarted_rules_give_the_same_occurrences(rule, offset, length):
    text, dtstart = rule
    original = parse_recurrence(text, dtstart)
    lower = dtstart + timedelta(days=offset, minutes=offset * 7 % 1440)
    upper = lower + timedelta(days=length)

    restarted = starting_near(original, dtstart, lower)

    assert restarted.between(lower, upper, inc=True) == original.between(lower, upper, inc=True)


def test_old_daily_and_weekly_rules_are_restarted_near_the_range():
    dtstart = wall(2016, 3, 7, 9)  # a Monday
    lower = wall(2026, 11, 26)
    for text in ("RRULE:FREQ=WEEKLY;BYDAY=MO", "RRULE:FREQ=DAILY;INTERVAL=3"):
        restarted = starting_near(parse_recurrence(text, dtstart), dtstart, lower)
        (rule,) = restarted._rrule
        assert lower - timedelta(weeks=8 * 3) < rule._dtstart <= lower
        assert rule._dtstart.time() == dtstart.time()


def test_rules_that_cannot_be_restarted_are_walked_from_the_start():
    dtstart = wall(2016, 1, 31, 9)
    lower = wall(2026, 11, 26)
    for text in (
        "RRULE:FREQ=WEEKLY;COUNT=600",  # COUNT counts from the first occurrence
        "RRULE:FREQ=MONTHLY",  # a month has no fixed length (the 31st)
        "RRULE:FREQ=YEARLY",
    ):
        original = parse_recurrence(text, dtstart)
        assert starting_near(original, dtstart, lower) is original


def test_a_window_ten_years_old_expands_like_a_new_one():
    # 09:00-17:00 Berlin on Mondays since 2016: the Monday after the range
    # start, across a daylight-saving change (25 October 2026).
    window = Window(
        "available",
        "Europe/Berlin",
        datetime(2016, 3, 7, 8, tzinfo=UTC),  # 09:00 CET
        datetime(2016, 3, 7, 16, tzinfo=UTC),
        "RRULE:FREQ=WEEKLY;BYDAY=MO",
    )
    start = datetime(2026, 10, 18, tzinfo=UTC)
    assert expand(window, start, start + timedelta(days=14)) == [
        (datetime(2026, 10, 19, 7, tzinfo=UTC), datetime(2026, 10, 19, 15, tzinfo=UTC)),  # CEST
        (datetime(2026, 10, 26, 8, tzinfo=UTC), datetime(2026, 10, 26, 16, tzinfo=UTC)),  # CET
    ]


@given(
    rule=st.sampled_from(
        [
            "RRULE:FREQ=WEEKLY;BYDAY=MO,WE",
            "RRULE:FREQ=DAILY;INTERVAL=3",
            "RRULE:FREQ=MONTHLY;BYMONTHDAY=31",
            "RRULE:FREQ=WEEKLY;COUNT=10",
            "RRULE:FREQ=DAILY\nEXDATE:20260605T091500",
        ]
    ),
    lower_minutes=st.integers(min_value=-60 * 24 * 20, max_value=60 * 24 * 400),
    length_minutes=st.integers(min_value=0, max_value=60 * 24 * 10),
)
@settings(max_examples=200, deadline=None)
def test_occurrences_between_are_the_rules_between(rule, lower_minutes, length_minutes):
    # The remembered days give exactly what the rule gives between the bounds
    # (both included), wherever the bounds fall within their days.
    from scheduling.slots import occurrences_between

    first = datetime(2026, 6, 1, 9, 15)  # noqa: DTZ001 - rules run on local wall-clock time
    rules = parse_recurrence(rule, first)
    lower = first + timedelta(minutes=lower_minutes)
    upper = lower + timedelta(minutes=length_minutes)
    assert occurrences_between(rules, lower, upper) == rules.between(lower, upper, inc=True)
    # Bounds on an occurrence are included.
    on = rules.after(lower, inc=True)
    if on is not None:
        assert on in occurrences_between(rules, on, on)
