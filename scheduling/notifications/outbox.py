"""The notification outbox (DESIGN §8).

Services write ``Notification`` rows with ``notify`` inside the transaction of
the change they tell about, so a rolled-back booking leaves no row, and a
committed one always has its rows. Delivery is enqueued on commit; if the
broker is down then, the periodic ``sweep`` enqueues the row later.

``deliver`` claims a row with one conditional UPDATE, so two workers, a retry
and a sweep never send one row twice; a send that fails is retried with
exponential backoff and jitter until ``NOTIFICATION_MAX_ATTEMPTS``, then the row
is marked failed (staff retry it from the admin). Reminders are found by
polling the database (``queue_due_reminders``), not by far-future ETA tasks.
"""

import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.tasks import enqueue as enqueue_task

from ..models import Notification, Session

logger = logging.getLogger(__name__)

Kind = Notification.Kind
Status = Notification.Status

# Who hears about what. Both sides of every change; the review request is the mentee's.
RECIPIENTS = {
    Kind.CONFIRMATION: ("mentee", "mentor"),
    Kind.RESCHEDULE: ("mentee", "mentor"),
    Kind.CANCELLATION: ("mentee", "mentor"),
    Kind.REMINDER_24H: ("mentee", "mentor"),
    Kind.REMINDER_1H: ("mentee", "mentor"),
    Kind.REVIEW_REQUEST: ("mentee",),
    Kind.HOLD: ("mentee",),  # the visitor confirms their address and the time
}
REMINDERS = ((Kind.REMINDER_24H, timedelta(hours=24)), (Kind.REMINDER_1H, timedelta(hours=1)))
# A pending row the on-commit enqueue should have handled by now: the sweep
# leaves younger rows alone so that it does not race the normal path.
SWEEP_GRACE = timedelta(minutes=2)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
ERROR_MAX_LENGTH = 2000


def occurrence(session: Session) -> str:
    return session.start.astimezone(UTC).isoformat()


def _recipients(session: Session, kind: str):
    people = {"mentee": session.mentee.user_id, "mentor": session.mentor.user_id}
    return [people[role] for role in RECIPIENTS[kind]]


def notify(session: Session, kind: str, *, fresh: bool = False) -> None:
    """Write ``kind``'s rows for ``session`` in the current transaction and
    enqueue their delivery when it commits. Writing the same rows again is a
    no-op (the ``notification_once`` constraint). ``fresh``: the session was
    created in this transaction, so no row can exist yet and the new rows'
    ids come back from the insert (one query fewer)."""
    if fresh:
        ids = [row.pk for row in Notification.objects.bulk_create(_rows([session], kind))]
        if None not in ids:
            transaction.on_commit(lambda: enqueue(ids))
            return
    notify_many([session], kind)


def rows(sessions, kind: str) -> list[Notification]:
    """``kind``'s rows for ``sessions``, not saved: for a caller that inserts
    them in a statement of its own (``booking.insert_booking``), then calls
    ``enqueue_on_commit`` with their ids."""
    return _rows(sessions, kind)


def enqueue_on_commit(ids) -> None:
    ids = list(ids)
    transaction.on_commit(lambda: enqueue(ids))


def notify_many(sessions, kind: str) -> None:
    """``notify`` for several sessions: one insert, one enqueue on commit."""
    sessions = list(sessions)
    if not sessions:
        return
    Notification.objects.bulk_create(_rows(sessions, kind), ignore_conflicts=True)
    session_ids = [session.pk for session in sessions]
    transaction.on_commit(lambda: enqueue_pending(session_ids=session_ids, kind=kind))


def _rows(sessions, kind: str) -> list[Notification]:
    now = timezone.now()
    return [
        Notification(
            session=session,
            kind=kind,
            recipient_id=user_id,
            occurrence=occurrence(session),
            next_attempt_at=now,
        )
        for session in sessions
        for user_id in _recipients(session, kind)
    ]


def enqueue_pending(*, session_ids, kind) -> None:
    ids = Notification.objects.filter(
        session_id__in=session_ids, kind=kind, status=Status.PENDING
    ).values_list("pk", flat=True)
    enqueue(list(ids))


def enqueue(ids) -> int:
    """Hand ``ids`` to the workers. A broker outage is logged, not raised:
    the rows stay pending and the sweep enqueues them later. Returns how many
    were handed over."""
    from ..tasks import deliver_notification

    handed = 0
    for notification_id in ids:
        if not enqueue_task(
            deliver_notification,
            notification_id,
            what=f"notification {notification_id}",
            fallback="the sweep will retry it",
        ):
            break  # the broker is down: the rest would fail too
        handed += 1
    return handed


# --- Delivery ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status: str  # sent, skipped, retry, failed, or not_claimed
    retry_at: datetime | None = None


NOT_CLAIMED = Outcome("not_claimed")


def backoff(attempt: int) -> timedelta:
    """Exponential backoff with jitter: about 1, 2, 4, 8… minutes (capped at an
    hour), each drawn from its upper half so that retries of many rows after
    one outage spread out instead of arriving together."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(attempt - 1, 0))
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security


def _claim(notification_id, now) -> bool:
    """Mark the row as being sent by this worker, if nobody else has it."""
    return bool(
        Notification.objects.filter(pk=notification_id)
        .due(now)
        .update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )


def _no_longer_true(notification: Notification, now) -> str:
    """Why this message should not go out any more ("" when it should)."""
    session = notification.session
    status = session.status_at(now)
    if notification.kind in (Kind.REMINDER_24H, Kind.REMINDER_1H):
        if status != Session.Status.UPCOMING:
            return f"The session is {Session.Status(status).label.lower()}."
    elif notification.kind in (Kind.CONFIRMATION, Kind.RESCHEDULE):
        if status == Session.Status.CANCELLED:
            return "The session was cancelled before this was sent."
    elif notification.kind == Kind.REVIEW_REQUEST and status != Session.Status.COMPLETED:
        return f"The session is {Session.Status(status).label.lower()}."
    elif notification.kind == Kind.HOLD and status != Session.Status.PENDING:
        return "The hold was confirmed or ran out before this was sent."
    if not notification.recipient.is_active:
        return "The recipient's account is deactivated."
    return ""


def deliver(notification_id, *, now: datetime | None = None) -> Outcome:
    """Send one notification if it is due and nobody else is sending it."""
    from .emails import build_message

    now = now or timezone.now()
    if not _claim(notification_id, now):
        return NOT_CLAIMED
    notification = Notification.objects.select_related(
        "recipient", "session__mentor__user", "session__mentee__user"
    ).get(pk=notification_id)
    mine = Notification.objects.filter(pk=notification_id, status=Status.SENDING, claimed_at=now)
    reason = _no_longer_true(notification, now)
    if reason:
        mine.update(status=Status.SKIPPED, last_error=reason)
        return Outcome(Status.SKIPPED)
    try:
        build_message(notification).send()
    except Exception as error:  # noqa: BLE001 - SMTP down, refused, timed out…: retry later
        error_text = f"{type(error).__name__}: {error}"[:ERROR_MAX_LENGTH]
        if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            mine.update(status=Status.FAILED, last_error=error_text)
            logger.error("Notification %s failed for good: %s", notification_id, error_text)
            return Outcome(Status.FAILED)
        retry_at = now + backoff(notification.attempts)
        mine.update(status=Status.PENDING, next_attempt_at=retry_at, last_error=error_text)
        logger.warning("Notification %s will be retried: %s", notification_id, error_text)
        return Outcome("retry", retry_at)
    mine.update(status=Status.SENT, sent_at=now, last_error="")
    return Outcome(Status.SENT)


def retry_failed(ids) -> int:
    """Staff's "retry" (admin): failed rows become pending with fresh attempts."""
    ids = list(
        Notification.objects.filter(pk__in=ids, status=Status.FAILED).values_list("pk", flat=True)
    )
    Notification.objects.filter(pk__in=ids, status=Status.FAILED).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    transaction.on_commit(lambda: enqueue(ids))
    return len(ids)


# --- Periodic work -------------------------------------------------------------------------


def sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Enqueue rows still pending a while after they were due (the broker was
    down at commit, a retry message was lost) and rows whose worker died."""
    now = now or timezone.now()
    ids = list(
        Notification.objects.due(now - SWEEP_GRACE)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return enqueue(ids)


def queue_due_reminders(*, now: datetime | None = None) -> int:
    """Write (and enqueue) the reminders that are due: 24 hours and 1 hour
    before upcoming sessions. A session booked after a reminder's moment does
    not get that reminder (the confirmation has just told them); the 24-hour
    one is not sent once the 1-hour one is due. Idempotent."""
    now = now or timezone.now()
    written = 0
    for kind, lead in REMINDERS:
        due = Session.objects.filter(
            status=Session.Status.UPCOMING,
            start__gt=now,
            start__lte=now + lead,
            created_at__lte=F("start") - lead,
        ).exclude(notifications__kind=kind)
        if kind == Kind.REMINDER_24H:
            due = due.filter(start__gt=now + timedelta(hours=1))
        for session in due.select_related("mentor", "mentee"):
            with transaction.atomic():
                notify(session, kind)
            written += 1
    return written
