"""The notification outbox: look, retry failed ones."""

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from ..models import (
    Notification,
)
from ..notifications import outbox
from ..timefmt import local_time
from .filters import plural


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
        starts = local_time(session.start, "D j M Y, H:i")
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
