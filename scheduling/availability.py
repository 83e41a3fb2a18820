"""State changes of session types and availability.

Availability the editor writes (all in the mentor's wall-clock time):

- weekly hours: ``available`` rows with ``RRULE:FREQ=WEEKLY;BYDAY=XX``;
- date overrides: the date is left out of *every* weekly rule with an
  ``EXDATE:`` line (the local start of that rule on the date), plus one-off
  ``available`` rows for the date's replacement hours (none = the whole day off).
  Writing the EXDATE on every weekly rule, not only on the rules of that
  weekday, lets an override survive weekly hours that change weekday later;
  an EXDATE that matches no occurrence excludes nothing;
- time off: one-off ``blocked`` rows.

These writes change only which times are bookable, so they mark only the
cached times stale (``times_changed``): no directory or mentor-page fragment
shows availability. The booking rules (buffer, notice, horizon) are profile
fields, saved by ``mentorship.services.update_mentor_profile``, which marks
everything stale.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone as django_timezone

from accounts.validators import validate_timezone
from core.cache import times_changed
from core.timeformat import format_time_of_day
from mentorship.models import MentorProfile

from .models import Availability, SessionType
from .slots import clock_reaches, wall_time_exists

WEEKDAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]

DEFAULT_SESSION_TYPES = [
    ("Intro call", "intro-call", 30, "A first conversation: goals, background, how I can help."),
    ("Mentoring session", "mentoring-session", 60, "A focused hour on your question or project."),
]


def create_default_session_types(*, mentor: MentorProfile) -> list[SessionType]:
    """The two types every new mentor starts with (editable later)."""
    created = []
    for name, slug, minutes, description in DEFAULT_SESSION_TYPES:
        session_type, _ = SessionType.objects.get_or_create(
            mentor=mentor,
            slug=slug,
            defaults={"name": name, "duration_minutes": minutes, "description": description},
        )
        created.append(session_type)
    return created


WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WEEKLY_PREFIX = "RRULE:FREQ=WEEKLY"
EXDATE_VALUE = re.compile(r"(\d{8})T\d{6}")


def _hours(start: time, end: time) -> str:
    """“09:00–12:00” on the reader's clock (messages are read by the person acting)."""
    return f"{format_time_of_day(start)}–{format_time_of_day(end)}"


def check_day_ranges(ranges: list[tuple[time, time]], *, label: str) -> list[tuple[time, time]]:
    """``ranges`` sorted; ValidationError if one ends before it starts or two overlap."""
    ordered = sorted(ranges)
    for range_start, range_end in ordered:
        if range_end <= range_start:
            raise ValidationError(
                f"{label}: {_hours(range_start, range_end)} must end after it starts."
            )
    for (first_start, first_end), (second_start, second_end) in pairwise(ordered):
        if second_start < first_end:
            raise ValidationError(
                f"{label}: {_hours(first_start, first_end)} and "
                f"{_hours(second_start, second_end)} overlap."
            )
    return ordered


def _weekly_rows(mentor: MentorProfile):
    return Availability.objects.filter(
        mentor=mentor, kind=Availability.Kind.AVAILABLE, recurrence__startswith=WEEKLY_PREFIX
    )


def is_weekly(row: Availability) -> bool:
    return row.kind == Availability.Kind.AVAILABLE and row.recurrence.startswith(WEEKLY_PREFIX)


def excluded_dates(recurrence: str) -> set[date]:
    """The local dates named by the EXDATE lines of ``recurrence``."""
    dates = set()
    for line in recurrence.splitlines():
        if line.upper().startswith("EXDATE"):
            for day in EXDATE_VALUE.findall(line):
                dates.add(datetime.strptime(day, "%Y%m%d").date())  # noqa: DTZ007 (a local date)
    return dates


def _with_exdates(row: Availability, dates) -> str:
    """The row's RRULE line(s) followed by one EXDATE line per date in ``dates``,
    at the row's local start time (the time of that date's occurrence)."""
    rule_lines = [
        line for line in row.recurrence.splitlines() if not line.upper().startswith("EXDATE")
    ]
    local_time = row.start.astimezone(ZoneInfo(row.timezone)).time()
    exdates = [f"EXDATE:{datetime.combine(day, local_time):%Y%m%dT%H%M%S}" for day in sorted(dates)]
    return "\n".join([*rule_lines, *exdates])


def day_label(day: date) -> str:
    """“Wednesday 2 December 2026”."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def _local_today(timezone: str) -> date:
    return django_timezone.now().astimezone(ZoneInfo(timezone)).date()


def _save_recurrences(rows: list[Availability], dates: set[date]) -> None:
    for row in rows:
        row.recurrence = _with_exdates(row, dates)
        try:
            row.full_clean(exclude=["mentor"])
        except ValidationError as error:
            raise ValidationError(
                "You have too many date overrides: remove some before adding more."
            ) from error
    Availability.objects.bulk_update(rows, ["recurrence"])


def _anchor_day(day: date, range_start: time, range_end: time, zone: ZoneInfo) -> date:
    """``day``, or the same weekday as few weeks earlier as needed, on which
    the clock in ``zone`` reads both ``range_start`` and ``range_end``.

    A weekly rule's first occurrence is stored as instants, and its later
    days repeat the wall-clock times read back from them (``scheduling.slots``).
    An instant cannot hold a time the clock skips: hours ending at 02:30 stored
    on the day 02:00 becomes 03:00 would read back as ending at 03:30, every
    week. Anchored a week earlier (a day already past when ``day`` is today),
    the rule keeps 02:30, and its day of the change follows the rules for
    skipped times like any other.
    """
    for _week in range(53):
        if wall_time_exists(datetime.combine(day, range_start), zone) and wall_time_exists(
            datetime.combine(day, range_end), zone
        ):
            return day
        day -= timedelta(weeks=1)
    raise ValidationError("These hours do not exist in this time zone.")


@transaction.atomic
def replace_weekly_hours(
    *,
    mentor: MentorProfile,
    timezone: str,
    weekly: dict[int, list[tuple[time, time]]],
    starting: date,
) -> list[Availability]:
    """Replace the mentor's weekly hours: ``weekly`` maps a weekday (0 = Monday)
    to (start, end) local times in ``timezone``; rules begin on ``starting``.

    All or nothing: a range that ends before it starts, or ranges that overlap
    on one day, raise ValidationError and change nothing. Date overrides
    (EXDATE lines of the old rules) carry over to the new rules, except those
    for dates already past.
    """
    validate_timezone(timezone)
    zone = ZoneInfo(timezone)
    for weekday, ranges in weekly.items():
        check_day_ranges(ranges, label=WEEKDAY_NAMES[weekday])

    old_rows = list(_weekly_rows(mentor).select_for_update())
    overrides = set().union(*(excluded_dates(row.recurrence) for row in old_rows))
    overrides = {day for day in overrides if day >= starting - timedelta(days=1)}
    Availability.objects.filter(pk__in=[row.pk for row in old_rows]).delete()
    rows = []
    for weekday, ranges in sorted(weekly.items()):
        first_day = starting + timedelta(days=(weekday - starting.weekday()) % 7)
        for range_start, range_end in sorted(ranges):
            anchor = _anchor_day(first_day, range_start, range_end, zone)
            row = Availability(
                mentor=mentor,
                kind=Availability.Kind.AVAILABLE,
                timezone=timezone,
                start=datetime.combine(anchor, range_start, tzinfo=zone),
                end=datetime.combine(anchor, range_end, tzinfo=zone),
                recurrence=f"{WEEKLY_PREFIX};BYDAY={WEEKDAY_CODES[weekday]}",
            )
            row.recurrence = _with_exdates(row, overrides)
            try:
                row.full_clean(exclude=["mentor"])
            except ValidationError as error:
                if "recurrence" in error.message_dict:
                    raise ValidationError(
                        "You have too many date overrides: remove some first."
                    ) from error
                raise
            rows.append(row)
    created = Availability.objects.bulk_create(rows)
    times_changed()
    return created


@transaction.atomic
def save_weekly_hours(
    *, mentor: MentorProfile, weekly: dict[int, list[tuple[time, time]]]
) -> list[Availability]:
    """The editor's save: weekly hours in the mentor's own zone (``User.timezone``),
    starting today there. Date overrides are kept."""
    zone_name = mentor.user.timezone
    return replace_weekly_hours(
        mentor=mentor, timezone=zone_name, weekly=weekly, starting=_local_today(zone_name)
    )


@dataclass(frozen=True)
class DateOverride:
    """One date with other hours than the weekly ones; no ``ranges`` = the day off."""

    day: date
    ranges: tuple[tuple[time, time], ...]

    @property
    def is_day_off(self) -> bool:
        return not self.ranges


def _is_override_row(row: Availability) -> bool:
    return row.kind == Availability.Kind.AVAILABLE and not row.recurrence


def _local_day(row: Availability) -> date:
    return row.start.astimezone(ZoneInfo(row.timezone)).date()


def date_overrides(rows, *, since: date | None = None) -> list[DateOverride]:
    """The overrides among ``rows`` (a mentor's Availability rows, already
    loaded), sorted by date, from ``since`` on."""
    hours: dict[date, list[tuple[time, time]]] = {}
    for row in rows:
        if is_weekly(row):
            for day in excluded_dates(row.recurrence):
                hours.setdefault(day, [])
        elif _is_override_row(row):
            zone = ZoneInfo(row.timezone)
            hours.setdefault(_local_day(row), []).append(
                (row.start.astimezone(zone).time(), row.end.astimezone(zone).time())
            )
    return [
        DateOverride(day=day, ranges=tuple(sorted(ranges)))
        for day, ranges in sorted(hours.items())
        if since is None or day >= since
    ]


def _clear_override(mentor: MentorProfile, day: date, weekly: list[Availability]) -> bool:
    """Remove the override of ``day`` (EXDATEs and one-off rows); True if there was one."""
    found = False
    for row in weekly:
        dates = excluded_dates(row.recurrence)
        if day in dates:
            found = True
    if found:
        _save_recurrences(
            weekly,
            {other for row in weekly for other in excluded_dates(row.recurrence)} - {day},
        )
    one_offs = [
        row.pk
        for row in Availability.objects.filter(
            mentor=mentor, kind=Availability.Kind.AVAILABLE, recurrence=""
        )
        if _local_day(row) == day
    ]
    if one_offs:
        found = True
        Availability.objects.filter(pk__in=one_offs).delete()
    return found


@transaction.atomic
def set_date_override(
    *, mentor: MentorProfile, day: date, ranges: list[tuple[time, time]]
) -> DateOverride:
    """Give ``day`` (a date in the mentor's zone) other hours: ``ranges`` of
    local times, or none for the whole day off. Replaces an earlier override of
    the same date. ValidationError (and no change) for a past date, ranges that
    end before they start or overlap, or a day off on a day without hours.
    """
    zone_name = mentor.user.timezone
    zone = ZoneInfo(zone_name)
    if day < _local_today(zone_name):
        raise ValidationError("Choose today or a later date.")
    ordered = check_day_ranges(ranges, label=day_label(day))
    # Lock the weekly rows: two overrides saved at once must not lose an EXDATE.
    weekly = list(_weekly_rows(mentor).select_for_update())
    _clear_override(mentor, day, weekly)
    weekday_code = WEEKDAY_CODES[day.weekday()]
    works_that_day = any(
        f"BYDAY={weekday_code}" in row.recurrence and _local_day(row) <= day for row in weekly
    )
    if not ordered and not works_that_day:
        raise ValidationError(
            f"You have no weekly hours on {day_label(day)}: that day is already off."
        )
    if weekly:
        dates = {other for row in weekly for other in excluded_dates(row.recurrence)}
        today = _local_today(zone_name)
        _save_recurrences(weekly, {other for other in dates if other >= today} | {day})
    new_rows = []
    for range_start, range_end in ordered:
        # A one-off's times are instants: a start or end the clock skips that
        # day is when the clock passes it (the change).
        row = Availability(
            mentor=mentor,
            kind=Availability.Kind.AVAILABLE,
            timezone=zone_name,
            start=clock_reaches(datetime.combine(day, range_start), zone),
            end=clock_reaches(datetime.combine(day, range_end), zone),
        )
        if row.end <= row.start:
            raise ValidationError(
                f"{day_label(day)}: the clocks skip {_hours(range_start, range_end)} "
                "that day. Choose hours before or after the change."
            )
        row.full_clean(exclude=["mentor"])
        new_rows.append(row)
    Availability.objects.bulk_create(new_rows)
    times_changed()
    return DateOverride(day=day, ranges=tuple(ordered))


@transaction.atomic
def remove_date_override(*, mentor: MentorProfile, day: date) -> bool:
    """Give ``day`` its weekly hours back. False if it had no override."""
    weekly = list(_weekly_rows(mentor).select_for_update())
    removed = _clear_override(mentor, day, weekly)
    times_changed()
    return removed


@transaction.atomic
def add_time_off(*, mentor: MentorProfile, start: datetime, end: datetime) -> Availability:
    """Block ``start``..``end`` (naive wall-clock times in the mentor's zone,
    possibly many days apart): one ``blocked`` row. ValidationError (and no
    change) unless it ends after it starts and after now."""
    zone_name = mentor.user.timezone
    zone = ZoneInfo(zone_name)
    # A time the clock skips is when the clock passes it (the change).
    start_utc = clock_reaches(start, zone)
    end_utc = clock_reaches(end, zone)
    if end_utc <= start_utc:
        raise ValidationError("Time off must end after it starts.")
    if end_utc <= django_timezone.now():
        raise ValidationError("This time off is already over: choose a future end.")
    row = Availability(
        mentor=mentor,
        kind=Availability.Kind.BLOCKED,
        timezone=zone_name,
        start=start_utc,
        end=end_utc,
    )
    row.full_clean(exclude=["mentor"])
    row.save()
    times_changed()
    return row


@transaction.atomic
def remove_time_off(*, mentor: MentorProfile, time_off_id: int) -> bool:
    """Delete one of ``mentor``'s blocked rows; False if it is not theirs."""
    deleted, _ = Availability.objects.filter(
        mentor=mentor, kind=Availability.Kind.BLOCKED, pk=time_off_id
    ).delete()
    times_changed()
    return bool(deleted)
