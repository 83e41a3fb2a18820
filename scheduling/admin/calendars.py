"""Calendar connections (look, "Sync now"; never their secrets) and events."""

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from ..calendars import sync as calendar_sync
from ..models import (
    CalendarConnection,
    CalendarEvent,
)
from .filters import plural

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
    pushed. Written only by ``scheduling.calendars.sync.push_session``."""

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
