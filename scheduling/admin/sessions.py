"""Sessions (look, and cancel through ``cancel_session``), session types,
availability and busy times."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_permission_codename
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from core.cache import InvalidatesProfileFragments
from mentorship.admin_site import CheckedModelAdminMixin

from ..booking import REASON_MAX_LENGTH, BookingRefused, cancel_session
from ..models import (
    Availability,
    BusyInterval,
    Session,
    SessionType,
)
from ..timefmt import local_time
from .filters import MENTOR_SEARCH_FIELDS, MentorsWithRowsFilter, StartFilter


class CancelSessionsForm(forms.Form):
    reason = forms.CharField(
        label="Reason (both participants can read it)",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
    )


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    """Look up any session; cancel through the service, never edit a row.

    The change page is a view page for everyone (no change permission), and
    there is no add or delete (DESIGN §4: sessions are cancelled, not deleted).
    Staff holding ``scheduling.change_session`` get the cancel action.
    """

    list_display = ("title", "starts", "mentor_name", "mentee_name", "status_now", "created_at")
    list_filter = ("status", StartFilter, ("mentor", MentorsWithRowsFilter))
    date_hierarchy = "start"
    search_fields = (
        "mentor__user__name",
        "mentor__user__email",
        "mentee__user__name",
        "mentee__user__email",
        "topic",
    )
    list_select_related = ("mentor__user", "mentee__user")
    ordering = ("-start",)
    actions = ["cancel_sessions"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "title",
                    "mentor",
                    "mentee",
                    "session_type",
                    "duration_minutes",
                    "start",
                    "end",
                    "status",
                    "hold_expires_at",
                    "topic",
                )
            },
        ),
        ("Meeting", {"fields": ("meeting_id", "meeting_url")}),
        (
            "Cancellation",
            {"fields": ("cancelled_at", "cancelled_by", "cancellation_reason")},
        ),
        (
            "History",
            {
                "fields": (
                    "created_at",
                    "rescheduled_from",
                    "rescheduled_as",
                    "no_show_marked_at",
                    "ical_uid",
                    "ical_sequence",
                    "ical_revised_at",
                )
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        # Read-only even for whoever might one day get the change permission.
        return flatten_fieldsets(self.fieldsets)

    def has_add_permission(self, request):
        return False  # only book_session creates sessions

    def has_change_permission(self, request, obj=None):
        return False  # only services change sessions

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead

    def has_cancel_permission(self, request):
        opts = self.opts
        codename = get_permission_codename("change", opts)
        return request.user.has_perm(f"{opts.app_label}.{codename}")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="start", ordering="start")
    def starts(self, session):
        # In the staff member's zone, saying which.
        return local_time(session.start, "D j M Y, H:i")

    @admin.display(description="mentor", ordering="mentor__user__name")
    def mentor_name(self, session):
        return str(session.mentor)

    @admin.display(description="mentee", ordering="mentee__user__name")
    def mentee_name(self, session):
        return str(session.mentee)

    @admin.display(description="status", ordering="status")
    def status_now(self, session):
        """By the clock, as the site shows it: the periodic task may lag."""
        return session.status_label_at(timezone.now())

    @admin.display(description="rescheduled to")
    def rescheduled_as(self, session):
        try:
            moved = session.rescheduled_to
        except Session.DoesNotExist:
            return None
        url = reverse("admin:scheduling_session_change", args=[moved.pk])
        return format_html('<a href="{}">{}</a>', url, moved)

    @admin.action(description="Cancel selected sessions", permissions=["cancel"])
    def cancel_sessions(self, request, queryset):
        """Ask for a reason, then cancel each session through ``cancel_session``.

        The first POST (from the changelist) shows the confirmation page; its
        form posts back with ``apply``. Sessions the service refuses stay as
        they are, each reported with the service's reason.
        """
        sessions = list(queryset.select_related("mentor__user", "mentee__user"))
        form = CancelSessionsForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._cancel(request, sessions, reason=form.cleaned_data["reason"])
            return None  # back to the changelist, its filters kept
        now = timezone.now()
        context = {
            **self.admin_site.each_context(request),
            "title": "Cancel sessions",
            "opts": self.opts,
            "sessions": [(session, session.status_label_at(now)) for session in sessions],
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "reason_max_length": REASON_MAX_LENGTH,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/scheduling/session/cancel_confirmation.html", context
        )

    def _cancel(self, request, sessions, *, reason):
        cancelled = 0
        now = timezone.now()
        for session in sessions:
            status = session.status_label_at(now)
            try:
                cancel_session(session=session, by=request.user, reason=reason)
            except BookingRefused as refusal:
                self.message_user(
                    request,
                    f"Not cancelled: “{session.title}” on "
                    f"{timezone.localtime(session.start):%Y-%m-%d %H:%M %Z} "
                    f"({session.mentor} with {session.mentee}, {status.lower()}): {refusal}",
                    messages.WARNING,
                )
            else:
                cancelled += 1
        if cancelled:
            self.message_user(
                request,
                f"Cancelled {cancelled} session{'s' if cancelled != 1 else ''}.",
                messages.SUCCESS,
            )


@admin.register(SessionType)
class SessionTypeAdmin(CheckedModelAdminMixin, InvalidatesProfileFragments, admin.ModelAdmin):
    """Session types; switch one off (``is_active``) rather than delete it:
    booked sessions point at it (``remove_session_type``'s rule)."""

    list_display = ("name", "mentor", "duration_minutes", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "slug", *MENTOR_SEARCH_FIELDS)
    list_select_related = ("mentor__user",)
    autocomplete_fields = ("mentor",)
    fields = ("mentor", "name", "slug", "duration_minutes", "description", "is_active")

    def get_readonly_fields(self, request, obj=None):
        # Links name the type by slug (?type=<slug>): a rename keeps it.
        return ("mentor", "slug", "created_at") if obj else ("created_at",)

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj else {"slug": ("name",)}

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Availability)
class AvailabilityAdmin(CheckedModelAdminMixin, InvalidatesProfileFragments, admin.ModelAdmin):
    """Mentors' windows of time, in wall-clock time of each row's zone."""

    list_display = ("mentor", "kind", "start", "end", "timezone", "repeats", "created_at")
    list_filter = ("kind",)
    search_fields = MENTOR_SEARCH_FIELDS
    list_select_related = ("mentor__user",)
    autocomplete_fields = ("mentor",)
    readonly_fields = ("created_at",)
    fields = ("mentor", "kind", "timezone", "start", "end", "recurrence", "created_at")

    @admin.display(description="repeats", boolean=True)
    def repeats(self, row):
        return bool(row.recurrence)


@admin.register(BusyInterval)
class BusyIntervalAdmin(CheckedModelAdminMixin, InvalidatesProfileFragments, admin.ModelAdmin):
    """Busy times read from calendars: each sync replaces them, so staff only
    look (and may delete a stale one)."""

    list_display = ("mentor", "start", "end", "source")
    search_fields = (*MENTOR_SEARCH_FIELDS, "source")
    list_select_related = ("mentor__user",)
    date_hierarchy = "start"
    raw_id_fields = ("mentor",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
