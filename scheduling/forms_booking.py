"""Forms for session types and the slot picker's query parameters."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms

from accounts.validators import known_timezones

from .models import SESSION_MAX_MINUTES, SESSION_MIN_MINUTES, SessionType


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
