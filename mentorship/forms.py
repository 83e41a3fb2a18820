from datetime import date, datetime, time, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import dateformat, timezone

from core import timeformat
from core.timeformat import format_time_of_day

from .models import (
    BIOGRAPHY_MAX_LENGTH,
    MAX_EXPERTISE_TAGS,
    ExpertiseTag,
    MenteeProfile,
    MentorProfile,
    SocialLink,
)
from .widgets import DAYS, HOURS, MINUTES, WEEKS, DurationField, ExampleBoundField, largest_unit


class IdChoicesField(forms.ModelMultipleChoiceField):
    """Choices by integer id. An id no integer column holds (SQLite raises
    OverflowError for it, which Django's field does not catch) is refused as
    an unknown choice before any query."""

    LARGEST_ID = 2**63 - 1

    def _check_values(self, value):
        for pk in value:
            text = str(pk).strip()
            if not text.isdigit() or int(text) > self.LARGEST_ID:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": text[:40]},
                )
        return super()._check_values(value)


# --- Booking rules in words ---------------------------------------------------------------
#
# Each rule's example, from its value. static/js/duration.js writes the same
# sentences in the browser while the value changes; the browser test
# (mentorship/tests/test_browser_booking_rules.py) checks they agree.

# The examples' "now" and session start: 09:00 on the reader's clock.
EXAMPLE_TIME = time(9, 0)
BUFFER_UNITS = [MINUTES, HOURS]
NOTICE_UNITS = [MINUTES, HOURS, DAYS]
HORIZON_UNITS = [DAYS, WEEKS]
CUTOFF_UNITS = [HOURS, DAYS]


def _clock(minutes_after_example: int) -> tuple[int, str]:
    """(days after the example's day, the time of day on the reader's clock)
    ``minutes_after_example`` minutes after 09:00 (negative: before)."""
    moment = datetime.combine(date(2000, 1, 3), EXAMPLE_TIME) + timedelta(
        minutes=minutes_after_example
    )
    return (moment.date() - date(2000, 1, 3)).days, format_time_of_day(moment.time())


def _possessive(words: str) -> str:
    """ "12 hours" → "12 hours'", "1 hour" → "1 hour's"."""
    return f"{words}'" if words.endswith("s") else f"{words}'s"


def buffer_example(minutes: int) -> str:
    if not minutes:
        return "With no buffer, a session can start as soon as another one ends."
    count, unit = largest_unit(minutes, base=MINUTES, units=BUFFER_UNITS)
    _days, end = _clock(60)
    _days, next_start = _clock(60 + minutes)
    return (
        f"With a {count}-{unit.singular} buffer, after a session that ends at {end} "
        f"the next one can start at {next_start} at the earliest."
    )


def notice_example(minutes: int) -> str:
    now = format_time_of_day(EXAMPLE_TIME)
    if not minutes:
        return f"With no notice, at {now} today any free time from {now} on can be booked."
    count, unit = largest_unit(minutes, base=MINUTES, units=NOTICE_UNITS)
    days, first = _clock(minutes)
    day = {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")
    return (
        f"With {_possessive(unit.amount(count))} notice, at {now} today "
        f"the first bookable time is {first} {day}."
    )


def horizon_example(days: int, today: date | None = None) -> str:
    today = today or timezone.localdate()
    last = today + timedelta(days=days)
    count, unit = largest_unit(days, base=DAYS, units=HORIZON_UNITS)
    pattern = "j F" if last.year == today.year else "j F Y"
    return (
        f"With {unit.amount(count)}, on {dateformat.format(today, 'j F')} "
        f"people can book times until {dateformat.format(last, pattern)}."
    )


def daily_cap_example(cap: int | None) -> str:
    if not cap:
        return "With no limit, every free time of a day can be booked."
    sessions = "1 session is" if cap == 1 else f"{cap} sessions are"
    return (
        f"With a limit of {cap}, once {sessions} booked on a day, "
        "that day's other times are no longer offered."
    )


def cutoff_example(hours: int) -> str:
    start = format_time_of_day(EXAMPLE_TIME)
    if not hours:
        return f"A mentee can cancel or move a {start} session until it starts."
    count, unit = largest_unit(hours, base=HOURS, units=CUTOFF_UNITS)
    days, until = _clock(-hours * 60)
    day = {0: "the same day", -1: "the day before"}.get(days, f"{-days} days before")
    if days < -1:
        until += ","  # "until 09:00, 3 days before"
    return (
        f"With {unit.amount(count)}, a mentee can cancel or move a {start} session "
        f"until {until} {day}."
    )


class DailyCapField(forms.IntegerField):
    bound_field_class = ExampleBoundField
    example = staticmethod(daily_cap_example)


class MentorProfileForm(forms.ModelForm):
    """The owner's editable fields. Rating, slug and owner are never form fields."""

    expertise = IdChoicesField(
        queryset=ExpertiseTag.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        label="Areas of expertise",
        help_text=f"Pick up to {MAX_EXPERTISE_TAGS}. Type above the list to filter it.",
    )

    buffer_minutes = DurationField(
        label="Buffer between sessions",
        base=MINUTES,
        units=BUFFER_UNITS,
        max_value=120,
        example=buffer_example,
        help_text="Free time kept before and after each session and each busy time "
        "in your connected calendars.",
    )
    minimum_notice_minutes = DurationField(
        label="Minimum notice",
        base=MINUTES,
        units=NOTICE_UNITS,
        max_value=14 * 24 * 60,
        example=notice_example,
        help_text="How long in advance people must book a session.",
    )
    booking_horizon_days = DurationField(
        label="How far ahead people can book",
        base=DAYS,
        units=HORIZON_UNITS,
        min_value=1,
        max_value=365,
        example=horizon_example,
        help_text="Your times are offered up to this far into the future.",
    )
    max_sessions_per_day = DailyCapField(
        label="Sessions per day, at most",
        required=False,
        min_value=1,
        max_value=24,
        widget=forms.NumberInput(
            attrs={"class": "form-control", "min": 1, "max": 24, "placeholder": "No limit"}
        ),
        help_text="Leave empty for no daily limit (1–24). Days are counted in your time zone.",
    )
    cancellation_cutoff_hours = DurationField(
        label="Mentees can cancel or move up to",
        base=HOURS,
        units=CUTOFF_UNITS,
        max_value=7 * 24,
        example=cutoff_example,
        suffix="before",
        help_text="How long before a session its mentee can still cancel or move it; "
        "you always can.",
    )

    class Meta:
        model = MentorProfile
        fields = [
            "headline",
            "biography",
            "expertise",
            "is_accepting_bookings",
            "buffer_minutes",
            "minimum_notice_minutes",
            "booking_horizon_days",
            "max_sessions_per_day",
            "cancellation_cutoff_hours",
        ]
        widgets = {
            "headline": forms.TextInput(
                attrs={"placeholder": "e.g. Staff engineer helping people grow into tech leads"}
            ),
            "biography": forms.Textarea(attrs={"rows": 8}),
        }
        help_texts = {
            "headline": "One line shown on your card in the directory.",
            "biography": (
                f"Plain text, up to {BIOGRAPHY_MAX_LENGTH} characters. "
                "Leave an empty line between paragraphs."
            ),
            "is_accepting_bookings": (
                "When off, you are hidden from the directory and nobody can book you."
            ),
        }

    def clean_expertise(self):
        tags = self.cleaned_data["expertise"]
        if len(tags) > MAX_EXPERTISE_TAGS:
            raise ValidationError(
                "Choose at most %(limit)s areas of expertise (you chose %(count)s).",
                code="too_many_tags",
                params={"limit": MAX_EXPERTISE_TAGS, "count": len(tags)},
            )
        return tags

    @property
    def example_settings(self) -> dict:
        """What ``duration.js`` needs to write the examples as the server
        does: the reader's clock and their today (the horizon's example)."""
        return {
            "clock": timeformat.TWELVE if timeformat.uses_12_hour() else timeformat.TWENTY_FOUR,
            "today": timezone.localdate().isoformat(),
        }

    def changes(self) -> dict:
        return {field: value for field, value in self.cleaned_data.items() if field != "expertise"}


class SocialLinkForm(forms.Form):
    platform = forms.ChoiceField(
        choices=[("", "Choose a platform…"), *SocialLink.Platform.choices], required=False
    )
    url = forms.URLField(
        label="Link",
        required=False,
        max_length=300,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )

    def clean(self):
        cleaned = super().clean()
        platform, url = cleaned.get("platform"), cleaned.get("url")
        if platform and not url and "url" not in self.errors:
            self.add_error("url", "Add the link for this platform, or clear the platform.")
        if url and not platform:
            self.add_error("platform", "Choose which platform this link is for.")
        if platform and url:
            # The model's own rules: https only, and on the platform's domain.
            link = SocialLink(platform=platform, url=url)
            try:
                link.full_clean(exclude=["mentor"], validate_unique=False)
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    for message in messages:
                        self.add_error(field if field in self.fields else None, message)
        return cleaned


class BaseSocialLinkFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for form in self.forms:
            platform = form.cleaned_data.get("platform")
            if not platform:
                continue
            if platform in seen:
                raise ValidationError(
                    "You added %(platform)s twice: keep one link per platform.",
                    code="duplicate_platform",
                    params={"platform": dict(SocialLink.Platform.choices)[platform]},
                )
            seen.add(platform)

    def links(self) -> dict[str, str]:
        return {
            form.cleaned_data["platform"]: form.cleaned_data["url"]
            for form in self.forms
            if form.cleaned_data.get("platform") and form.cleaned_data.get("url")
        }


SocialLinkFormSet = forms.formset_factory(
    SocialLinkForm,
    formset=BaseSocialLinkFormSet,
    extra=2,
    max_num=len(SocialLink.Platform.choices),
    validate_max=True,
)


def social_link_formset(mentor: MentorProfile, data=None) -> BaseSocialLinkFormSet:
    initial = [{"platform": link.platform, "url": link.url} for link in mentor.social_links.all()]
    return SocialLinkFormSet(data=data, initial=initial, prefix="links")


class MenteeProfileForm(forms.ModelForm):
    class Meta:
        model = MenteeProfile
        fields = ["biography", "goals"]
        widgets = {
            "biography": forms.Textarea(attrs={"rows": 5}),
            "goals": forms.Textarea(
                attrs={
                    "rows": 4,
                    "placeholder": "e.g. Move from backend engineering to management this year",
                }
            ),
        }
        labels = {"biography": "About you", "goals": "What you want from mentoring"}
        help_texts = {
            "goals": "Mentors you book see this, so they can prepare.",
        }
