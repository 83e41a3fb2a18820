"""The back office for reviews and reports: moderation through the services.

Staff never edit a rating or a review's text (DESIGN §4): the change pages are
view pages for everyone, and there is no add. Staff holding
``reviews.change_review`` get the "Hide" and "Restore" actions, which call
``hide_review``/``restore_review`` (the mentor's rating follows, and hiding
resolves the open reports); those holding ``reviews.change_reviewreport`` can
mark reports resolved.

Hiding is the usual moderation: it takes a review off the public pages and
keeps the record. Staff holding ``reviews.delete_review`` (superusers do) may
also delete a review, from its page or with "Delete selected reviews"; each
goes through ``delete_review``, which removes the review with its reply and
reports, updates the mentor's rating, and lets the mentee review that session
again. The admin history keeps the deletion. Reports are never deleted on
their own: the record of what was reported stays as long as its review.
"""

from django.contrib import admin, messages
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from scheduling.admin.filters import MentorsWithRowsFilter
from scheduling.timefmt import local_time

from .models import Review, ReviewReport
from .services import (
    ReviewRefused,
    delete_review,
    hide_review,
    resolve_reports,
    restore_review,
)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def has_model_permission(request, opts, action: str) -> bool:
    codename = get_permission_codename(action, opts)
    return request.user.has_perm(f"{opts.app_label}.{codename}")


class ReportsFilter(admin.SimpleListFilter):
    title = "reports"
    parameter_name = "reports"

    def lookups(self, request, model_admin):
        return [("open", "With open reports"), ("any", "Ever reported"), ("none", "Never reported")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(open_reports__gt=0)
        if self.value() == "any":
            return queryset.filter(all_reports__gt=0)
        if self.value() == "none":
            return queryset.filter(all_reports=0)
        return queryset


class ReviewReportInline(admin.TabularInline):
    """The reports on a review, on its page (read-only)."""

    model = ReviewReport
    fk_name = "review"
    extra = 0
    can_delete = False
    fields = ("created_at", "reporter", "reason", "status", "resolved_at", "resolved_by")
    readonly_fields = fields
    ordering = ("-created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reporter", "resolved_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Look up reviews, see what was reported, hide or restore."""

    list_display = (
        "written",
        "mentor_name",
        "reviewer_name",
        "rating",
        "is_hidden",
        "open_reports_link",
    )
    list_filter = ("rating", "is_hidden", ReportsFilter, ("mentor", MentorsWithRowsFilter))
    search_fields = ("mentor__user__name", "mentee__user__name", "feedback")
    search_help_text = "A mentor's or reviewer's name, or words from the feedback."
    list_select_related = ("mentor__user", "mentee__user")
    ordering = ("-created_at",)
    actions = ["hide_reviews", "restore_reviews"]
    inlines = [ReviewReportInline]
    fieldsets = (
        (
            None,
            {"fields": ("id", "session_link", "mentor", "mentee", "rating", "feedback")},
        ),
        ("Mentor's reply", {"fields": ("reply_body",)}),
        ("Moderation", {"fields": ("is_hidden", "hidden_at", "hidden_by", "reports_link")}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_reports=Count("reports", filter=Q(reports__status=ReviewReport.Status.OPEN)),
                all_reports=Count("reports"),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        # Read-only even for whoever might one day get the change permission.
        return [field for _name, options in self.fieldsets for field in options["fields"]]

    def has_add_permission(self, request):
        return False  # only submit_review writes reviews

    def has_change_permission(self, request, obj=None):
        return False  # nobody but the author changes a rating or its text

    # ``has_delete_permission`` is Django's: ``reviews.delete_review``.

    def has_moderate_permission(self, request):
        return has_model_permission(request, self.opts, "change")

    def get_deleted_objects(self, objs, request):
        """Django's confirmation list, except that the reports, which nobody
        deletes on their own, do not stop their review's deletion."""
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(ReviewReport._meta.verbose_name)
        return deleted, model_count, perms_needed, protected

    def delete_model(self, request, obj):
        """The delete page, through ``delete_review`` (the admin has logged
        the deletion already)."""
        self._delete(request, obj)

    def delete_queryset(self, request, queryset):
        """The "Delete selected reviews" action: one ``delete_review`` per
        review, so every mentor's rating is recomputed. Django has logged the
        deletions already and says "Successfully deleted N reviews." after."""
        for review in queryset:
            self._delete(request, review)

    def response_delete(self, request, obj_display, obj_id):
        """After the delete page, back to the reviews list with its filters
        (Django goes there only for the change permission, which nobody has
        here, and to the admin's front page otherwise)."""
        response = super().response_delete(request, obj_display, obj_id)
        if isinstance(response, HttpResponseRedirect) and self.has_view_permission(request):
            changelist = reverse(
                "admin:reviews_review_changelist", current_app=self.admin_site.name
            )
            preserved = {
                "preserved_filters": self.get_preserved_filters(request),
                "opts": self.opts,
            }
            response = HttpResponseRedirect(add_preserved_filters(preserved, changelist))
        return response

    def _delete(self, request, review):
        try:
            delete_review(review=review, by=request.user)
        except ReviewRefused as refusal:  # only staff reach the admin at all
            raise PermissionDenied(str(refusal)) from refusal

    @admin.display(description="written", ordering="created_at")
    def written(self, review):
        return local_time(review.created_at, "D j M Y, H:i")

    @admin.display(description="mentor", ordering="mentor__user__name")
    def mentor_name(self, review):
        return str(review.mentor)

    @admin.display(description="reviewer", ordering="mentee__user__name")
    def reviewer_name(self, review):
        return str(review.mentee)

    @admin.display(description="open reports", ordering="open_reports")
    def open_reports_link(self, review):
        if not review.open_reports:
            return 0
        url = reverse("admin:reviews_reviewreport_changelist")
        return format_html(
            '<a href="{}?review={}&amp;status=open">{}</a>', url, review.pk, review.open_reports
        )

    @admin.display(description="session")
    def session_link(self, review):
        session = review.session
        url = reverse("admin:scheduling_session_change", args=[session.pk])
        starts = local_time(session.start, "D j M Y, H:i")
        return format_html('<a href="{}">{}, {}</a>', url, session.title, starts)

    @admin.display(description="reply")
    def reply_body(self, review):
        try:
            return review.reply.body
        except Review.reply.RelatedObjectDoesNotExist:
            return "—"

    @admin.display(description="reports")
    def reports_link(self, review):
        url = reverse("admin:reviews_reviewreport_changelist")
        return format_html(
            '<a href="{}?review={}">{} ({} open)</a>',
            url,
            review.pk,
            plural(review.all_reports, "report"),
            review.open_reports,
        )

    @admin.action(description="Hide selected reviews", permissions=["moderate"])
    def hide_reviews(self, request, queryset):
        """Each through ``hide_review``: off the public pages, out of the
        mentor's rating, its open reports resolved."""
        self._moderate(request, queryset, hide_review, done="Hid", state="hidden", hide=True)

    @admin.action(description="Restore selected reviews", permissions=["moderate"])
    def restore_reviews(self, request, queryset):
        """Each through ``restore_review``: back on the public pages and in
        the mentor's rating."""
        self._moderate(
            request, queryset, restore_review, done="Restored", state="visible", hide=False
        )

    def _moderate(self, request, queryset, service, *, done, state, hide):
        changed = unchanged = 0
        for review in queryset.select_related(None):
            try:
                result = service(review=review, by=request.user)
            except ReviewRefused as refusal:
                self.message_user(request, f"Not changed: {review}: {refusal}", messages.WARNING)
                continue
            if review.is_hidden == hide:
                unchanged += 1
            elif result.is_hidden == hide:
                changed += 1
        if changed:
            self.message_user(
                request,
                f"{done} {plural(changed, 'review')}; the mentors' ratings are updated.",
                messages.SUCCESS,
            )
        if unchanged:
            self.message_user(
                request,
                f"{plural(unchanged, 'review')} {'was' if unchanged == 1 else 'were'} "
                f"already {state}.",
                messages.INFO,
            )


@admin.register(ReviewReport)
class ReviewReportAdmin(admin.ModelAdmin):
    """What users reported, for staff to act on from the review's page (hide)
    or here ("Mark resolved" when the review is fine)."""

    list_display = ("created_at", "review_link", "reporter_email", "short_reason", "status")
    list_filter = ("status",)
    search_fields = ("reason", "reporter__email", "reporter__name")
    list_select_related = ("reporter", "review__mentor__user")
    ordering = ("-created_at",)
    actions = ["mark_resolved"]
    fields = (
        "review_link",
        "reporter",
        "reason",
        "status",
        "created_at",
        "resolved_at",
        "resolved_by",
    )

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request):
        return False  # only report_review writes reports

    def has_change_permission(self, request, obj=None):
        return False  # only the services change them

    def has_delete_permission(self, request, obj=None):
        return False  # the record of what was reported stays

    def has_resolve_permission(self, request):
        return has_model_permission(request, self.opts, "change")

    @admin.display(description="review", ordering="review__created_at")
    def review_link(self, report):
        review = report.review
        url = reverse("admin:reviews_review_change", args=[review.pk])
        hidden = " (hidden)" if review.is_hidden else ""
        return format_html(
            '<a href="{}">{}★ for {}</a>{}', url, review.rating, review.mentor, hidden
        )

    @admin.display(description="reporter", ordering="reporter__email")
    def reporter_email(self, report):
        return report.reporter.email

    @admin.display(description="reason")
    def short_reason(self, report):
        return Truncator(report.reason).chars(80)

    @admin.action(description="Mark resolved", permissions=["resolve"])
    def mark_resolved(self, request, queryset):
        """Close the selected open reports and leave their reviews as they are
        (to take a review down, hide it from the reviews list)."""
        selected = list(queryset)
        resolved = resolve_reports(reports=selected, by=request.user)
        if resolved:
            self.message_user(request, f"Resolved {plural(resolved, 'report')}.", messages.SUCCESS)
        if len(selected) > resolved:
            self.message_user(
                request,
                f"{plural(len(selected) - resolved, 'report')} "
                f"{'was' if len(selected) - resolved == 1 else 'were'} already resolved.",
                messages.INFO,
            )
