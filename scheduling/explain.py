"""Why a time is or is not bookable: every reason, in plain words with links.

Two layers:

- ``findings`` is a pure function of the slot engine's own inputs (those of
  ``scheduling.slots.compute_slots``) for one start, built from the engine's
  steps (``start_bounds``, ``open_runs``, ``grid_start``,
  ``blocked_occurrences``, ``widened``, ``full_days``) rather than from a
  second copy of the rules: the engine offers a start exactly when
  ``findings`` is empty (``tests/test_explain_agrees.py`` checks it over
  random schedules). It returns every reason, not the first.
- ``explain`` loads those inputs for a mentor (``load_schedule``, as
  ``available_slots`` does), adds the rules a booking checks outside the
  engine (the time has passed, the session type is switched off, the mentor
  is not taking bookings) and words each reason in the mentor's zone, with a
  link to what to change: the session, the time off or override, the
  calendar, the profile's booking rules.

Codes, in the order reasons are listed: ``not_accepting``, ``inactive_type``,
``past``, ``notice``, ``horizon``, ``outside_hours``, ``day_off`` (a date
override: the day off, or other hours that day), ``off_grid`` (inside the
hours, but not one of the starts laid every session length from their
beginning; reported as ``outside_hours`` with a message naming the nearest
starts, so that the JSON keeps to the codes the contract lists),
``time_off``, ``session``, ``buffer`` (the buffer around a session or a
calendar's busy time), ``calendar_busy``, ``daily_cap``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from .availability import excluded_dates
from .models import CalendarConnection, Session
from .slots import (
    BookingRules,
    Interval,
    Window,
    blocked_occurrences,
    full_days,
    grid_start,
    load_schedule,
    local_day,
    open_runs,
    overlaps,
    start_bounds,
    widened,
)
from .timefmt import local_time, session_day_and_times

CODES = (
    "not_accepting",
    "inactive_type",
    "past",
    "notice",
    "horizon",
    "outside_hours",
    "day_off",
    "off_grid",
    "time_off",
    "session",
    "buffer",
    "calendar_busy",
    "daily_cap",
)


@dataclass(frozen=True)
class Finding:
    """One reason the engine does not offer a start, as data.

    ``interval``: what stands in the way (a time off, a session or busy time
    as stored, the run of hours the start lies in, or for ``notice`` and
    ``horizon`` the limit as a one-instant interval). ``index``: for
    ``session``, ``calendar_busy`` and ``buffer``, the position in the
    ``sessions`` or ``busy`` given (``around`` says which).
    """

    code: str
    interval: Interval | None = None
    index: int | None = None
    around: str = ""  # "session" or "busy", for ``buffer``


def findings(
    *,
    windows: Sequence[Window],
    sessions: Sequence[Interval],
    busy: Sequence[Interval],
    rules: BookingRules,
    now: datetime,
    start: datetime,
    sessions_per_day: Counter | None = None,
) -> list[Finding]:
    """Every reason ``compute_slots`` (same arguments) would not offer a slot
    at ``start``; empty exactly when it would."""
    duration = rules.duration
    end = start + duration
    found: list[Finding] = []

    # The range holding just this start, as the engine bounds any range.
    earliest, latest = start_bounds(rules, now=now, start=start, end=start + timedelta.resolution)
    if earliest > start:
        found.append(Finding("notice", (earliest, earliest)))
    if latest <= start:
        horizon_end = now + rules.horizon
        found.append(Finding("horizon", (horizon_end, horizon_end)))

    # The hours: the run holding the whole slot, on the grid laid from its start.
    runs = open_runs(windows, start - duration, end + timedelta.resolution)
    holding = next((run for run in runs if run[0] <= start and end <= run[1]), None)
    if holding is None:
        code = "day_off" if _overridden(windows, start, rules) else "outside_hours"
        touching = next((run for run in runs if run[0] <= start < run[1]), None)
        found.append(Finding(code, touching))
    elif grid_start(holding[0], start, duration) != start:
        found.append(Finding("off_grid", holding))

    for occurrence in dict.fromkeys(blocked_occurrences(windows, start, end)):
        found.append(Finding("time_off", occurrence))

    for around, intervals, code in (
        ("session", sessions, "session"),
        ("busy", busy, "calendar_busy"),
    ):
        for index, (interval, padded) in enumerate(
            zip(intervals, widened(intervals, rules.buffer), strict=True)
        ):
            if overlaps(interval, start, end):
                found.append(Finding(code, interval, index, around))
            elif overlaps(padded, start, end):
                found.append(Finding("buffer", interval, index, around))

    if local_day(start, rules) in full_days(rules, sessions_per_day):
        found.append(Finding("daily_cap", (start, end)))
    return found


def _overridden(windows: Sequence[Window], start: datetime, rules: BookingRules) -> bool:
    """Whether the mentor's local date of ``start`` has a date override: a
    weekly rule leaves the date out (EXDATE), or one-off hours are set on it
    (how ``scheduling.availability`` stores overrides)."""
    day = local_day(start, rules)
    for window in windows:
        if window.kind == "blocked":
            continue
        if window.recurrence:
            if day in excluded_dates(window.recurrence):
                return True
        elif window.start.astimezone(ZoneInfo(window.timezone)).date() == day:
            return True
    return False


def _hours_of_day(
    windows: Sequence[Window], start: datetime, rules: BookingRules
) -> tuple[Interval, ...]:
    """The available runs on the mentor's local date of ``start``, cut to that date."""
    zone = ZoneInfo(rules.mentor_timezone)
    day = local_day(start, rules)
    day_start = datetime.combine(day, time.min, tzinfo=zone)
    day_end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return tuple(
        (max(run_start, day_start), min(run_end, day_end))
        for run_start, run_end in open_runs(windows, day_start, day_end)
        if run_end > day_start and run_start < day_end
    )


# --- For a mentor: loaded, worded and linked ------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """A reason in words; ``url`` (blank for none) is where to change it and
    ``link`` the words for that link on the page."""

    code: str
    message: str
    url: str = ""
    link: str = ""


@dataclass(frozen=True)
class Explanation:
    bookable: bool
    reasons: list[Reason]

    def as_json(self) -> dict:
        return {
            "bookable": self.bookable,
            "reasons": [
                {"code": reason.code, "message": reason.message, "url": reason.url or None}
                for reason in self.reasons
            ],
        }


def explain(mentor, session_type, start: datetime, *, now: datetime | None = None) -> Explanation:
    """Whether ``start`` (aware) can be booked with ``mentor`` as ``session_type``
    (one of the mentor's, active or not) at ``now``, and every reason it cannot.

    Messages give times in the mentor's zone, on the clock the reader chose
    (``core.timeformat``). ``mentor.user`` should be loaded with the mentor.
    Two queries, plus one for the sessions and one for the calendars named
    when there are any.
    """
    now = now or timezone.now()
    schedule = load_schedule(
        mentor,
        session_type,
        start,
        start + timedelta(minutes=session_type.duration_minutes),
        now=now,
        identified=True,
    )
    found = findings(
        windows=schedule.windows,
        sessions=schedule.sessions,
        busy=schedule.busy,
        rules=schedule.rules,
        now=now,
        start=start,
        sessions_per_day=schedule.sessions_per_day,
    )
    if not mentor.is_accepting_bookings:
        found.append(Finding("not_accepting"))
    if not session_type.is_active:
        found.append(Finding("inactive_type"))
    if start <= now:
        # A booking refuses a time that has begun; "not enough notice" would
        # only say the same less plainly.
        found = [finding for finding in found if finding.code != "notice"]
        found.append(Finding("past"))
    found.sort(key=lambda finding: CODES.index(finding.code))
    with timezone.override(ZoneInfo(mentor.user.timezone)):
        words = _Words(mentor, session_type, schedule, start, found)
        reasons = [words.reason(finding) for finding in found]
    return Explanation(bookable=not reasons, reasons=reasons)


def _duration_words(length: timedelta) -> str:
    """“12 hours”, “1 day and 6 hours”, “45 minutes”."""
    minutes = int(length.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [
        f"{count} {unit}{'' if count == 1 else 's'}"
        for count, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if count
    ]
    if not parts:
        return "0 minutes"
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _day(moment: datetime) -> str:
    return local_time(moment, "l j F Y", with_zone=False)


def _clock(moment: datetime) -> str:
    return local_time(moment, "H:i")


def _span(start: datetime, end: datetime) -> str:
    """“10:00–10:30 EDT on Tuesday 2 June 2026”, or from one day to another."""
    day, times = session_day_and_times(start, end)
    last_minute = end - timedelta(microseconds=1)
    if timezone.localtime(start).date() == timezone.localtime(last_minute).date():
        return f"{times} on {day}"
    return f"{_day(start)}, {_clock(start)} to {_day(end)}, {_clock(end)}"


def _ranges(hours: Sequence[Interval]) -> str:
    return ", ".join(session_day_and_times(start, end)[1] for start, end in hours)


class _Words:
    """Words and links for the findings about one start (in the active zone)."""

    def __init__(self, mentor, session_type, schedule, start: datetime, found: list[Finding]):
        self.mentor = mentor
        self.session_type = session_type
        self.schedule = schedule
        self.start = start
        self.end = start + schedule.rules.duration
        self.availability_url = reverse("scheduling:availability", kwargs={"slug": mentor.slug})
        self.profile_url = reverse("mentorship:mentor_edit", kwargs={"slug": mentor.slug})
        self._sessions: dict | None = None
        self._calendars: dict | None = None
        # The rows the findings name (not every one loaded around the start).
        self.named = {
            around: {
                refs[finding.index]
                for finding in found
                if finding.around == around and refs[finding.index] is not None
            }
            for around, refs in (
                ("session", schedule.session_refs),
                ("busy", schedule.busy_refs),
            )
        }

    def reason(self, finding: Finding) -> Reason:
        return getattr(self, f"_{finding.code}")(finding)

    # Related rows, read once and only when a reason names them.

    def session(self, index: int) -> Session | None:
        if self._sessions is None:
            self._sessions = {
                session.pk: session
                for session in Session.objects.filter(pk__in=self.named["session"]).select_related(
                    "mentor__user", "mentee__user"
                )
            }
        return self._sessions.get(self.schedule.session_refs[index])

    def calendar(self, index: int) -> str:
        if self._calendars is None:
            self._calendars = {
                connection.pk: connection
                for connection in CalendarConnection.objects.filter(pk__in=self.named["busy"]).only(
                    "provider", "account"
                )
            }
        connection = self._calendars.get(self.schedule.busy_refs[index])
        if connection is None:
            return "a connected calendar"
        name = connection.get_provider_display()
        return f"{name} ({connection.account})" if connection.account else name

    # One method per code.

    def _not_accepting(self, finding: Finding) -> Reason:
        return Reason(
            "not_accepting",
            "Not taking bookings: the profile is set not to accept them, so no time can be booked.",
            self.profile_url,
            "Bookings in your profile",
        )

    def _inactive_type(self, finding: Finding) -> Reason:
        return Reason(
            "inactive_type",
            f"“{self.session_type.name}” is switched off, so nobody can book it.",
            reverse(
                "scheduling:session_type_edit",
                kwargs={"slug": self.mentor.slug, "type_slug": self.session_type.slug},
            ),
            "Edit the session type",
        )

    def _past(self, finding: Finding) -> Reason:
        return Reason("past", f"{_clock(self.start)} on {_day(self.start)} has already passed.")

    def _notice(self, finding: Finding) -> Reason:
        earliest = finding.interval[0]
        notice = _duration_words(self.schedule.rules.minimum_notice)
        return Reason(
            "notice",
            f"Less than the minimum notice of {notice}: the earliest start that can be "
            f"booked now is {_clock(earliest)} on {_day(earliest)}.",
            self.profile_url,
            "Booking rules in your profile",
        )

    def _horizon(self, finding: Finding) -> Reason:
        limit = finding.interval[0]
        days = self.schedule.rules.horizon.days
        return Reason(
            "horizon",
            f"Beyond the booking horizon of {days} day{'' if days == 1 else 's'}: "
            f"only starts before {_clock(limit)} on {_day(limit)} can be booked now.",
            self.profile_url,
            "Booking rules in your profile",
        )

    def _past_the_end(self, finding: Finding) -> str:
        """The sentence for a session that starts in the hours but outlasts them."""
        if finding.interval is None:
            return ""
        length = _duration_words(self.schedule.rules.duration)
        return (
            f" A {length} session from {_clock(self.start)} would end after the hours "
            f"end at {_clock(finding.interval[1])}."
        )

    def _outside_hours(self, finding: Finding) -> Reason:
        day = _day(self.start)
        hours = _hours_of_day(self.schedule.windows, self.start, self.schedule.rules)
        if hours:
            text = f"Outside the weekly hours: on {day} they are {_ranges(hours)}."
        else:
            text = f"Outside the weekly hours: there are none on {day}."
        return Reason(
            "outside_hours",
            text + self._past_the_end(finding),
            f"{self.availability_url}#weekly-hours",
            "Weekly hours",
        )

    def _day_off(self, finding: Finding) -> Reason:
        day = _day(self.start)
        hours = _hours_of_day(self.schedule.windows, self.start, self.schedule.rules)
        if hours:
            text = f"{day} has other hours than usual (a date override): {_ranges(hours)}."
        else:
            text = f"{day} is a day off (a date override)."
        return Reason(
            "day_off",
            text + self._past_the_end(finding),
            f"{self.availability_url}#date-overrides",
            "Date overrides",
        )

    def _off_grid(self, finding: Finding) -> Reason:
        run_start, run_end = finding.interval
        duration = self.schedule.rules.duration
        following = grid_start(run_start, self.start, duration)
        nearest = [
            moment
            for moment in (following - duration, following)
            if run_start <= moment and moment + duration <= run_end
        ]
        step = _duration_words(duration)
        text = (
            f"Not one of the start times: in these hours ({_span(run_start, run_end)}) "
            f"{step} sessions start every {step} from {_clock(run_start)}."
        )
        if nearest:
            text += f" The nearest: {' and '.join(_clock(moment) for moment in nearest)}."
        # Reported as ``outside_hours``: the codes are a fixed contract (DESIGN,
        # issue 17) and a start between the start times is not in the hours'
        # list of starts; the message says which starts there are.
        return Reason(
            "outside_hours", text, f"{self.availability_url}#weekly-hours", "Weekly hours"
        )

    def _time_off(self, finding: Finding) -> Reason:
        return Reason(
            "time_off",
            f"Time off: {_span(*finding.interval)}.",
            f"{self.availability_url}#time-off",
            "Time off",
        )

    def _session_words(self, finding: Finding) -> tuple[str, str, Session | None]:
        """(what the session is, its page, the session if it is a visitor's hold)."""
        session = self.session(finding.index)
        if session is None:  # gone since it was read
            return "a session", "", None
        if session.status == Session.Status.PENDING:
            # A visitor's hold: nobody's session yet, and no page to show.
            return "a time held for a visitor confirming their email", "", session
        url = reverse("scheduling:session_detail", kwargs={"session_id": session.pk})
        if session.mentor_id == self.mentor.pk:
            return f"“{session.title}” with {session.mentee.user.public_name}", url, None
        return f"“{session.title}” as a mentee of {session.mentor.user.public_name}", url, None

    def _session(self, finding: Finding) -> Reason:
        what, url, hold = self._session_words(finding)
        span = _span(*finding.interval)
        if hold is not None:
            until = f" until {_clock(hold.hold_expires_at)}" if hold.hold_expires_at else ""
            text = f"Held: a visitor confirming their email holds {span}{until}."
        else:
            text = f"Booked: {what}, {span}."
        return Reason("session", text, url, "Open the session" if url else "")

    def _calendar_busy(self, finding: Finding) -> Reason:
        return Reason(
            "calendar_busy",
            f"Busy in {self.calendar(finding.index)}: {_span(*finding.interval)}.",
            reverse("scheduling:calendar_settings"),
            "Calendar settings",
        )

    def _buffer(self, finding: Finding) -> Reason:
        if finding.around == "session":
            what, url, _hold = self._session_words(finding)
            link = "Open the session" if url else ""
        else:
            what = f"a busy time in {self.calendar(finding.index)}"
            url, link = reverse("scheduling:calendar_settings"), "Calendar settings"
        side = "before" if finding.interval[0] >= self.end else "after"
        buffer = _duration_words(self.schedule.rules.buffer)
        return Reason(
            "buffer",
            f"Within the buffer of {buffer} {side} {what}, {_span(*finding.interval)}.",
            url,
            link,
        )

    def _daily_cap(self, finding: Finding) -> Reason:
        cap = self.schedule.rules.max_sessions_per_day
        booked = self.schedule.sessions_per_day[local_day(self.start, self.schedule.rules)]
        return Reason(
            "daily_cap",
            f"The daily cap of {cap} session{'' if cap == 1 else 's'} is reached on "
            f"{_day(self.start)} ({booked} booked).",
            self.profile_url,
            "Booking rules in your profile",
        )
