"""Session types, availability, busy times and sessions.

Times are stored in UTC. Availability is *wall-clock* time in its own zone: a
weekly 09:00–17:00 stays 09:00–17:00 local across daylight-saving changes (see
``scheduling/slots.py``).
"""

import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Func, Q
from django.utils import timezone

from accounts.validators import validate_timezone
from mentorship.models import MenteeProfile, MentorProfile

from .crypto import EncryptedTextField

SESSION_MIN_MINUTES = 15
SESSION_MAX_MINUTES = 240


def validate_five_minute_step(value: int) -> None:
    if value % 5:
        raise ValidationError("Use a multiple of 5 minutes.", code="not_five_minutes")


def validate_recurrence(value: str) -> None:
    """RFC 5545 recurrence lines (RRULE, and EXDATE for dates left out)."""
    if not value:
        return
    from .slots import parse_recurrence

    try:
        parse_recurrence(value)
    except ValueError as error:
        raise ValidationError(
            "This repeat rule is not valid: %(error)s", code="bad_rrule", params={"error": error}
        ) from error


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = models.DateTimeField()


class PostgresOnlyExclusionConstraint(ExclusionConstraint):
    """An exclusion constraint that PostgreSQL enforces and other databases skip.

    One set of migrations serves SQLite (where ``book_session``'s write lock is
    the guarantee) and PostgreSQL (where this is the backstop).
    """

    def constraint_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model, instance, exclude=None, using="default"):
        from django.db import connections

        if connections[using].vendor != "postgresql":
            return
        super().validate(model, instance, exclude=exclude, using=using)


class SessionTypeQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class SessionType(models.Model):
    """A kind of session a mentor offers: "Intro call, 30 minutes"."""

    mentor = models.ForeignKey(
        MentorProfile, on_delete=models.CASCADE, related_name="session_types"
    )
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80)
    duration_minutes = models.PositiveSmallIntegerField(
        "duration (minutes)",
        validators=[
            MinValueValidator(SESSION_MIN_MINUTES),
            MaxValueValidator(SESSION_MAX_MINUTES),
            validate_five_minute_step,
        ],
    )
    description = models.TextField(max_length=1000, blank=True)
    is_active = models.BooleanField("offered", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SessionTypeQuerySet.as_manager()

    class Meta:
        ordering = ["duration_minutes", "name"]
        constraints = [
            models.UniqueConstraint(fields=["mentor", "slug"], name="session_type_slug_per_mentor"),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=SESSION_MIN_MINUTES)
                & Q(duration_minutes__lte=SESSION_MAX_MINUTES),
                name="session_type_duration_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.duration_minutes} min)"


class Availability(models.Model):
    """A window of the mentor's time, in wall-clock time of ``timezone``.

    ``start``/``end`` are the first occurrence; ``recurrence`` holds RRULE (and
    EXDATE) lines, blank for a one-off. ``available`` rows open time; ``blocked``
    rows close it whatever else says.
    """

    class Kind(models.TextChoices):
        AVAILABLE = "available", "Available"
        BLOCKED = "blocked", "Blocked"

    mentor = models.ForeignKey(MentorProfile, on_delete=models.CASCADE, related_name="availability")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.AVAILABLE)
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    start = models.DateTimeField()
    end = models.DateTimeField()
    recurrence = models.TextField(blank=True, validators=[validate_recurrence])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start"]
        verbose_name_plural = "availability"
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="availability_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M} UTC"


class CalendarConnectionQuerySet(models.QuerySet):
    def owned_by(self, user):
        """The connections of ``user``'s mentor profile; none for anyone else
        (staff use the admin)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(mentor__user=user)


class CalendarConnection(models.Model):
    """A mentor's external calendar account: Google (OAuth) or CalDAV.

    Secrets (tokens, the CalDAV app password) are encrypted at rest and never
    leave the server: not in admin, templates, logs or error reports. The
    mentor chooses which calendars count as busy and which one receives
    sessions; disconnecting deletes the row and its secrets.
    """

    class Provider(models.TextChoices):
        GOOGLE = "google", "Google Calendar"
        CALDAV = "caldav", "CalDAV"

    class Status(models.TextChoices):
        ACTIVE = "active", "Connected"
        NEEDS_REAUTH = "needs_reauth", "Needs reconnecting"
        ERROR = "error", "Error"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mentor = models.ForeignKey(
        MentorProfile, on_delete=models.CASCADE, related_name="calendar_connections"
    )
    provider = models.CharField(max_length=10, choices=Provider.choices)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.ACTIVE)
    # Who the account is (an email or user name): shown to the mentor, not secret.
    account = models.CharField(max_length=254, blank=True)
    caldav_url = models.URLField(max_length=500, blank=True)
    caldav_username = models.CharField(max_length=254, blank=True)
    caldav_password = EncryptedTextField(blank=True)
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.CharField(max_length=500, blank=True)
    # Calendar ids (Google) or URLs (CalDAV): those read for busy times, and
    # the one that receives sessions (blank: none).
    busy_calendars = models.JSONField(default=list, blank=True)
    target_calendar = models.CharField(max_length=500, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CalendarConnectionQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["mentor", "provider"], name="one_connection_per_provider"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} of {self.mentor_id} ({self.status})"

    def __repr__(self) -> str:  # never the secrets
        return f"<CalendarConnection {self.pk} {self.provider} {self.status}>"


class CalendarEvent(models.Model):
    """A session's event in a connected calendar, one per connection and
    reschedule chain (``ical_uid``): pushing again updates it, never adds one.
    The external id is derived from the UID, so even a reconnect (a new
    connection row) finds and updates the event it wrote before."""

    connection = models.ForeignKey(
        CalendarConnection, on_delete=models.CASCADE, related_name="events"
    )
    ical_uid = models.CharField(max_length=100)
    session = models.ForeignKey(
        "Session", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    calendar = models.CharField(max_length=500)
    external_id = models.CharField(max_length=1024)
    etag = models.CharField(max_length=200, blank=True)
    pushed_sequence = models.PositiveIntegerField(default=0)
    is_deleted = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "ical_uid"], name="one_event_per_chain"),
        ]

    def __str__(self) -> str:
        return f"event {self.external_id} ({'deleted' if self.is_deleted else 'live'})"


class BusyInterval(models.Model):
    """Busy time read from a mentor's external calendar (replaced on each sync)."""

    mentor = models.ForeignKey(
        MentorProfile, on_delete=models.CASCADE, related_name="busy_intervals"
    )
    connection = models.ForeignKey(
        CalendarConnection,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="busy_intervals",
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    source = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["mentor", "start"], name="busy_mentor_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="busy_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"busy {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M} UTC"


def new_ical_uid() -> str:
    return uuid.uuid4().hex


class SessionQuerySet(models.QuerySet):
    def blocking(self, now=None):
        """Sessions that occupy the mentor's time: booked ones, and holds
        awaiting their email confirmation until they lapse."""
        now = now or timezone.now()
        return self.filter(
            Q(status__in=[Session.Status.UPCOMING, Session.Status.ACTIVE])
            | Q(status=Session.Status.PENDING, hold_expires_at__gt=now)
        )

    def booked(self):
        """Sessions that were booked: not holds (confirmed or lapsed), which
        nobody sees as a session until the visitor confirms their email."""
        return self.exclude(status__in=[Session.Status.PENDING, Session.Status.EXPIRED])

    def lapsed_holds(self, now):
        """Holds whose time ran out but are still stored as pending (the
        periodic task tidies them up; pages and bookings read the clock)."""
        return self.filter(status=Session.Status.PENDING, hold_expires_at__lte=now)

    def for_participant(self, user):
        """Sessions ``user`` takes part in, as mentor or mentee: the ones they
        may act on (cancel, move, mark, review)."""
        if not user.is_authenticated:
            return self.none()
        return self.booked().filter(Q(mentor__user=user) | Q(mentee__user=user))

    def visible_to(self, user):
        """Sessions ``user`` may see: their own as mentor or mentee; staff see
        all. With the people and the type a session page shows."""
        sessions = self.select_related("mentor__user", "mentee__user", "session_type")
        if user.is_authenticated and user.is_staff:
            return sessions.booked()
        return sessions.for_participant(user)


# Statuses whose time no other booking may overlap (PostgreSQL's exclusion
# constraint). A pending hold stays in it until the hold is tidied up, so a
# booking over a lapsed hold first marks it expired (``booking``).
OCCUPYING_STATUSES = ["upcoming", "active", "pending"]


class Session(models.Model):
    """A booked 1:1 session. Created and changed only through services.

    A visitor who books without an account first holds the time: a
    ``pending`` session until ``hold_expires_at``, confirmed (``upcoming``)
    by the link emailed to them, or ``expired``."""

    class Status(models.TextChoices):
        PENDING = "pending", "Held, awaiting email confirmation"
        EXPIRED = "expired", "Hold expired"
        UPCOMING = "upcoming", "Upcoming"
        ACTIVE = "active", "In progress"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mentor = models.ForeignKey(MentorProfile, on_delete=models.PROTECT, related_name="sessions")
    mentee = models.ForeignKey(MenteeProfile, on_delete=models.PROTECT, related_name="sessions")
    session_type = models.ForeignKey(
        SessionType, on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions"
    )
    # A snapshot: the session keeps its title and length if the type changes.
    title = models.CharField(max_length=80)
    duration_minutes = models.PositiveSmallIntegerField()
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPCOMING)
    topic = models.TextField(max_length=1000, blank=True)
    meeting_id = models.CharField(max_length=200, blank=True)
    meeting_url = models.URLField(max_length=500, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cancellation_reason = models.TextField(max_length=1000, blank=True)
    # Rescheduling cancels this row and books a new one that points back here.
    rescheduled_from = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rescheduled_to",
    )
    # One calendar event for the whole reschedule chain: the new session keeps
    # the UID and raises the SEQUENCE, so calendars move the event. Every
    # change sent to calendars (booking, move, cancellation) is a revision
    # (RFC 5545 §3.8.7.4): it raises the SEQUENCE, and ``ical_revised_at``
    # (the DTSTAMP) is when it was made.
    ical_uid = models.CharField(max_length=100, default=new_ical_uid, editable=False)
    ical_sequence = models.PositiveIntegerField(default=0, editable=False)
    ical_revised_at = models.DateTimeField(default=timezone.now, editable=False)
    no_show_marked_at = models.DateTimeField(null=True, blank=True)
    # Until when a pending hold keeps its time (blank for a booking).
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["mentor", "start"], name="session_mentor_start"),
            models.Index(fields=["status", "end"], name="session_status_end"),
            # /sessions/ reads a page of each list by walking these from a
            # cursor (scheduling.session_lists), as mentor and as mentee;
            # cancelled sessions, a few among thousands, have their own.
            models.Index(fields=["mentee", "start"], name="session_mentee_start"),
            models.Index(
                fields=["mentor", "start"],
                condition=Q(status="cancelled"),
                name="session_mentor_cancelled",
            ),
            models.Index(
                fields=["mentee", "start"],
                condition=Q(status="cancelled"),
                name="session_mentee_cancelled",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="session_end_after_start"
            ),
            PostgresOnlyExclusionConstraint(
                name="session_no_overlap_per_mentor",
                expressions=[
                    (TsTzRange("start", "end", models.Value("[)")), RangeOperators.OVERLAPS),
                    ("mentor", RangeOperators.EQUAL),
                ],
                condition=Q(status__in=OCCUPYING_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} · {self.start:%Y-%m-%d %H:%M} UTC"

    def status_at(self, now) -> str:
        """The status by the clock: pages never wait for the periodic task.

        An upcoming session whose start has passed is active; one whose end has
        passed is completed; a hold whose time ran out is expired. Cancelled
        and no-show are final.
        """
        if self.status == self.Status.PENDING:
            if self.hold_expires_at is None or self.hold_expires_at <= now:
                return self.Status.EXPIRED
            return self.status
        if self.status in (self.Status.UPCOMING, self.Status.ACTIVE):
            if self.end <= now:
                return self.Status.COMPLETED
            if self.start <= now:
                return self.Status.ACTIVE
            return self.Status.UPCOMING
        return self.status

    def status_label_at(self, now) -> str:
        return self.Status(self.status_at(now)).label


class NotificationQuerySet(models.QuerySet):
    def due(self, now):
        """Rows a worker should (re)try now: pending and due, or claimed by a
        worker that has not finished within ``CLAIM_TIMEOUT`` (it died)."""
        return self.filter(
            Q(status=Notification.Status.PENDING, next_attempt_at__lte=now)
            | Q(status=Notification.Status.SENDING, claimed_at__lte=now - CLAIM_TIMEOUT)
        )


# A claimed row not finished after this long is claimed again (the worker's
# hard time limit is far below it).
CLAIM_TIMEOUT = timedelta(minutes=10)


class Notification(models.Model):
    """The outbox: one email to one person about one session, written in the
    same transaction as the change it tells about (``scheduling.notifications.outbox``)."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Booking confirmation"
        RESCHEDULE = "reschedule", "Rescheduled"
        CANCELLATION = "cancellation", "Cancellation"
        REMINDER_24H = "reminder_24h", "Reminder, 24 hours before"
        REMINDER_1H = "reminder_1h", "Reminder, 1 hour before"
        REVIEW_REQUEST = "review_request", "Review request"
        HOLD = "hold", "Confirm a held time"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"  # no longer true (a reminder for a cancelled session)

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    # What the message is about: the session's start (UTC, ISO) when written.
    # One row per (session, kind, recipient, occurrence): a retry, a second
    # worker or a second sweep never makes a second message.
    occurrence = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "kind", "recipient", "occurrence"], name="notification_once"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient_id} ({self.status})"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A user's private iCalendar feed of their upcoming sessions. The token
    in the URL is the only key: resetting it revokes the old URL."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(auto_now_add=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"calendar feed of {self.user_id}"
