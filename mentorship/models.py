"""Mentor and mentee profiles, expertise tags and social links."""

import uuid
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from accounts.models import HttpsURLField

MAX_EXPERTISE_TAGS = 10
HEADLINE_MAX_LENGTH = 120
BIOGRAPHY_MAX_LENGTH = 5000


def validate_https_url(value: str) -> None:
    """Only https:// links: no javascript:, data: or plain-http URLs on our pages."""
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValidationError("Links must start with https://.", code="not_https")


class MentorProfileQuerySet(models.QuerySet):
    def listed(self):
        """Mentors in the directory: accepting bookings, with an active account.

        The account test is "not among the inactive accounts" rather than a
        join: PostgreSQL reads the (few) inactive accounts once, from their
        partial index (accounts migration 0004), and checks each mentor
        against them while it walks a directory index in order.
        """
        from accounts.models import User

        inactive = User.objects.filter(is_active=False).values("pk")
        return self.filter(is_accepting_bookings=True).exclude(user__in=inactive)

    def owned_by(self, user):
        """``user``'s own mentor profile (none for anyone else, staff included:
        staff use the admin). ``.owned_by(user).first()`` is "my mentor
        profile"; ``get_object_or_404(MentorProfile.objects.owned_by(user),
        slug=slug)`` is the owner-only page, a 404 for everyone else."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def visible_to(self, user):
        """Mentors accepting bookings for everyone; the owner and staff always."""
        if user.is_authenticated and user.is_staff:
            return self.all()
        public = models.Q(is_accepting_bookings=True, user__is_active=True)
        if user.is_authenticated:
            return self.filter(public | models.Q(user=user))
        return self.filter(public)

    def for_cards(self):
        """What a directory card shows of the mentor and their user, and only
        that (no biography, no account details); ``with_tag_names`` adds
        their tags' names."""
        return self.select_related("user").only(
            "slug",
            "headline",
            "rating_avg",
            "rating_count",
            "user__name",
            "user__email",
            "user__avatar",
        )


def with_tag_names(mentors: list["MentorProfile"]) -> list["MentorProfile"]:
    """Set ``tag_names`` on each of ``mentors``: their tags' names, A to Z,
    read in one query of names (cheaper than prefetching the tags)."""
    names: dict = {mentor.pk: [] for mentor in mentors}
    rows = (
        MentorExpertise.objects.filter(mentor__in=list(names))
        .order_by("tag__name")
        .values_list("mentor_id", "tag__name")
    )
    for mentor_id, name in rows:
        names[mentor_id].append(name)
    for mentor in mentors:
        mentor.tag_names = names[mentor.pk]
    return mentors


class ExpertiseTag(models.Model):
    """A curated skill. Staff create and rename tags; mentors pick from them."""

    name = models.CharField(max_length=60)
    slug = models.SlugField(max_length=70, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="mentorship_tag_name_ci_unique",
                violation_error_code="duplicate_name",
                violation_error_message="An expertise tag with this name already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MentorProfile(models.Model):
    """A user's mentor side. Rating fields are kept by the reviews service."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentor_profile"
    )
    slug = models.SlugField(max_length=80, unique=True)
    headline = models.CharField(max_length=HEADLINE_MAX_LENGTH, blank=True)
    biography = models.TextField(
        max_length=BIOGRAPHY_MAX_LENGTH,
        blank=True,
        validators=[MaxLengthValidator(BIOGRAPHY_MAX_LENGTH)],
    )
    expertise = models.ManyToManyField(
        ExpertiseTag, through="MentorExpertise", related_name="mentors", blank=True
    )
    is_accepting_bookings = models.BooleanField("accepting bookings", default=True)
    buffer_minutes = models.PositiveSmallIntegerField(
        "buffer between sessions (minutes)",
        default=10,
        validators=[MaxValueValidator(120)],
    )
    minimum_notice_minutes = models.PositiveIntegerField(
        "minimum notice (minutes)",
        default=12 * 60,
        validators=[MaxValueValidator(14 * 24 * 60)],
    )
    booking_horizon_days = models.PositiveSmallIntegerField(
        "booking horizon (days)",
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    max_sessions_per_day = models.PositiveSmallIntegerField(
        "daily session cap",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
    )
    cancellation_cutoff_hours = models.PositiveSmallIntegerField(
        "mentee cancellation cutoff (hours)",
        default=12,
        validators=[MaxValueValidator(168)],
        help_text="Mentees can cancel up to this many hours before a session; you always can.",
    )
    rating_avg = models.DecimalField(
        max_digits=3, decimal_places=2, default=Decimal("0.00"), editable=False
    )
    rating_count = models.PositiveIntegerField(default=0, editable=False)
    # How many of the visible reviews gave each number of stars (they add up
    # to ``rating_count``), kept with it in the same transaction by the
    # reviews service, so the mentor page's distribution reads no reviews.
    rating_1_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    rating_2_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    rating_3_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    rating_4_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    rating_5_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MentorProfileQuerySet.as_manager()

    class Meta:
        ordering = ["-rating_avg", "-rating_count", "slug"]
        indexes = [
            # The directory's sorts over listed mentors, each ending in a unique
            # tie-breaker and carrying the id and the user (whose account must
            # be active: ``listed()`` tests that against the few inactive
            # accounts, not by a join), so that a page, also page 500, is an
            # index-only walk instead of a sort of every mentor.
            models.Index(
                fields=["-rating_avg", "-rating_count", "slug", "id"],
                include=["user"],
                condition=models.Q(is_accepting_bookings=True),
                name="mentor_listed_by_rating",
            ),
            models.Index(
                fields=["-created_at", "slug", "id"],
                include=["user"],
                condition=models.Q(is_accepting_bookings=True),
                name="mentor_listed_by_newest",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating_avg__gte=0) & models.Q(rating_avg__lte=5),
                name="mentor_rating_avg_range",
            ),
            models.CheckConstraint(
                condition=models.Q(buffer_minutes__lte=120), name="mentor_buffer_range"
            ),
            models.CheckConstraint(
                condition=models.Q(booking_horizon_days__gte=1)
                & models.Q(booking_horizon_days__lte=365),
                name="mentor_horizon_range",
            ),
            models.CheckConstraint(
                condition=models.Q(max_sessions_per_day__isnull=True)
                | (models.Q(max_sessions_per_day__gte=1) & models.Q(max_sessions_per_day__lte=24)),
                name="mentor_daily_cap_range",
            ),
        ]

    def __str__(self) -> str:
        return self.user.name or self.slug


class MentorExpertise(models.Model):
    mentor = models.ForeignKey(MentorProfile, on_delete=models.CASCADE)
    tag = models.ForeignKey(ExpertiseTag, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mentor", "tag"], name="mentor_expertise_unique"),
        ]
        verbose_name = "expertise"
        verbose_name_plural = "expertise"

    def __str__(self) -> str:
        return f"{self.mentor} · {self.tag}"


class SocialLink(models.Model):
    class Platform(models.TextChoices):
        LINKEDIN = "linkedin", "LinkedIn"
        GITHUB = "github", "GitHub"
        X = "x", "X (Twitter)"
        MASTODON = "mastodon", "Mastodon"
        YOUTUBE = "youtube", "YouTube"
        MEDIUM = "medium", "Medium"
        STACKOVERFLOW = "stackoverflow", "Stack Overflow"
        DRIBBBLE = "dribbble", "Dribbble"
        WEBSITE = "website", "Website"

    # Hosts a platform's links must be on (a subdomain counts); platforms not
    # listed (Mastodon, a personal website) accept any https host.
    PLATFORM_DOMAINS = {
        Platform.LINKEDIN: ("linkedin.com",),
        Platform.GITHUB: ("github.com",),
        Platform.X: ("x.com", "twitter.com"),
        Platform.YOUTUBE: ("youtube.com", "youtu.be"),
        Platform.MEDIUM: ("medium.com",),
        Platform.STACKOVERFLOW: ("stackoverflow.com",),
        Platform.DRIBBBLE: ("dribbble.com",),
    }

    mentor = models.ForeignKey(MentorProfile, on_delete=models.CASCADE, related_name="social_links")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    url = HttpsURLField("link", max_length=300, validators=[validate_https_url])

    class Meta:
        ordering = ["platform"]
        constraints = [
            models.UniqueConstraint(
                fields=["mentor", "platform"], name="social_link_one_per_platform"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()}: {self.url}"

    def clean(self) -> None:
        super().clean()
        domains = self.PLATFORM_DOMAINS.get(self.platform)
        host = (urlsplit(self.url or "").hostname or "").lower()
        if domains and host and not any(host == d or host.endswith("." + d) for d in domains):
            raise ValidationError(
                {
                    "url": ValidationError(
                        "A %(platform)s link must be on %(domains)s.",
                        code="wrong_domain",
                        params={
                            "platform": self.get_platform_display(),
                            "domains": " or ".join(domains),
                        },
                    )
                }
            )


class MenteeProfile(models.Model):
    """A user's mentee side: what they want from mentoring."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentee_profile"
    )
    biography = models.TextField(
        max_length=BIOGRAPHY_MAX_LENGTH,
        blank=True,
        validators=[MaxLengthValidator(BIOGRAPHY_MAX_LENGTH)],
    )
    goals = models.TextField(max_length=2000, blank=True, validators=[MaxLengthValidator(2000)])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.user.name or str(self.pk)
