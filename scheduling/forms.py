"""Forms of scheduling. They validate; the services act.

* the availability editor (``availability.py`` acts),
* session types (``session_types.py``),
* the slot picker's query parameters, and the visitor's details when
  booking without an account.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth import password_validation
from django.utils import timezone

from accounts.forms import clean_person_name
from accounts.models import User
from accounts.validators import known_timezones

from .availability import WEEKDAY_NAMES
from .models import SESSION_MAX_MINUTES, SESSION_MIN_MINUTES, SessionType

MAX_RANGES_PER_DAY = 6
OVERRIDE_RANGES = 3


def time_field() -> forms.TimeField:
    return forms.TimeField(
        required=False,
        widget=forms.TimeInput(attrs={"type": "time", "class": "form-control"}, format="%H:%M"),
    )


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
            form.add_error(end_name, f"End after the start ({start:%H:%M}).")
        else:
            ranges.append((start, end, start_name))
    ranges.sort()
    for (first_start, first_end, _), (second_start, _, second_name) in pairwise(ranges):
        if second_start < first_end:
            form.add_error(
                second_name, f"Overlaps {first_start:%H:%M}–{first_end:%H:%M} on the same day."
            )
    return [(start, end) for start, end, _ in ranges]


class MarksInvalidFields(forms.Form):
    """Adds Bootstrap's ``is-invalid`` (and ``aria-invalid``) to fields with errors."""

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"


def _row_count(data, weekday: int, default: int) -> int:
    try:
        count = int(data.get(f"day{weekday}-rows", default))
    except (TypeError, ValueError):
        count = default
    return min(max(count, 1), MAX_RANGES_PER_DAY)


class WeeklyHoursForm(MarksInvalidFields):
    """Per weekday, a few (start, end) rows; ``day<weekday>-rows`` says how many
    were shown, so the page always has one blank row to add a range."""

    def __init__(self, data=None, *, weekly: dict[int, list[tuple[time, time]]] | None = None):
        super().__init__(data)
        weekly = weekly or {}
        self.rows = {}
        for weekday in range(7):
            existing = weekly.get(weekday, [])
            default = min(len(existing) + 1, MAX_RANGES_PER_DAY)
            count = _row_count(data, weekday, default) if data is not None else default
            self.rows[weekday] = count
            for index in range(count):
                start_field, end_field = time_field(), time_field()
                if index < len(existing):
                    start_field.initial, end_field.initial = existing[index]
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
                for index in range(self.rows[weekday])
            ]
            ranges = clean_ranges(self, pairs)
            if ranges:
                self.weekly[weekday] = ranges
        return cleaned

    def days(self) -> list[dict]:
        """What the template shows: each weekday with its bound field pairs."""
        return [
            {
                "index": weekday,
                "name": name,
                "rows_count": self.rows[weekday],
                "can_add": self.rows[weekday] < MAX_RANGES_PER_DAY,
                "rows": [
                    (self[f"day{weekday}-{index}-start"], self[f"day{weekday}-{index}-end"])
                    for index in range(self.rows[weekday])
                ],
            }
            for weekday, name in enumerate(WEEKDAY_NAMES)
        ]


def copy_day(data, *, source: int, targets: list[int]):
    """``data`` (a POST) with the ``source`` weekday's rows copied onto each of
    ``targets``: the no-JavaScript "copy Monday to other days"."""
    data = data.copy()
    rows = _row_count(data, source, 1)
    pairs = [
        (data.get(f"day{source}-{index}-start", ""), data.get(f"day{source}-{index}-end", ""))
        for index in range(rows)
    ]
    pairs = [(start, end) for start, end in pairs if start or end]
    for target in targets:
        if target == source:
            continue
        for index in range(MAX_RANGES_PER_DAY):
            data.pop(f"day{target}-{index}-start", None)
            data.pop(f"day{target}-{index}-end", None)
        for index, (start, end) in enumerate(pairs):
            data[f"day{target}-{index}-start"] = start
            data[f"day{target}-{index}-end"] = end
        data[f"day{target}-rows"] = str(min(len(pairs) + 1, MAX_RANGES_PER_DAY))
    return data


def add_row(data, *, weekday: int):
    data = data.copy()
    data[f"day{weekday}-rows"] = str(_row_count(data, weekday, 1) + 1)
    return data


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
    start_date = forms.DateField(
        label="From",
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )
    start_time = forms.TimeField(
        required=False,
        label="at",
        help_text="Blank: from the start of the day.",
        widget=forms.TimeInput(attrs={"type": "time", "class": "form-control"}, format="%H:%M"),
    )
    end_date = forms.DateField(
        label="Until",
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )
    end_time = forms.TimeField(
        required=False,
        label="at",
        help_text="Blank: to the end of the day.",
        widget=forms.TimeInput(attrs={"type": "time", "class": "form-control"}, format="%H:%M"),
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
