"""Forms of scheduling. They validate; the services act.

* the availability editor (``availability.py`` acts),
* session types (``session_types.py``),
* the slot picker's query parameters, and the visitor's details when
  booking without an account.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby, pairwise
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth import password_validation
from django.utils import timezone

from accounts.forms import clean_person_name
from accounts.models import User
from accounts.validators import known_timezones
from core.timeformat import format_time_of_day

from .availability import WEEKDAY_NAMES
from .models import SESSION_MAX_MINUTES, SESSION_MIN_MINUTES, SessionType

MAX_RANGES_PER_DAY = 6
OVERRIDE_RANGES = 3
WEEKDAY_SHORT_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
# The choices of a time select: every quarter of an hour, like most
# scheduling tools. The forms accept any minute (09:05 posted or saved earlier
# is kept and shown), so the step is only what the list offers.
TIME_STEP_MINUTES = 15
# What "turn a day on" and the first "Add a range" of a day fill in.
DEFAULT_RANGE = ("09:00", "17:00")


def parse_time_of_day(value) -> time | None:
    """``value`` ("HH:MM" or "HH:MM:SS", or a ``time``) as a time; None if it is not one."""
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value).strip())
    except ValueError:
        return None


def time_of_day_label(value) -> str:
    """A form value as the reader's clock writes it; an unreadable one as it is."""
    parsed = parse_time_of_day(value)
    return format_time_of_day(parsed) if parsed is not None else str(value)


class TimeOfDaySelect(forms.Select):
    """A time of day chosen from a list, every ``TIME_STEP_MINUTES``.

    ``<input type=time>`` writes times as the browser's locale does (12-hour
    in the US whatever the person chose); this list writes them on the
    reader's clock (``core.timeformat``, decided when it is rendered), and
    posts "HH:MM". A value off the list (09:05 saved earlier, or anything
    posted) is listed too, in order, and selected, so it is never silently
    replaced. ``blank`` labels an empty first choice (an optional time);
    without it, an empty value still gets one, labelled "—", so a blank
    field shows as blank.
    """

    def __init__(self, attrs=None, *, blank: str | None = None):
        super().__init__({"class": "form-select", **(attrs or {})})
        self.blank = blank

    def format_value(self, value):
        if value is None or value == "":
            return [""]
        if isinstance(value, time):
            return [f"{value:%H:%M}"]
        return [str(value)]

    def get_context(self, name, value, attrs):
        [current] = self.format_value(value)
        self.choices = time_choices(current, blank=self.blank)
        return super().get_context(name, value, attrs)


def time_choices(current: str = "", *, blank: str | None = None) -> list[tuple[str, str]]:
    """The choices of a ``TimeOfDaySelect`` showing ``current``."""
    values = [
        f"{minutes // 60:02d}:{minutes % 60:02d}"
        for minutes in range(0, 24 * 60, TIME_STEP_MINUTES)
    ]
    if current and current not in values:
        # Off the list (09:05 saved earlier, or whatever was posted): shown
        # where it falls, or first if it is no time at all.
        if parse_time_of_day(current) is None:
            values.insert(0, current)
        else:
            values = sorted([*values, current], key=parse_time_of_day)
    choices = [(value, time_of_day_label(value)) for value in values]
    if blank is not None or not current:
        choices.insert(0, ("", blank if blank is not None else "—"))
    return choices


def time_field(*, blank: str | None = None) -> forms.TimeField:
    return forms.TimeField(required=False, widget=TimeOfDaySelect(blank=blank))


def clean_ranges(form: forms.Form, pairs: list[tuple[str, str]]) -> list[tuple[time, time]]:
    """The (start, end) times of the named field pairs, blank pairs skipped.

    Errors go next to the field they are about: a missing half, an end not
    after its start, a range overlapping an earlier one.
    """
    ranges = []
    for start_name, end_name in pairs:
        if start_name in form.errors or end_name in form.errors:
            continue
        start = form.cleaned_data.get(start_name)
        end = form.cleaned_data.get(end_name)
        if start is None and end is None:
            continue
        if start is None:
            form.add_error(start_name, "Enter a start time as well.")
        elif end is None:
            form.add_error(end_name, "Enter an end time as well.")
        elif end <= start:
            form.add_error(end_name, f"End after the start ({format_time_of_day(start)}).")
        else:
            ranges.append((start, end, start_name))
    ranges.sort()
    for (first_start, first_end, _), (second_start, _, second_name) in pairwise(ranges):
        if second_start < first_end:
            form.add_error(
                second_name,
                f"Overlaps {format_time_of_day(first_start)}–{format_time_of_day(first_end)} "
                "on the same day.",
            )
    return [(start, end) for start, end, _ in ranges]


class MarksInvalidFields(forms.Form):
    """Adds Bootstrap's ``is-invalid`` to fields with errors (Django adds
    ``aria-invalid`` and ``aria-describedby``)."""

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()

    def focus_first_error(self) -> str | None:
        """Gives the first field with an error (in the form's order) ``autofocus``,
        so the page opens, or htmx swaps the form in, with the field to correct
        focused rather than a message at the top and the field out of sight.
        Its name, or None."""
        first = next((name for name in self.fields if name in self.errors), None)
        if first is not None:
            self.fields[first].widget.attrs["autofocus"] = True
        return first


# --- The weekly hours: the week as the form holds it, and its edits --------------------------

# A week being edited: per weekday (0 = Monday), its rows as posted: ("HH:MM", "HH:MM")
# strings, possibly blank or not yet valid. The edits below work on it, never saving:
# the editor re-shows the form with the result and only "Save" stores anything.
Week = dict[int, list[tuple[str, str]]]


def _row_count(data, weekday: int) -> int:
    """How many rows ``data`` holds for ``weekday``: its ``day<n>-rows`` field,
    else as many as it has fields for (a POST made without the page)."""
    try:
        count = int(data.get(f"day{weekday}-rows", ""))
    except (TypeError, ValueError):
        count = 0
        for index in range(MAX_RANGES_PER_DAY):
            if f"day{weekday}-{index}-start" in data or f"day{weekday}-{index}-end" in data:
                count = index + 1
    return min(max(count, 0), MAX_RANGES_PER_DAY)


def week_of(data) -> Week:
    """The week ``data`` (the weekly form's POST) holds."""
    return {
        weekday: [
            (
                str(data.get(f"day{weekday}-{index}-start", "")).strip(),
                str(data.get(f"day{weekday}-{index}-end", "")).strip(),
            )
            for index in range(_row_count(data, weekday))
        ]
        for weekday in range(7)
    }


def week_data(week: Week) -> dict[str, str]:
    """The form data of ``week``: the inverse of ``week_of``."""
    data = {}
    for weekday in range(7):
        rows = week.get(weekday, [])[:MAX_RANGES_PER_DAY]
        data[f"day{weekday}-rows"] = str(len(rows))
        for index, (start, end) in enumerate(rows):
            data[f"day{weekday}-{index}-start"] = start
            data[f"day{weekday}-{index}-end"] = end
    return data


def week_from_hours(weekly: dict[int, list[tuple[time, time]]]) -> Week:
    """Stored weekly hours as a week to edit."""
    return {
        weekday: [(f"{start:%H:%M}", f"{end:%H:%M}") for start, end in weekly.get(weekday, [])]
        for weekday in range(7)
    }


def toggle_day(week: Week, weekday: int) -> Week:
    """The day off if it has rows, else on with ``DEFAULT_RANGE``."""
    return {**week, weekday: [] if week.get(weekday) else [DEFAULT_RANGE]}


def suggested_range(rows: list[tuple[str, str]]) -> tuple[str, str]:
    """The row "Add a range" adds: ``DEFAULT_RANGE`` on an empty day, else an
    hour starting an hour after the last end; blank if that would pass midnight."""
    if not rows:
        return DEFAULT_RANGE
    last_end = parse_time_of_day(rows[-1][1])
    if last_end is None:
        return ("", "")
    start = last_end.hour * 60 + last_end.minute + 60
    end = start + 60
    if end >= 24 * 60:
        return ("", "")
    return (f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}")


def add_range(week: Week, weekday: int) -> Week:
    rows = week.get(weekday, [])
    if len(rows) >= MAX_RANGES_PER_DAY:
        return week
    return {**week, weekday: [*rows, suggested_range(rows)]}


def remove_range(week: Week, weekday: int, index: int) -> Week:
    rows = week.get(weekday, [])
    return {**week, weekday: [row for position, row in enumerate(rows) if position != index]}


def copy_day(week: Week, *, source: int, targets: list[int]) -> Week:
    """``week`` with each of ``targets`` given the ``source`` day's rows
    (its blank rows left out): "copy Monday to Tuesday and Thursday"."""
    rows = [(start, end) for start, end in week.get(source, []) if start or end]
    copied = dict(week)
    for target in targets:
        if target != source:
            copied[target] = list(rows)
    return copied


def day_names(weekdays: list[int]) -> str:
    """“Monday”, “Monday and Tuesday”, “Monday, Tuesday and Friday”."""
    names = [WEEKDAY_NAMES[weekday] for weekday in sorted(weekdays)]
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def ranges_summary(rows: list[tuple[str, str]]) -> str:
    """“09:00–12:00, 14:00–17:00” on the reader's clock; “Unavailable” for none."""
    filled = [(start, end) for start, end in rows if start or end]
    if not filled:
        return "Unavailable"
    return ", ".join(
        f"{time_of_day_label(start) if start else '…'}–{time_of_day_label(end) if end else '…'}"
        for start, end in filled
    )


class WeeklyHoursForm(MarksInvalidFields):
    """Per weekday, its (start, end) rows; ``day<weekday>-rows`` says how many
    the page showed (none: the day is off).

    Bound to a POST, or unbound with ``weekly``, the stored hours."""

    def __init__(self, data=None, *, weekly: dict[int, list[tuple[time, time]]] | None = None):
        super().__init__(data)
        stored = week_from_hours(weekly or {})
        self.week = week_of(data) if data is not None else stored
        for weekday in range(7):
            for index, (start, end) in enumerate(self.week[weekday]):
                start_field, end_field = time_field(), time_field()
                if data is None:
                    start_field.initial, end_field.initial = start, end
                label = f"{WEEKDAY_NAMES[weekday]}, range {index + 1}"
                start_field.label, end_field.label = f"{label}: start", f"{label}: end"
                self.fields[f"day{weekday}-{index}-start"] = start_field
                self.fields[f"day{weekday}-{index}-end"] = end_field

    def clean(self):
        cleaned = super().clean()
        self.weekly = {}
        for weekday in range(7):
            pairs = [
                (f"day{weekday}-{index}-start", f"day{weekday}-{index}-end")
                for index in range(len(self.week[weekday]))
            ]
            ranges = clean_ranges(self, pairs)
            if ranges:
                self.weekly[weekday] = ranges
        return cleaned

    def days(self) -> list[dict]:
        """What the template shows: each weekday with its bound field pairs."""
        days = []
        for weekday, name in enumerate(WEEKDAY_NAMES):
            rows = self.week[weekday]
            names = [
                field_name
                for index in range(len(rows))
                for field_name in (f"day{weekday}-{index}-start", f"day{weekday}-{index}-end")
            ]
            days.append(
                {
                    "index": weekday,
                    "name": name,
                    "short_name": WEEKDAY_SHORT_NAMES[weekday],
                    "rows_count": len(rows),
                    "is_on": bool(rows),
                    "can_add": len(rows) < MAX_RANGES_PER_DAY,
                    "summary": ranges_summary(rows),
                    "has_errors": self.is_bound and any(name in self.errors for name in names),
                    "others": [
                        (other, other_name, f"copy{weekday}-to-{other}")
                        for other, other_name in enumerate(WEEKDAY_NAMES)
                        if other != weekday
                    ],
                    # The ids of its buttons, which the editor may focus.
                    "toggle_id": f"toggle-{weekday}",
                    "add_id": f"add-{weekday}",
                    "copy_id": f"copy-{weekday}",
                    "rows": [
                        {
                            "start": self[f"day{weekday}-{index}-start"],
                            "end": self[f"day{weekday}-{index}-end"],
                            "remove_action": f"remove:{weekday}:{index}",
                            "remove_id": f"remove-{weekday}-{index}",
                            "remove_label": f"{name}, range {index + 1}",
                        }
                        for index in range(len(rows))
                    ],
                }
            )
        return days

    def groups(self) -> list[dict]:
        """The days in runs of consecutive days with the same hours, each with
        its summary line: “Mon–Fri”, “09:00–12:00, 14:00–17:00”."""
        groups = []
        for _summary, run in groupby(self.days(), key=lambda day: day["summary"]):
            days = list(run)
            first, last = days[0], days[-1]
            label = (
                first["short_name"]
                if first is last
                else f"{first['short_name']}–{last['short_name']}"
            )
            groups.append(
                {
                    "days": days,
                    "label": label,
                    "summary": first["summary"],
                    "weekdays": [day["index"] for day in days],
                    "has_errors": any(day["has_errors"] for day in days),
                }
            )
        return groups


class DateOverrideForm(MarksInvalidFields):
    KIND_CHOICES = [("off", "The whole day off"), ("hours", "Different hours")]

    date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")
    )
    kind = forms.ChoiceField(
        choices=KIND_CHOICES,
        initial="off",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        label="On that date",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for index in range(OVERRIDE_RANGES):
            self.fields[f"start_{index}"] = time_field()
            self.fields[f"end_{index}"] = time_field()
            self.fields[f"start_{index}"].label = f"Range {index + 1}: start"
            self.fields[f"end_{index}"].label = f"Range {index + 1}: end"

    def clean(self):
        cleaned = super().clean()
        pairs = [(f"start_{index}", f"end_{index}") for index in range(OVERRIDE_RANGES)]
        if cleaned.get("kind") == "hours":
            self.ranges = clean_ranges(self, pairs)
            if not self.ranges and not any(name in self.errors for pair in pairs for name in pair):
                self.add_error(
                    "start_0", "Enter the hours for this date, or choose the whole day off."
                )
        else:
            self.ranges = []
        return cleaned

    def range_rows(self):
        return [(self[f"start_{index}"], self[f"end_{index}"]) for index in range(OVERRIDE_RANGES)]


# How far ahead time off may be entered (no booking horizon reaches further).
TIME_OFF_REACH = timedelta(days=5 * 366)


class TimeOffForm(MarksInvalidFields):
    """Time off from a date (and time) until a date (and time), both in the
    mentor's zone. The "until" date is included: with no time, the time off
    lasts to the end of that day (it is stored ending at the next midnight)."""

    start_date = forms.DateField(
        label="From",
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )
    start_time = forms.TimeField(
        required=False,
        label="at",
        widget=TimeOfDaySelect(blank="Start of the day"),
    )
    end_date = forms.DateField(
        label="Until",
        help_text="Included: off until the end of that day, unless you choose a time.",
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )
    end_time = forms.TimeField(
        required=False,
        label="at",
        widget=TimeOfDaySelect(blank="End of the day"),
    )

    def clean(self):
        cleaned = super().clean()
        start_date, end_date = cleaned.get("start_date"), cleaned.get("end_date")
        if start_date is None or end_date is None:
            return cleaned
        latest = timezone.localdate() + TIME_OFF_REACH
        for name, day in (("start_date", start_date), ("end_date", end_date)):
            if day > latest:
                self.add_error(name, f"Choose a date before {latest:%-d %B %Y}.")
        if self.errors:
            return cleaned
        # Naive on purpose: wall-clock times in the mentor's zone.
        self.start = datetime.combine(start_date, cleaned.get("start_time") or time.min)
        if cleaned.get("end_time") is not None:
            self.end = datetime.combine(end_date, cleaned["end_time"])
        else:
            self.end = datetime.combine(end_date + timedelta(days=1), time.min)
        if self.end <= self.start:
            self.add_error("end_date", "Time off must end after it starts.")
        return cleaned


def parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


# --- Session types and the slot picker ---------------------------------------------------


class SessionTypeForm(forms.ModelForm):
    """The fields a mentor sets on a session type (the slug is made from the name)."""

    class Meta:
        model = SessionType
        fields = ["name", "duration_minutes", "description", "is_active"]
        widgets = {
            "duration_minutes": forms.NumberInput(
                attrs={"min": SESSION_MIN_MINUTES, "max": SESSION_MAX_MINUTES, "step": 5}
            ),
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "duration_minutes": (
                f"{SESSION_MIN_MINUTES} to {SESSION_MAX_MINUTES} minutes, in steps of 5."
            ),
            "description": "What mentees can expect. Shown when they book.",
            "is_active": "Mentees can book only the types you offer.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["placeholder"] = "e.g. Career chat"

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the session type a name.")
        return name


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass
class PickerQuery:
    """The slot picker's parameters, cleaned. Anything invalid falls back to a
    default and leaves a notice saying so; nothing here raises."""

    session_type: SessionType | None
    zone_name: str
    week: date  # the Monday of the week shown, in ``zone_name``
    current_week: date
    last_week: date  # the week the booking horizon ends in
    chosen_start: datetime | None = None  # UTC
    notices: list[str] = field(default_factory=list)
    # Whether the visitor asked for a week (or a time in one): if not, the
    # picker may start at the first week with times.
    week_given: bool = True

    @classmethod
    def from_params(
        cls,
        params,
        *,
        session_types: list[SessionType],
        default_zone: str,
        now: datetime,
        horizon_days: int,
    ) -> "PickerQuery":
        notices: list[str] = []

        zone_name = params.get("tz", "").strip()
        if zone_name not in known_timezones():
            if zone_name:
                notices.append(
                    f"“{zone_name[:64]}” is not a time zone we know: showing times in "
                    f"{default_zone} instead."
                )
            zone_name = default_zone
        zone = ZoneInfo(zone_name)

        type_slug = params.get("type", "").strip()
        session_type = next((item for item in session_types if item.slug == type_slug), None)
        if session_type is None:
            session_type = session_types[0] if session_types else None
            if type_slug and session_type is not None:
                notices.append(
                    f"“{type_slug[:80]}” is not a session type on offer: showing "
                    f"{session_type.name} instead."
                )

        chosen_start = None
        start_text = params.get("start", "").strip()
        if start_text:
            try:
                chosen_start = datetime.fromisoformat(start_text)
            except ValueError:
                chosen_start = None
            if chosen_start is None or chosen_start.tzinfo is None:
                chosen_start = None
                notices.append("We could not read the chosen time: please pick one below.")
            else:
                chosen_start = chosen_start.astimezone(UTC)

        current_week = _monday(now.astimezone(zone).date())
        last_week = _monday((now + timedelta(days=horizon_days)).astimezone(zone).date())
        week_text = params.get("week", "").strip()
        week = current_week
        if week_text:
            try:
                week = _monday(date.fromisoformat(week_text))
            except ValueError:
                notices.append(
                    f"“{week_text[:20]}” is not a date like {current_week.isoformat()}: "
                    "showing this week."
                )
        elif chosen_start is not None:
            week = _monday(chosen_start.astimezone(zone).date())
        if week < current_week:
            if week_text:
                notices.append("That week has passed: showing this week.")
            week = current_week
        elif week > last_week:
            notices.append(
                f"Bookings open at most {horizon_days} days ahead: showing the last week "
                "with bookable days."
            )
            week = last_week

        return cls(
            session_type=session_type,
            zone_name=zone_name,
            week=week,
            current_week=current_week,
            last_week=last_week,
            chosen_start=chosen_start,
            notices=notices,
            week_given=bool(week_text) or chosen_start is not None,
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.zone_name)

    @property
    def week_end(self) -> date:
        """The Sunday of the week shown."""
        return self.week + timedelta(days=6)

    @property
    def previous_week(self) -> date | None:
        return self.week - timedelta(days=7) if self.week > self.current_week else None

    @property
    def next_week(self) -> date | None:
        return self.week + timedelta(days=7) if self.week < self.last_week else None

    def as_params(self, **overrides) -> str:
        """The query string for this view with ``overrides`` (None drops a key)."""
        values = {
            "type": self.session_type.slug if self.session_type else None,
            "tz": self.zone_name,
            "week": self.week.isoformat(),
        }
        values.update(overrides)
        return urlencode({key: value for key, value in values.items() if value})


class GuestBookingForm(forms.Form):
    """Who is booking, for a visitor without an account: the picker asks on
    the same page, and the account is made with the hold."""

    name = forms.CharField(
        max_length=150,
        label="Your name",
        widget=forms.TextInput(attrs={"autocomplete": "name", "class": "form-control"}),
    )
    email = forms.EmailField(
        max_length=254,
        label="Email",
        help_text="We send the link that confirms your booking here. Mentors never see it.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "class": "form-control"}),
    )
    password = forms.CharField(
        label="Choose a password",
        strip=False,
        help_text="At least 8 characters, for signing in to your sessions later.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "class": "form-control"}),
    )

    def clean_name(self) -> str:
        return clean_person_name(self.cleaned_data["name"])

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            candidate = User(email=cleaned.get("email", ""), name=cleaned.get("name", ""))
            try:
                password_validation.validate_password(password, candidate)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned
