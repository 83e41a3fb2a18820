"""Booking a session: the one way a ``Session`` row comes to exist.

``book_session`` runs in one transaction: it locks the mentor's profile row
(so bookings of one mentor queue up), re-checks the requested start with the
slot engine, refuses the mentee's own overlapping sessions (after locking the
mentee's profile row, so one mentee racing two mentors books at most one) and
creates the session with its meeting link. On SQLite the ``BEGIN IMMEDIATE``
write transaction serializes the same way; on PostgreSQL the exclusion
constraint ``session_no_overlap_per_mentor`` is the backstop. Whatever the
cause of a conflict (a lost race, the constraint, a deadlock, SQLite busy),
the caller gets ``SlotTaken``, never a database error.
"""

from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from accounts.models import User
from mentorship.cache import profiles_changed
from mentorship.models import MenteeProfile, MentorProfile

from .meetings import meeting_provider
from .models import Session, SessionType
from .slots import available_slots

TOPIC_MAX_LENGTH = 1000


class BookingRefused(Exception):
    """A booking rule was broken; the message tells the user which."""


class SlotTaken(BookingRefused):
    """Someone else got that time first (or it stopped being free)."""

    def __init__(self, message: str = "That time was just taken. Please pick another one."):
        super().__init__(message)


def _check_mentee_may_book(user: User, mentor: MentorProfile) -> None:
    if not user.is_authenticated or not user.is_active:
        raise BookingRefused("Please sign in to book a session.")
    if mentor.user_id == user.pk:
        raise BookingRefused("You cannot book a session with yourself.")
    if not EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists():
        raise BookingRefused("Please confirm your email address before booking.")


def _locked_mentee(user: User) -> MenteeProfile:
    MenteeProfile.objects.get_or_create(user=user)
    return MenteeProfile.objects.select_for_update().get(user=user)


def _check_limits_and_overlaps(mentee: MenteeProfile, mentor, start, end, now) -> None:
    upcoming = Session.objects.blocking().filter(mentee=mentee, end__gt=now)
    if upcoming.filter(start__lt=end, end__gt=start).exists():
        raise BookingRefused("You already have a session at that time.")
    if upcoming.count() >= settings.MAX_UPCOMING_SESSIONS_PER_MENTEE:
        raise BookingRefused(
            f"You can hold at most {settings.MAX_UPCOMING_SESSIONS_PER_MENTEE} upcoming "
            "sessions. Cancel one or wait until one has taken place."
        )
    if upcoming.filter(mentor=mentor).count() >= settings.MAX_UPCOMING_SESSIONS_WITH_ONE_MENTOR:
        raise BookingRefused(
            f"You can hold at most {settings.MAX_UPCOMING_SESSIONS_WITH_ONE_MENTOR} upcoming "
            "sessions with one mentor."
        )


def book_session(
    *,
    mentee_user: User,
    mentor: MentorProfile,
    session_type: SessionType,
    start: datetime,
    topic: str = "",
    now: datetime | None = None,
) -> Session:
    """Book ``start`` (aware) with ``mentor`` for ``mentee_user``.

    Raises ``BookingRefused`` with a message for the user when a rule is
    broken, and ``SlotTaken`` (a ``BookingRefused``) when the time is no longer
    free. Creates the mentee profile on a first booking. Nothing is written
    when it raises.
    """
    topic = (topic or "").strip()
    if "\x00" in topic:  # PostgreSQL text cannot hold NUL
        raise BookingRefused("The topic cannot contain null characters.")
    if len(topic) > TOPIC_MAX_LENGTH:
        raise BookingRefused(f"Keep the topic under {TOPIC_MAX_LENGTH} characters.")
    if start.tzinfo is None:
        raise BookingRefused("That start time is not valid.")
    if session_type.mentor_id != mentor.pk or not session_type.is_active:
        raise BookingRefused("This session type is not offered.")
    _check_mentee_may_book(mentee_user, mentor)
    try:
        with transaction.atomic():
            return _book(mentee_user, mentor, session_type, start, topic, now)
    except IntegrityError as error:  # the exclusion constraint: a lost race
        raise SlotTaken() from error
    except OperationalError as error:  # deadlock, lock timeout, SQLite busy
        raise SlotTaken() from error


def _book(mentee_user, mentor, session_type, start, topic, now) -> Session:
    # The mentor's row first: every booking of this mentor waits here.
    locked_mentor = (
        MentorProfile.objects.select_for_update().select_related("user").get(pk=mentor.pk)
    )
    if not locked_mentor.is_accepting_bookings:
        raise BookingRefused("This mentor is not taking bookings right now.")
    # Re-read under the lock: the type may have been switched off meanwhile.
    if not SessionType.objects.filter(
        pk=session_type.pk, mentor=locked_mentor, is_active=True
    ).exists():
        raise BookingRefused("This session type is not offered.")
    now = now or timezone.now()
    duration = timedelta(minutes=session_type.duration_minutes)
    end = start + duration
    if start <= now:
        raise BookingRefused("That time has already passed. Please pick another one.")
    offered = available_slots(locked_mentor, session_type, start, end, now=now)
    if not any(slot.start == start for slot in offered):
        raise SlotTaken("That time is not available. Please pick one of the times shown.")
    mentee = _locked_mentee(mentee_user)
    _check_limits_and_overlaps(mentee, locked_mentor, start, end, now)
    session = Session(
        mentor=locked_mentor,
        mentee=mentee,
        session_type=session_type,
        title=session_type.name,
        duration_minutes=session_type.duration_minutes,
        start=start,
        end=end,
        status=Session.Status.UPCOMING,
        topic=topic,
    )
    meeting = meeting_provider().create(session=session)
    session.meeting_id, session.meeting_url = meeting.meeting_id, meeting.url
    session.full_clean(exclude=["mentor", "mentee", "session_type"], validate_constraints=False)
    session.save()
    profiles_changed()  # the time is no longer offered
    return session


REASON_MAX_LENGTH = 1000


def cancel_session(*, session: Session, by: User, reason: str = "", now=None) -> Session:
    """Cancel ``session`` on behalf of ``by`` (its mentor or mentee).

    Mentors may always cancel before the end; mentees only up to the mentor's
    cutoff (``cancellation_cutoff_hours``) before the start. Who, when and why
    are recorded and the time is offered again at once. Raises BookingRefused
    (and changes nothing) when that is not allowed.
    """
    reason = (reason or "").strip()
    if "\x00" in reason:  # PostgreSQL text cannot hold NUL
        raise BookingRefused("The reason cannot contain null characters.")
    if len(reason) > REASON_MAX_LENGTH:
        raise BookingRefused(f"Keep the reason under {REASON_MAX_LENGTH} characters.")
    with transaction.atomic():
        locked = (
            Session.objects.select_for_update()
            .select_related("mentor", "mentee")
            .get(pk=session.pk)
        )
        now = now or timezone.now()
        is_mentor = locked.mentor.user_id == by.pk
        if not is_mentor and locked.mentee.user_id != by.pk:
            raise BookingRefused("Only the mentor or the mentee can cancel this session.")
        if locked.status != Session.Status.UPCOMING or locked.start <= now:
            raise BookingRefused("This session can no longer be cancelled.")
        cutoff = timedelta(hours=locked.mentor.cancellation_cutoff_hours)
        if not is_mentor and locked.start - now < cutoff:
            raise BookingRefused(
                f"Sessions can be cancelled up to {locked.mentor.cancellation_cutoff_hours} hours "
                "before they start. Please contact your mentor instead."
            )
        locked.status = Session.Status.CANCELLED
        locked.cancelled_at = now
        locked.cancelled_by = by
        locked.cancellation_reason = reason
        locked.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancellation_reason"])
        profiles_changed()  # the time is offered again
    return locked
