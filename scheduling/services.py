"""State changes of session types and availability."""

from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.validators import validate_timezone
from mentorship.models import MentorProfile

from .models import Availability, SessionType

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
    on one day, raise ValidationError and change nothing.
    """
    validate_timezone(timezone)
    zone = ZoneInfo(timezone)
    for weekday, ranges in weekly.items():
        ordered = sorted(ranges)
        for range_start, range_end in ordered:
            if range_end <= range_start:
                raise ValidationError(
                    f"{WEEKDAY_CODES[weekday]}: {range_start:%H:%M}–{range_end:%H:%M} "
                    "must end after it starts."
                )
        for (_, first_end), (second_start, _) in pairwise(ordered):
            if second_start < first_end:
                raise ValidationError(f"{WEEKDAY_CODES[weekday]}: time ranges overlap.")

    Availability.objects.filter(
        mentor=mentor, kind=Availability.Kind.AVAILABLE, recurrence__startswith="RRULE:FREQ=WEEKLY"
    ).delete()
    rows = []
    for weekday, ranges in sorted(weekly.items()):
        first_day = starting + timedelta(days=(weekday - starting.weekday()) % 7)
        for range_start, range_end in sorted(ranges):
            row = Availability(
                mentor=mentor,
                kind=Availability.Kind.AVAILABLE,
                timezone=timezone,
                start=datetime.combine(first_day, range_start, tzinfo=zone),
                end=datetime.combine(first_day, range_end, tzinfo=zone),
                recurrence=f"RRULE:FREQ=WEEKLY;BYDAY={WEEKDAY_CODES[weekday]}",
            )
            row.full_clean(exclude=["mentor"])
            rows.append(row)
    return Availability.objects.bulk_create(rows)
