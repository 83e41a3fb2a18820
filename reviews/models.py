"""Reviews and ratings: only real mentees of ended sessions, once, moderated.

Rows are created and changed only through ``reviews.services`` (which keep
``MentorProfile.rating_avg``/``rating_count`` and the per-star counts in the
same transaction); the database holds what it can: one review per session,
ratings 1–5, one reply per review, one report per reporter and review.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from mentorship.models import MenteeProfile, MentorProfile
from scheduling.models import Session

RATING_MIN, RATING_MAX = 1, 5
FEEDBACK_MAX_LENGTH = 2000
REPLY_MAX_LENGTH = 2000
REPORT_REASON_MAX_LENGTH = 1000


class ReviewQuerySet(models.QuerySet):
    def visible(self):
        return self.filter(is_hidden=False)


class Review(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.OneToOneField(Session, on_delete=models.PROTECT, related_name="review")
    mentor = models.ForeignKey(MentorProfile, on_delete=models.CASCADE, related_name="reviews")
    mentee = models.ForeignKey(MenteeProfile, on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    feedback = models.TextField(max_length=FEEDBACK_MAX_LENGTH, blank=True)
    is_hidden = models.BooleanField(default=False)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=RATING_MIN) & Q(rating__lte=RATING_MAX),
                name="review_rating_1_to_5",
            ),
        ]
        indexes = [
            # A mentor's visible reviews in the order their pages list them
            # (newest first, the id breaking ties): a page is a walk of this
            # index, however many reviews the mentor has.
            models.Index(
                fields=["mentor", "-created_at", "-id"],
                condition=Q(is_hidden=False),
                name="review_mentor_visible_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ for {self.mentor} ({self.created_at:%Y-%m-%d})"


class ReviewReply(models.Model):
    """The mentor's one public reply to a review."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="reply")
    body = models.TextField(max_length=REPLY_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "review replies"

    def __str__(self) -> str:
        return f"reply to {self.review_id}"


class ReviewReport(models.Model):
    """A logged-in user flags a review for staff; staff hide or restore it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_reports"
    )
    reason = models.TextField(max_length=REPORT_REASON_MAX_LENGTH)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["review", "reporter"], name="report_once_per_reporter"),
        ]

    def __str__(self) -> str:
        return f"report on {self.review_id} ({self.status})"
