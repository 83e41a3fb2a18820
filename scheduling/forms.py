"""Forms of the availability editor. They validate; ``scheduling.services`` acts."""

from datetime import date, datetime, time, timedelta
from itertools import pairwise

from django import forms
from django.utils import timezone

from .services import WEEKDAY_NAMES

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
