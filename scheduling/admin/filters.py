"""List filters and helpers shared by the scheduling admin pages (and reviews')."""

from datetime import timedelta

from django.contrib import admin
from django.utils import timezone

from mentorship.models import MentorProfile

MENTOR_SEARCH_FIELDS = ("mentor__user__name", "mentor__user__email", "mentor__slug")


class MentorsWithRowsFilter(admin.RelatedOnlyFieldListFilter):
    """Filter by mentor, offering only mentors that have rows here.

    Django's filter labels each mentor with ``str(mentor)``, one query per
    mentor (the name lives on the user): load the users in the same query.
    """

    def field_choices(self, field, request, model_admin):
        mentors = (
            MentorProfile.objects.filter(pk__in=model_admin.get_queryset(request).values("mentor"))
            .select_related("user")
            .order_by("user__name", "slug")
        )
        return [(mentor.pk, str(mentor)) for mentor in mentors]


class StartFilter(admin.SimpleListFilter):
    """Sessions by when they start, "today" in the staff member's own zone."""

    title = "when"
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [
            ("upcoming", "Upcoming"),
            ("today", "Today"),
            ("next_7_days", "Next 7 days"),
            ("past", "Past"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "upcoming":
            return queryset.filter(start__gte=now)
        if self.value() == "today":
            midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
            # Aware arithmetic is wall-clock: the next local midnight, also on
            # the 23- and 25-hour days of a DST change.
            next_midnight = midnight + timedelta(days=1)
            return queryset.filter(start__gte=midnight, start__lt=next_midnight)
        if self.value() == "next_7_days":
            return queryset.filter(start__gte=now, start__lt=now + timedelta(days=7))
        if self.value() == "past":
            return queryset.filter(start__lt=now)
        return queryset


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
