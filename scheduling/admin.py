"""The back office for session types, availability, busy times, sessions and
calendar connections.

Sessions are created and changed only through services (DESIGN §4, §7): their
admin pages are for looking, and the one way staff change a session here is
the "Cancel selected sessions" action, which calls ``cancel_session`` for each
one. The other models are plain rows; every edit marks the cached public
pages stale (``InvalidatesProfileFragments``). Calendar connections are for
looking, and for "Sync now": their secrets never reach an admin page.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_permission_codename
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from core.cache import InvalidatesProfileFragments
from mentorship.admin_site import CheckedModelAdminMixin
from mentorship.models import MentorProfile

from .booking import REASON_MAX_LENGTH, BookingRefused, cancel_session
from .calendars import sync as calendar_sync
from .models import (
    Availability,
    BusyInterval,
    CalendarConnection,
    CalendarEvent,
    Notification,
    Session,
    SessionType,
)
from .notifications import outbox
from .timefmt import local_time

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


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The notification outbox (DESIGN §8), for looking: which email went to
    whom about which session, and what failed and why.

    Services write the rows and delivery changes them, so there is no add,
    change or delete. Staff holding ``scheduling.change_notification`` get one
    action, "Retry selected failed notifications" (``outbox.retry_failed``):
    it requeues the failed rows among those selected and leaves the others be.
    """

    list_display = (
        "created_at",
        "kind",
        "recipient_email",
        "session_link",
        "status",
        "attempts",
        "sent_at",
        "short_error",
    )
    list_filter = ("status", "kind")
    search_fields = ("recipient__email", "=session__id")
    search_help_text = "A recipient's email address, or a session's id."
    list_select_related = ("recipient", "session")
    ordering = ("-created_at",)
    actions = ["retry_failed_notifications"]
    fields = (
        "session",
        "kind",
        "recipient",
        "occurrence",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
        "last_error",
        "created_at",
    )

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request):
        return False  # only services write notifications

    def has_change_permission(self, request, obj=None):
        return False  # only delivery changes them

    def has_delete_permission(self, request, obj=None):
        return False  # the record of what was sent stays

    def has_retry_permission(self, request):
        opts = self.opts
        codename = get_permission_codename("change", opts)
        return request.user.has_perm(f"{opts.app_label}.{codename}")

    @admin.display(description="recipient", ordering="recipient__email")
    def recipient_email(self, notification):
        return notification.recipient.email

    @admin.display(description="session", ordering="session__start")
    def session_link(self, notification):
        session = notification.session
        url = reverse("admin:scheduling_session_change", args=[session.pk])
        # In the staff member's zone, saying which. The abbreviation comes from
        # the datetime: Django's "T" is blank for the repeated hour of a DST change.
        local = timezone.localtime(session.start)
        starts = f"{dateformat.format(local, 'D j M Y, H:i')} {local.tzname()}"
        return format_html('<a href="{}">{}, {}</a>', url, session.title, starts)

    @admin.display(description="last error")
    def short_error(self, notification):
        return Truncator(notification.last_error).chars(60)

    @admin.action(description="Retry selected failed notifications", permissions=["retry"])
    def retry_failed_notifications(self, request, queryset):
        """Failed rows become pending with fresh attempts and are enqueued;
        pending, sending, sent and skipped rows are left as they are."""
        selected = list(queryset.values_list("pk", flat=True))
        requeued = outbox.retry_failed(selected)
        if requeued:
            self.message_user(
                request,
                f"Requeued {plural(requeued, 'failed notification')} for sending.",
                messages.SUCCESS,
            )
        left_alone = len(selected) - requeued
        if left_alone:
            self.message_user(
                request,
                f"Left {plural(left_alone, 'notification')} alone: only failed ones are retried.",
                messages.WARNING,
            )


# --- Calendar connections ------------------------------------------------------------------

# Encrypted at rest and never shown: not in a form, a list or a read-only field.
CALENDAR_SECRET_FIELDS = ("caldav_password", "access_token", "refresh_token")


@admin.register(CalendarConnection)
class CalendarConnectionAdmin(admin.ModelAdmin):
    """Mentors' calendar connections: status and errors, never the secrets.

    Connections are made and removed by mentors on ``/calendars/``, and
    changed by syncing, so there is no add, change or delete here. Staff
    holding ``scheduling.change_calendarconnection`` get "Sync now", which
    enqueues ``sync_calendar`` as the mentor's own button does.
    """

    list_display = (
        "mentor_name",
        "provider",
        "account",
        "status",
        "last_synced_at",
        "short_error",
    )
    list_filter = ("provider", "status")
    search_fields = ("mentor__user__name", "mentor__user__email", "account")
    list_select_related = ("mentor__user",)
    ordering = ("-created_at",)
    actions = ["sync_now"]
    exclude = CALENDAR_SECRET_FIELDS
    fields = (
        "mentor",
        "provider",
        "account",
        "status",
        "last_error",
        "last_synced_at",
        "credentials",
        "expires_at",
        "scopes",
        "caldav_url",
        "caldav_username",
        "busy_calendars",
        "target_calendar",
        "events",
        "created_at",
        "updated_at",
    )

    def get_queryset(self, request):
        # The secrets are never even read (nor decrypted) here: whether one is
        # stored is asked of the database.
        return (
            super()
            .get_queryset(request)
            .defer(*CALENDAR_SECRET_FIELDS)
            .annotate(
                **{
                    f"has_{name}": ExpressionWrapper(~Q(**{name: ""}), BooleanField())
                    for name in CALENDAR_SECRET_FIELDS
                }
            )
        )

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request):
        return False  # mentors connect their own calendars

    def has_change_permission(self, request, obj=None):
        return False  # syncing changes the rows

    def has_delete_permission(self, request, obj=None):
        return False  # mentors disconnect on /calendars/

    def has_sync_permission(self, request):
        opts = self.opts
        codename = get_permission_codename("change", opts)
        return request.user.has_perm(f"{opts.app_label}.{codename}")

    @admin.display(description="mentor", ordering="mentor__user__name")
    def mentor_name(self, connection):
        return str(connection.mentor)

    @admin.display(description="last error")
    def short_error(self, connection):
        return Truncator(connection.last_error).chars(60)

    @admin.display(description="credentials")
    def credentials(self, connection):
        """Whether secrets are stored, in words: never the secrets themselves."""
        held = [
            label
            for name, label in (
                ("caldav_password", "app password"),
                ("access_token", "access token"),
                ("refresh_token", "refresh token"),
            )
            if getattr(connection, f"has_{name}", False)
        ]
        return f"{', '.join(held).capitalize()} stored, encrypted." if held else "None stored."

    @admin.display(description="events")
    def events(self, connection):
        count = connection.events.count()
        url = reverse("admin:scheduling_calendarevent_changelist")
        return format_html(
            '<a href="{}?connection__id__exact={}">{}</a>',
            url,
            connection.pk,
            plural(count, "event"),
        )

    @admin.action(description="Sync selected connections now", permissions=["sync"])
    def sync_now(self, request, queryset):
        """Enqueue a sync of each selected connection that is not waiting for
        its mentor to reconnect (a sync could not read it anyway)."""
        selected = list(queryset.values_list("pk", "status"))
        waiting = [
            pk for pk, status in selected if status == CalendarConnection.Status.NEEDS_REAUTH
        ]
        to_sync = [str(pk) for pk, _status in selected if pk not in waiting]

        # Nothing is written here, so nothing to wait for: the task re-reads the row.
        failed = sum(not calendar_sync.enqueue_sync(pk) for pk in to_sync)
        if len(to_sync) > failed:
            self.message_user(
                request,
                f"Syncing {plural(len(to_sync) - failed, 'connection')}: refresh in a moment.",
                messages.SUCCESS,
            )
        if failed:
            self.message_user(
                request,
                f"Could not start {plural(failed, 'sync')} (the task queue is unreachable); "
                "the periodic sync runs them later.",
                messages.WARNING,
            )
        if waiting:
            self.message_user(
                request,
                f"Skipped {plural(len(waiting), 'connection')} waiting for the mentor to "
                "reconnect.",
                messages.WARNING,
            )


@admin.register(CalendarEvent)
class CalendarEventAdmin(admin.ModelAdmin):
    """Sessions' events in mentors' calendars: which event, where, how far
    pushed. Written only by ``calendar_sync.push_session``."""

    list_display = (
        "ical_uid",
        "mentor_name",
        "provider",
        "session_link",
        "pushed_sequence",
        "is_deleted",
        "updated_at",
    )
    list_filter = ("is_deleted", "connection__provider")
    search_fields = (
        "=ical_uid",
        "=external_id",
        "connection__mentor__user__name",
        "connection__mentor__user__email",
    )
    search_help_text = "A mentor's name or email address, or an event's UID or id."
    list_select_related = ("connection__mentor__user", "session")
    ordering = ("-updated_at",)
    fields = (
        "connection",
        "session",
        "ical_uid",
        "calendar",
        "external_id",
        "etag",
        "pushed_sequence",
        "is_deleted",
        "updated_at",
    )

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="mentor", ordering="connection__mentor__user__name")
    def mentor_name(self, event):
        return str(event.connection.mentor)

    @admin.display(description="provider", ordering="connection__provider")
    def provider(self, event):
        return event.connection.get_provider_display()

    @admin.display(description="session")
    def session_link(self, event):
        if event.session is None:
            return None
        url = reverse("admin:scheduling_session_change", args=[event.session_id])
        return format_html('<a href="{}">{}</a>', url, event.session)
