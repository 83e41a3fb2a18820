"""The slot engine: which start times a mentor can be booked at.

``compute_slots`` is a pure function of plain data (UTC in, UTC out);
``available_slots`` loads that data for one mentor in a constant number of
queries (``load_schedule``) and calls it. Nothing here calls an external
calendar: busy times from calendars arrive as ``BusyInterval`` rows, written
by the sync task. ``compute_slots`` is made of small steps (bounds, runs of
hours, obstacles, the grid, the daily cap) that ``scheduling.explain`` runs
for a single start to say why it is not offered.

Rules (DESIGN.md §6). A slot is offered only if
- it lies wholly inside an available window and outside every blocked window;
- it does not overlap an upcoming/active session or a busy interval, each
  widened by the mentor's buffer on both sides;
- it starts at least ``minimum notice`` after now and before the end of the
  booking horizon (``now + horizon``, exclusive);
- the mentor's day (in the mentor's own zone) has not reached its session cap.
Slots start at the beginning of an available window and follow each other at
the session's length, so they never overlap; the list is sorted.

Availability is wall-clock time in its own zone: occurrences of a weekly rule
are generated in local time and only then turned into UTC, so 09:00 stays
09:00 across daylight-saving changes. On the days the clocks change
(DESIGN.md §5):

- a local start time that does not exist that day (the skipped hour) skips
  the occurrence; an ambiguous one (the repeated hour) takes its first
  occurrence;
- a local end time that does not exist ends the occurrence when the clock
  passes it, which is the instant of the change (hours 01:45-02:45 in New
  York on the day 02:00 becomes 03:00 end at 03:00 EDT, a quarter of an hour
  after they began); an ambiguous end is its first occurrence. Both are
  ``clock_reaches``: the first instant the clock reads that time or later.
  So no occurrence, and no slot, ends after its window's wall-clock end.

A rule's first occurrence is its stored instants (``Availability.start`` and
``end``), which is why the services anchor a rule on a day whose start and end
both exist (``scheduling.availability.replace_weekly_hours``): an instant cannot
hold a wall-clock time the clock skipped. One-off windows (date overrides,
time off) are stored instants too; the services turn their local times into
instants with ``clock_reaches``, so a one-off that starts in the skipped hour
starts at the change.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rruleset, rrulestr

ALLOWED_FREQUENCIES = {DAILY, WEEKLY, MONTHLY, YEARLY}
MAX_RECURRENCE_LENGTH = 2000

Interval = tuple[datetime, datetime]


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Window:
    """An availability row as plain data (``scheduling.Availability``)."""

    kind: str  # "available" or "blocked"
    timezone: str
    start: datetime  # first occurrence, aware
    end: datetime
    recurrence: str = ""


@dataclass(frozen=True)
class BookingRules:
    duration: timedelta
    buffer: timedelta = timedelta(0)
    minimum_notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=60)
    max_sessions_per_day: int | None = None
    mentor_timezone: str = "UTC"


# --- Recurrence ------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def parse_recurrence(text: str, dtstart: datetime = datetime(2000, 1, 1)):  # noqa: DTZ001
    """An ``rruleset`` for RFC 5545 lines (RRULE, EXDATE…) from a naive local ``dtstart``.

    Raises ValueError for anything we do not expand: unparseable text, or a
    frequency finer than daily (which could produce millions of windows).
    """
    if len(text) > MAX_RECURRENCE_LENGTH:
        raise ValueError("the rule is too long")
    try:
        rules = rrulestr(text, dtstart=dtstart, forceset=True, unfold=True)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise ValueError(str(error) or "unreadable rule") from error
    for rule in (*rules._rrule, *rules._exrule):
        if rule._freq not in ALLOWED_FREQUENCIES:
            raise ValueError("repeat at most daily")
        if len(rule._byhour) * len(rule._byminute) * len(rule._bysecond) > 1:
            # BYHOUR/BYMINUTE/BYSECOND lists would make a "daily" rule start
            # many times a day; the time of day comes from the window.
            raise ValueError("start once a day: the time of day comes from the window")
        if rule._dtstart != dtstart.replace(microsecond=0):
            raise ValueError("the first occurrence comes from the window, not a DTSTART line")
    if any(moment.tzinfo is not None for moment in (*rules._rdate, *rules._exdate)):
        raise ValueError("give RDATE and EXDATE in the window's local time, without Z or TZID")
    return rules


# dateutil walks a rule from its first occurrence, so expanding a rule that
# started years ago costs years of occurrences. Daily and weekly rules repeat
# with a fixed period of local time; such a rule restarted a whole number of
# periods later gives the same occurrences from there on.
FIXED_PERIODS = {DAILY: timedelta(days=1), WEEKLY: timedelta(weeks=1)}
# Restart points are multiples of this many periods (times the rule's
# interval), so that the restarted rules are shared between nearby ranges.
RESTART_STEP = 8


def starting_near(rules, dtstart: datetime, lower: datetime):
    """``rules`` (from ``parse_recurrence(text, dtstart)``), restarted at or
    before ``lower`` where that gives the same occurrences from ``lower`` on.

    Only daily and weekly rules without COUNT are restarted (COUNT counts from
    the first occurrence; a month or a year is no fixed length). A restart is a
    whole number of intervals later in local wall-clock time, so the weekday,
    the time of day and the weeks counted from WKST stay the same; UNTIL,
    RDATE and EXDATE are absolute and kept.
    """
    restarts = []
    for rule in (*rules._rrule, *rules._exrule):
        period = FIXED_PERIODS.get(rule._freq)
        if period is None or rule._count is not None:
            return rules
        step = period * rule._interval * RESTART_STEP
        restarts.append(dtstart + step * ((lower - dtstart) // step))
    if not restarts or max(restarts) <= dtstart:
        return rules
    return _restarted(rules, tuple(restarts))


@lru_cache(maxsize=4096)
def _restarted(rules, restarts: tuple[datetime, ...]):
    restarted = rruleset()
    count = len(rules._rrule)
    for rule, start in zip(rules._rrule, restarts[:count], strict=True):
        restarted.rrule(rule.replace(dtstart=start))
    for rule, start in zip(rules._exrule, restarts[count:], strict=True):
        restarted.exrule(rule.replace(dtstart=start))
    for moment in rules._rdate:
        restarted.rdate(moment)
    for moment in rules._exdate:
        restarted.exdate(moment)
    return restarted


def wall_time_exists(local: datetime, zone: ZoneInfo) -> bool:
    """Whether the clock in ``zone`` reads ``local`` at some instant (it does
    not in the hour skipped when the clocks go forward)."""
    return _to_utc(local, zone) is not None


def _to_utc(local: datetime, zone: ZoneInfo) -> datetime | None:
    """``local`` wall-clock time in ``zone`` as UTC; None if it does not exist.

    ``fold=0`` picks the first of two occurrences of an ambiguous time.
    """
    aware = local.replace(tzinfo=zone, fold=0)
    moment = aware.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != local:
        return None  # skipped by a daylight-saving change
    return moment


def clock_reaches(local: datetime, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the clock in ``zone`` reads ``local``
    (naive wall-clock time) or later.

    That is ``local`` itself when it exists; the first of its two instants when
    the clock is set back over it; and, when the clock skips it (set forward),
    the instant of the change, at which the clock passes ``local`` without
    ever reading it. Tz data changes at whole seconds, so ``local`` should
    have no microseconds.
    """
    moment = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) == local:
        return moment
    # Skipped. fold=0 read ``local`` with the offset from before the change,
    # which lands as far after the change as ``local`` is into the gap; fold=1
    # read it with the offset from after, which lands before the change.
    # Search the seconds between for the first one with the later offset.
    later_offset = moment.astimezone(zone).utcoffset()
    before = local.replace(tzinfo=zone, fold=1).astimezone(UTC).replace(microsecond=0)
    low, high = 0, int((moment - before).total_seconds())
    while high - low > 1:
        middle = (low + high) // 2
        if (before + timedelta(seconds=middle)).astimezone(zone).utcoffset() == later_offset:
            high = middle
        else:
            low = middle
    return before + timedelta(seconds=high)


def occurrences_between(rules, lower: datetime, upper: datetime) -> list[datetime]:
    """``rules.between(lower, upper, inc=True)``, from the occurrences of
    the whole local days around them, which are remembered: walking a rule
    costs far more than filtering a few starts, and the bookings and pages of
    one day ask about the same days again and again."""
    first_day = lower.replace(hour=0, minute=0, second=0, microsecond=0)
    last_day = upper.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return [
        moment
        for moment in _day_occurrences(rules, first_day, last_day)
        if lower <= moment <= upper
    ]


@lru_cache(maxsize=4096)
def _day_occurrences(rules, first_day: datetime, last_day: datetime) -> tuple[datetime, ...]:
    # ``rules`` come from the caches of ``parse_recurrence`` and
    # ``_restarted``: one object per rule and restart, hashed by identity.
    return tuple(rules.between(first_day, last_day, inc=True))


def expand(window: Window, range_start: datetime, range_end: datetime) -> list[Interval]:
    """The window's occurrences (UTC) that may touch [range_start, range_end)."""
    if not window.recurrence:
        # A one-off is its stored instants. Going through wall-clock time would
        # move an instant in the repeated hour to that hour's first occurrence.
        if window.end > range_start and window.start < range_end:
            return [(window.start, window.end)]
        return []
    zone = ZoneInfo(window.timezone)
    local_start = window.start.astimezone(zone).replace(tzinfo=None)
    length = window.end.astimezone(zone).replace(tzinfo=None) - local_start
    if window.recurrence:
        # A day of margin each side: zone offsets are under a day.
        lower = range_start.astimezone(zone).replace(tzinfo=None) - length - timedelta(days=1)
        upper = range_end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
        rules = starting_near(parse_recurrence(window.recurrence, local_start), local_start, lower)
        starts = occurrences_between(rules, lower, upper)
    else:
        starts = [local_start]
    occurrences = []
    for local in starts:
        if local == local_start:
            # The first occurrence is the stored instants, as for a one-off:
            # wall-clock time would move a start in the repeated hour to that
            # hour's first occurrence.
            start, end = window.start, window.end
        else:
            start = _to_utc(local, zone)
            if start is None:
                continue
            end = clock_reaches(local + length, zone)
        if end > start and end > range_start and start < range_end:
            occurrences.append((start, end))
    return occurrences


# --- Interval arithmetic -----------------------------------------------------------------


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint union of ``intervals`` (touching ones joined)."""
    merged: list[list[datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


MAX_RUN_LOOKBACK = timedelta(days=400)


def _available_runs(windows: Sequence[Window], range_start: datetime, range_end: datetime):
    """Merged available occurrences touching [range_start, range_end), each run
    followed back to its first occurrence (at most MAX_RUN_LOOKBACK).

    Slots are laid from a run's start; a run cut at ``range_start`` would lay
    them on a grid that depends on the range asked for.
    """
    lower = range_start - timedelta(days=1)
    stepped = False
    while True:
        runs = merge(
            occurrence for window in windows for occurrence in expand(window, lower, range_end)
        )
        # A run starting after ``lower`` is whole: an occurrence touching it ends
        # after ``lower`` and so was expanded and merged into it.
        if not runs or runs[0][0] > lower or range_start - lower >= MAX_RUN_LOOKBACK:
            return runs
        # The first run began before ``lower``: an occurrence ending between
        # its start and ``lower`` may join it. Look back to just before its
        # start (usually the end of the search: hours with a gap before them);
        # after that, at least twice as far each time, so that round-the-clock
        # hours (one long run) take a few steps, not one per day.
        before_run = runs[0][0] - timedelta(microseconds=1)
        lower = min(before_run, range_start - 2 * (range_start - lower)) if stepped else before_run
        stepped = True


# --- The engine's steps ---------------------------------------------------------------------
#
# ``compute_slots`` runs these over a range of starts; ``scheduling.explain``
# runs the same ones for a single start to name every reason it is not offered.
# A rule changed here changes both (``test_explain_agrees`` checks they agree).


def start_bounds(rules: BookingRules, *, now: datetime, start: datetime, end: datetime):
    """(earliest, latest): slot starts asked for in [start, end) must lie in
    [earliest, latest): at least the minimum notice after ``now``, and before
    both ``end`` and the end of the booking horizon."""
    return max(start, now + rules.minimum_notice), min(end, now + rules.horizon)


def blocked_occurrences(windows: Sequence[Window], range_start: datetime, range_end: datetime):
    """Occurrences of the blocked windows (time off) touching [range_start, range_end)."""
    return [
        occurrence
        for window in windows
        if window.kind == "blocked"
        for occurrence in expand(window, range_start, range_end)
    ]


def open_runs(windows: Sequence[Window], range_start: datetime, range_end: datetime):
    """The available time touching [range_start, range_end): merged runs of
    the available windows' occurrences, each whole from its start (slots are
    laid on a grid from a run's start, see ``grid_start``)."""
    return _available_runs(
        [window for window in windows if window.kind != "blocked"], range_start, range_end
    )


def widened(intervals: Iterable[Interval], buffer: timedelta) -> list[Interval]:
    """Sessions or busy times with the mentor's buffer added on both sides."""
    return [(start - buffer, end + buffer) for start, end in intervals]


def merged_obstacles(
    *,
    blocked: Iterable[Interval],
    sessions: Iterable[Interval],
    busy: Iterable[Interval],
    buffer: timedelta,
) -> list[Interval]:
    """What no slot may overlap: blocked time as it is, sessions and busy
    times widened by the buffer; merged (sorted and disjoint)."""
    return merge([*blocked, *widened(sessions, buffer), *widened(busy, buffer)])


def overlaps(interval: Interval, slot_start: datetime, slot_end: datetime) -> bool:
    """Whether ``interval`` and [slot_start, slot_end) share time (touching is not sharing)."""
    return interval[0] < slot_end and interval[1] > slot_start


def full_days(rules: BookingRules, sessions_per_day: Counter | None) -> set[date]:
    """The mentor's local dates whose session count has reached the daily cap."""
    cap = rules.max_sessions_per_day
    if cap is None or not sessions_per_day:
        return set()
    return {day for day, count in sessions_per_day.items() if count >= cap}


def local_day(moment: datetime, rules: BookingRules) -> date:
    """The date in the mentor's zone at ``moment``: the day the daily cap counts."""
    return moment.astimezone(ZoneInfo(rules.mentor_timezone)).date()


def grid_start(run_start: datetime, earliest: datetime, duration: timedelta) -> datetime:
    """The first slot start at or after ``earliest`` on the grid of a run
    beginning at ``run_start``: its start, then every ``duration``."""
    if run_start >= earliest:
        return run_start
    steps = -(-(earliest - run_start) // duration)
    return run_start + steps * duration


# --- The engine ---------------------------------------------------------------------------


def compute_slots(
    *,
    windows: Sequence[Window],
    sessions: Sequence[Interval],
    busy: Sequence[Interval],
    rules: BookingRules,
    now: datetime,
    start: datetime,
    end: datetime,
    sessions_per_day: Counter | None = None,
) -> list[Slot]:
    """Bookable slots starting in [start, end), in UTC, sorted, never overlapping.

    ``sessions`` are the mentor's upcoming/active sessions and ``busy`` the busy
    intervals from calendars; ``sessions_per_day`` counts the mentor's
    non-cancelled sessions per local date (for the daily cap).
    """
    duration = rules.duration
    if duration <= timedelta(0) or end <= start:
        return []
    earliest, latest_start = start_bounds(rules, now=now, start=start, end=end)
    if earliest >= latest_start:
        return []

    # Windows that could hold a slot starting in range.
    reach_start, reach_end = earliest - duration, latest_start + duration
    blocked = blocked_occurrences(windows, reach_start, reach_end)
    open_windows = open_runs(windows, reach_start, reach_end)
    if not open_windows:
        return []

    obstacles = merged_obstacles(blocked=blocked, sessions=sessions, busy=busy, buffer=rules.buffer)
    obstacle_ends = [obstacle_end for _start, obstacle_end in obstacles]

    days_full = full_days(rules, sessions_per_day)

    slots: list[Slot] = []
    for window_start, window_end in open_windows:
        # Jump to the first grid point at or after ``earliest``, keeping the
        # grid anchored at the window's start.
        slot_start = grid_start(window_start, earliest, duration)
        # Candidates only move forward, so one pointer walks the obstacles
        # (merged: sorted and disjoint) instead of a search per candidate.
        index = bisect.bisect_right(obstacle_ends, slot_start)
        while slot_start + duration <= window_end and slot_start < latest_start:
            slot_end = slot_start + duration
            while index < len(obstacles) and obstacle_ends[index] <= slot_start:
                index += 1
            clear = index == len(obstacles) or obstacles[index][0] >= slot_end
            if clear and (not days_full or local_day(slot_start, rules) not in days_full):
                slots.append(Slot(slot_start, slot_end))
            slot_start = slot_end
    return slots


# --- Loading from the database -------------------------------------------------------------

BUSY = "busy"  # a busy interval's status in available_slots' query (no session status)


@dataclass
class Schedule:
    """What the engine needs of one mentor around a range, loaded by
    ``load_schedule``: ``compute_slots``'s arguments but ``now`` and the range.

    With ``identified``, ``session_refs`` and ``busy_refs`` say what each
    entry of ``sessions`` and ``busy`` is: the session's id, and the busy
    interval's calendar connection id (None for one without), in the same
    order; otherwise they are empty.
    """

    windows: list[Window]
    sessions: list[Interval]
    busy: list[Interval]
    rules: BookingRules
    sessions_per_day: Counter
    session_refs: list = field(default_factory=list)
    busy_refs: list = field(default_factory=list)


def booking_rules(mentor, session_type) -> BookingRules:
    """The mentor's booking rules for ``session_type``'s length."""
    return BookingRules(
        duration=timedelta(minutes=session_type.duration_minutes),
        buffer=timedelta(minutes=mentor.buffer_minutes),
        minimum_notice=timedelta(minutes=mentor.minimum_notice_minutes),
        horizon=timedelta(days=mentor.booking_horizon_days),
        max_sessions_per_day=mentor.max_sessions_per_day,
        mentor_timezone=mentor.user.timezone,
    )


# The schedule's rows, read in one statement of plain SQL (``schedule_sql``):
# the ORM would spend longer building the union than the database answering
# it. Every row has the same columns: a tag saying what it is, a start and an
# end, and up to five text values (``SCHEDULE_COLUMNS``); ids are read as text.
SCHEDULE_COLUMNS = ("tag", "start", "end", "a", "b", "c", "d", "e")
BLOCKING_STATUSES = ("upcoming", "active", "pending")


@dataclass(frozen=True)
class Dialect:
    """What the schedule's SQL spells differently on SQLite and PostgreSQL."""

    postgres: bool

    @property
    def for_update(self) -> str:
        """Row locks (SQLite's write transaction locks the whole database)."""
        return " FOR UPDATE" if self.postgres else ""

    def text(self, expression: str) -> str:
        """``expression`` as text: PostgreSQL types each column of a UNION."""
        if expression == "NULL" or not self.postgres:
            return expression
        return f"{expression}::text"

    def row(self, tag: str, start: str | None, end: str | None, *texts: str) -> str:
        """A SELECT list of the schedule's columns: ``tag``, two timestamps,
        then ``texts`` (SQL expressions, read as text) and NULLs. Only the
        first SELECT of a UNION needs typed NULLs (``first_row``)."""
        values = [*texts, *(["NULL"] * (len(SCHEDULE_COLUMNS) - 3 - len(texts)))]
        return ", ".join(
            [f"'{tag}'", start or "NULL", end or "NULL", *(self.text(value) for value in values)]
        )

    def first_row(self, tag: str, *texts: str) -> str:
        """``row`` without timestamps, its NULLs typed for the UNION after it."""
        no_time = "NULL::timestamptz" if self.postgres else "NULL"
        return self.row(tag, no_time, no_time, *texts)


def dialect(connection) -> Dialect:
    return Dialect(postgres=connection.vendor == "postgresql")


def compact(sql: str) -> str:
    """``sql`` on one line with single spaces: short statements are parsed
    once per process by psycopg (it caches those under 4 kB)."""
    return " ".join(sql.split())


# The sessions that take a mentor's time around a range (not cancelled, not
# a lapsed hold); ``s`` is the session table. Each branch of the schedule's
# UNION has one owner condition, so that it walks one index.
SESSIONS_NEAR = """s.start < %(sessions_before)s AND s."end" > %(sessions_after)s
    AND s.status NOT IN ('cancelled', 'expired')
    AND (s.status <> 'pending' OR s.hold_expires_at IS NULL OR s.hold_expires_at > %(now)s)"""
GIVEN = "s.mentor_id = %(mentor)s"
# What the mentor booked as a mentee of someone else takes their time too.
TAKEN = (
    "s.mentee_id = (SELECT p.id FROM mentorship_menteeprofile p WHERE p.user_id = %(mentor_user)s)"
)


def schedule_sql(connection, *, ignoring=None) -> list[str]:
    """The SELECTs (to join with UNION ALL) of what the engine reads about a
    mentor: availability rows (``window``), sessions near the range
    (``session``: the mentor's, and those the mentor booked as a mentee) and
    busy intervals within reach (``busy``). Parameters: ``schedule_params``."""
    sql = dialect(connection)
    ignore = " AND s.id <> %(ignoring)s" if ignoring is not None else ""
    windows = sql.row("window", "w.start", 'w."end"', "w.kind", "w.timezone", "w.recurrence")
    sessions = sql.row("session", "s.start", 's."end"', "s.status", "s.mentor_id", "s.id")
    busy = sql.row("busy", "b.start", 'b."end"', "NULL", "NULL", "b.connection_id")
    # Constant SQL only: every value is a parameter.
    near = f"{SESSIONS_NEAR}{ignore}"
    selects = [
        f"SELECT {windows} FROM scheduling_availability w WHERE w.mentor_id = %(mentor)s",  # noqa: S608
        f"SELECT {sessions} FROM scheduling_session s WHERE {GIVEN} AND {near}",  # noqa: S608
        f"SELECT {sessions} FROM scheduling_session s WHERE {TAKEN} AND {near}",  # noqa: S608
        f"SELECT {busy} FROM scheduling_busyinterval b WHERE b.mentor_id = %(mentor)s"  # noqa: S608
        ' AND b.start < %(busy_before)s AND b."end" > %(busy_after)s',
    ]
    return [compact(select) for select in selects]


BLOCKING_NEAR = "s.status IN ('upcoming', 'active', 'pending')"


def merge_reach(rules: BookingRules) -> timedelta:
    """How far each side to widen sessions and busy times before merging
    them in the database: by the buffer, and by just under half a session,
    so that two of them join when less than a session (buffers included)
    lies between them. No slot fits in such a gap, so filling it changes no
    slot; a gap of a whole session stays open."""
    return rules.buffer + rules.duration / 2 - timedelta(microseconds=1)


def merged_schedule_sql(connection, *, ignoring=None, daily_cap: bool) -> str:
    """PostgreSQL only: the schedule as ``schedule_sql`` reads it, with the
    sessions and busy times that take the mentor's time merged by the
    database into disjoint runs (``taken``: what ``merge`` would make of them;
    the engine widens them by the buffer and merges again, which gives the
    same slots: a run is merged from intervals widened by ``merge_reach``
    and comes back narrowed by it) and, with ``daily_cap``, the mentor's sessions counted per
    local date (``day``). A mentor with thousands of busy intervals in the
    range returns a row per run of them, not one per interval."""
    sql = dialect(connection)
    ignore = " AND s.id <> %(ignoring)s" if ignoring is not None else ""
    windows = sql.row("window", "w.start", 'w."end"', "w.kind", "w.timezone", "w.recurrence")
    # Merged after widening (``merge_reach``), then narrowed back: the
    # engine widens them by the buffer and merges again.
    widen = "%(widen)s"
    taken = sql.row("taken", f"lower(r) + {widen}", f"upper(r) - {widen}")
    day = sql.row("day", None, None, "d.day", "d.sessions")
    near = f"{SESSIONS_NEAR}{ignore}"
    selects = [
        f"SELECT {windows} FROM scheduling_availability w WHERE w.mentor_id = %(mentor)s",  # noqa: S608
        f"""SELECT {taken} FROM unnest((SELECT range_agg(
            tstzrange(x.start - {widen}, x."end" + {widen})) FROM (
            SELECT s.start, s."end" FROM scheduling_session s
                WHERE {GIVEN} AND {near} AND {BLOCKING_NEAR}
            UNION ALL SELECT s.start, s."end" FROM scheduling_session s
                WHERE {TAKEN} AND {near} AND {BLOCKING_NEAR}
            UNION ALL SELECT b.start, b."end" FROM scheduling_busyinterval b
                WHERE b.mentor_id = %(mentor)s
                AND b.start < %(busy_before)s AND b."end" > %(busy_after)s) x)) r""",  # noqa: S608
    ]
    if daily_cap:
        selects.append(
            f"""SELECT {day} FROM (SELECT (s.start AT TIME ZONE %(zone)s)::date AS day,
                count(*) AS sessions FROM scheduling_session s WHERE {GIVEN} AND {near}
                GROUP BY 1) d"""  # noqa: S608
        )
    return compact(" UNION ALL ".join(selects))


# Sessions that matter: those near the range (for overlaps and buffers) and
# those on the same local days (for the daily cap): two days of margin.
SESSION_MARGIN = timedelta(days=2)


def schedule_params(
    connection, *, mentor_pk, mentor_user_pk, start, end, now, reach, ignoring=None
) -> dict:
    """The parameters of ``schedule_sql``. Busy intervals are read within
    ``reach`` (a session and the buffer) of [start, end)."""
    return {
        "mentor": db_uuid(connection, mentor_pk),
        "mentor_user": db_uuid(connection, mentor_user_pk),
        "sessions_before": db_time(connection, end + SESSION_MARGIN),
        "sessions_after": db_time(connection, start - SESSION_MARGIN),
        "busy_before": db_time(connection, end + reach),
        "busy_after": db_time(connection, start - reach),
        "now": db_time(connection, now),
        "ignoring": None if ignoring is None else db_uuid(connection, ignoring),
    }


def prepared_cursor(connection):
    """A cursor for the scheduling SQL: on PostgreSQL one that binds its
    parameters on the server (not into the text, as Django's cursors do), so
    that psycopg prepares a statement run a few times on a connection and
    PostgreSQL plans it once, not on every run (planning these UNIONs costs
    as much as running them). Logged and counted like any Django cursor."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def db_time(connection, moment: datetime):
    return connection.ops.adapt_datetimefield_value(moment)


def db_uuid(connection, value):
    """A UUID as the database compares it (PostgreSQL's uuid, SQLite's hex)."""
    if value is None:
        return None
    if connection.vendor == "postgresql":
        return value
    return value.hex if hasattr(value, "hex") else str(value).replace("-", "")


def read_time(value) -> datetime:
    """A timestamp from the schedule's rows as an aware UTC datetime
    (SQLite returns the stored text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def read_uuid(value):
    import uuid

    return None if value is None else uuid.UUID(value)


def schedule_from_rows(rows, mentor, session_type, *, identified: bool = False) -> Schedule:
    """The ``Schedule`` in ``rows`` of ``schedule_sql`` (others are skipped)."""
    from .models import Session

    rules = booking_rules(mentor, session_type)
    schedule = Schedule([], [], [], rules, Counter())
    mentor_zone = ZoneInfo(rules.mentor_timezone)
    mentor_id = str(db_uuid_text(mentor.pk))
    blocking = (Session.Status.UPCOMING, Session.Status.ACTIVE, Session.Status.PENDING)
    for tag, row_start, row_end, a, b, c, *_rest in rows:
        if tag == "window":
            schedule.windows.append(Window(a, b, read_time(row_start), read_time(row_end), c))
        elif tag == "busy":
            schedule.busy.append((read_time(row_start), read_time(row_end)))
            if identified:
                schedule.busy_refs.append(read_uuid(c))
        elif tag == "taken":  # merged sessions and busy times (``merged_schedule_sql``)
            schedule.busy.append((row_start, row_end))
        elif tag == "day":
            schedule.sessions_per_day[date.fromisoformat(a)] += int(b)
        elif tag == "session":
            row_start = read_time(row_start)
            if db_uuid_text(b) == mentor_id:  # the daily cap counts sessions given, not taken
                schedule.sessions_per_day[row_start.astimezone(mentor_zone).date()] += 1
            if a in blocking:
                schedule.sessions.append((row_start, read_time(row_end)))
                if identified:
                    schedule.session_refs.append(read_uuid(c))
    # The order the engine's callers saw from the ORM (by start): windows
    # keep the first occurrence order, merged intervals do not care.
    schedule.windows.sort(key=lambda window: window.start)
    return schedule


def db_uuid_text(value) -> str:
    """A UUID (or its text, with or without dashes) as 32 hex digits."""
    return str(value).replace("-", "")


def load_schedule(
    mentor,
    session_type,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    ignoring=None,
    identified: bool = False,
    merged: bool | None = None,
) -> Schedule:
    """``mentor``'s availability, sessions and busy times that matter to
    slots of ``session_type`` starting in [start, end), at ``now``.

    One query whatever the range or the number of rules, sessions and busy
    intervals (``schedule_sql``: availability rows, sessions and busy
    intervals in one UNION ALL). On PostgreSQL, unless ``identified`` (or
    ``merged=False``), the database merges the sessions and busy times
    (``merged_schedule_sql``): the same slots from far fewer rows.
    ``mentor.user`` should be loaded with the mentor
    (``select_related("user")``). ``ignoring`` and ``identified``: see
    ``available_slots`` and ``Schedule``.
    """
    from django.db import connection

    reach = timedelta(minutes=mentor.buffer_minutes + session_type.duration_minutes)
    params = schedule_params(
        connection,
        mentor_pk=mentor.pk,
        mentor_user_pk=mentor.user_id,
        start=start,
        end=end,
        now=now,
        reach=reach,
        ignoring=ignoring,
    )
    if merged is None:
        merged = connection.vendor == "postgresql" and not identified
    if merged:
        daily_cap = mentor.max_sessions_per_day is not None
        sql = merged_schedule_sql(connection, ignoring=ignoring, daily_cap=daily_cap)
        params.update(
            zone=mentor.user.timezone, widen=merge_reach(booking_rules(mentor, session_type))
        )
    else:
        sql = " UNION ALL ".join(schedule_sql(connection, ignoring=ignoring))
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return schedule_from_rows(rows, mentor, session_type, identified=identified)


def available_slots(
    mentor, session_type, start: datetime, end: datetime, *, now=None, ignoring=None
) -> list[Slot]:
    """``mentor``'s bookable slots for ``session_type`` starting in [start, end).

    One query whatever the range or the number of rules, sessions and busy
    intervals (``load_schedule``). ``mentor.user`` should be loaded with the
    mentor (``select_related("user")``).

    The mentor's time is taken by their sessions as mentor and also by those
    they booked as a mentee of someone else. ``ignoring`` is the primary key
    of a session to leave out: the one being rescheduled, whose time is free
    to move into.
    """
    from django.utils import timezone as django_timezone

    now = now or django_timezone.now()
    schedule = load_schedule(mentor, session_type, start, end, now=now, ignoring=ignoring)
    return compute_slots(
        windows=schedule.windows,
        sessions=schedule.sessions,
        busy=schedule.busy,
        rules=schedule.rules,
        now=now,
        start=start,
        end=end,
        sessions_per_day=schedule.sessions_per_day,
    )
