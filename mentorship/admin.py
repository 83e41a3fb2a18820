from django.contrib import admin
from django.db.models import Count

from core.cache import InvalidatesProfileFragments
from scheduling.models import Availability, SessionType

from .admin_site import CheckedModelAdminMixin
from .models import (
    MAX_EXPERTISE_TAGS,
    ExpertiseTag,
    MenteeProfile,
    MentorExpertise,
    MentorProfile,
    SocialLink,
)


class MentorExpertiseInline(CheckedModelAdminMixin, admin.TabularInline):
    model = MentorExpertise
    extra = 1
    max_num = MAX_EXPERTISE_TAGS
    autocomplete_fields = ["tag"]


class SocialLinkInline(CheckedModelAdminMixin, admin.TabularInline):
    model = SocialLink
    extra = 1


class SessionTypeInline(CheckedModelAdminMixin, admin.TabularInline):
    model = SessionType
    extra = 0
    fields = ("name", "slug", "duration_minutes", "is_active")


class AvailabilityInline(CheckedModelAdminMixin, admin.TabularInline):
    model = Availability
    extra = 0
    fields = ("kind", "timezone", "start", "end", "recurrence")


@admin.register(MentorProfile)
class MentorProfileAdmin(CheckedModelAdminMixin, InvalidatesProfileFragments, admin.ModelAdmin):
    list_display = (
        "__str__",
        "slug",
        "user_email",
        "is_accepting_bookings",
        "rating_avg",
        "rating_count",
        "created_at",
    )
    list_filter = ("is_accepting_bookings", ("expertise", admin.RelatedOnlyFieldListFilter))
    search_fields = ("user__name", "user__email", "slug", "headline")
    list_select_related = ("user",)
    readonly_fields = ("id", "rating_avg", "rating_count", "created_at", "updated_at")
    raw_id_fields = ("user",)
    inlines = [MentorExpertiseInline, SocialLinkInline, SessionTypeInline, AvailabilityInline]
    fieldsets = (
        (None, {"fields": ("id", "user", "slug", "headline", "biography")}),
        (
            "Bookings",
            {
                "fields": (
                    "is_accepting_bookings",
                    "buffer_minutes",
                    "minimum_notice_minutes",
                    "booking_horizon_days",
                    "max_sessions_per_day",
                    "cancellation_cutoff_hours",
                )
            },
        ),
        ("Ratings (kept by the reviews service)", {"fields": ("rating_avg", "rating_count")}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )

    @admin.display(description="email", ordering="user__email")
    def user_email(self, mentor):
        return mentor.user.email


@admin.register(MenteeProfile)
class MenteeProfileAdmin(admin.ModelAdmin):
    list_display = ("__str__", "user_email", "created_at")
    search_fields = ("user__name", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("id", "created_at", "updated_at")

    @admin.display(description="email", ordering="user__email")
    def user_email(self, mentee):
        return mentee.user.email


@admin.register(ExpertiseTag)
class ExpertiseTagAdmin(InvalidatesProfileFragments, admin.ModelAdmin):
    list_display = ("name", "slug", "mentor_count", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(mentor_count=Count("mentors"))

    @admin.display(description="mentors", ordering="mentor_count")
    def mentor_count(self, tag):
        return tag.mentor_count
