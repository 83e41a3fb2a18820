"""Celery tasks of the scheduling app: each takes ids (or nothing), re-fetches
and calls one service. The periodic ones are on the static beat schedule in
settings (``CELERY_BEAT_SCHEDULE``)."""

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from . import holds, lifecycle
from .calendars import CalendarTemporaryError
from .calendars import sync as calendar_sync
from .models import CalendarConnection
from .notifications import outbox


@shared_task(
    bind=True,
    ignore_result=True,
    # Delivery is idempotent (the row is claimed before sending), so a worker
    # lost mid-task may have its message delivered again.
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=30,
    time_limit=60,
)
def deliver_notification(self, notification_id: int) -> str:
    """Send one outbox row. A failed send is scheduled again with backoff
    (the row keeps its next attempt time, so the sweep retries it too if
    this message is lost)."""
    outcome = outbox.deliver(notification_id)
    if outcome.retry_at is not None and not self.request.is_eager:
        self.apply_async(args=[notification_id], eta=outcome.retry_at)
    return outcome.status


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def sweep_notifications() -> int:
    """Beat, every minute: enqueue rows still pending after the grace period."""
    return outbox.sweep()


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def send_due_reminders() -> int:
    """Beat, every minute: write and enqueue the 24-hour and 1-hour reminders."""
    return outbox.queue_due_reminders()


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def advance_session_statuses() -> dict:
    """Beat, every minute: upcoming → active → completed by the clock."""
    moved = lifecycle.advance_statuses()
    return {"started": moved.started, "completed": moved.completed}


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def expire_booking_holds() -> int:
    """Beat, every five minutes: mark holds nobody confirmed in time expired."""
    return holds.expire_holds()


# --- Calendar connections ------------------------------------------------------------------

# Temporary calendar errors (429, 5xx, timeouts) are retried with exponential
# backoff and full jitter (up to 30 s, 60 s, 120 s… at most 30 min), 6 times,
# and never sooner than the server asked with Retry-After (heeded up to an hour).
CALENDAR_RETRY_FACTOR = 30
CALENDAR_RETRY_MAX = 1800
CALENDAR_MAX_RETRIES = 6
RETRY_AFTER_MAX = 3600


def calendar_retry_countdown(retries: int, error: CalendarTemporaryError) -> float:
    """Seconds to wait before retry number ``retries + 1`` after ``error``."""
    countdown = get_exponential_backoff_interval(
        factor=CALENDAR_RETRY_FACTOR, retries=retries, maximum=CALENDAR_RETRY_MAX, full_jitter=True
    )
    if error.retry_after:
        countdown = max(countdown, min(error.retry_after, RETRY_AFTER_MAX))
    return countdown


def _retry_later(task, error: CalendarTemporaryError):
    """Raise Celery's Retry for ``task`` (or ``error`` once out of retries)."""
    return task.retry(
        exc=error,
        countdown=calendar_retry_countdown(task.request.retries, error),
        max_retries=CALENDAR_MAX_RETRIES,
    )


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def sync_all_calendars() -> int:
    """Beat: enqueue a sync of every connection that is not waiting for a reconnect."""
    ids = list(
        CalendarConnection.objects.exclude(
            status=CalendarConnection.Status.NEEDS_REAUTH
        ).values_list("pk", flat=True)
    )
    for connection_id in ids:
        sync_calendar.delay(str(connection_id))
    return len(ids)


@shared_task(bind=True, ignore_result=True, soft_time_limit=50, time_limit=60)
def sync_calendar(self, connection_id: str) -> int:
    """Replace one connection's busy times (idempotent; retried on 429/5xx)."""
    try:
        return calendar_sync.sync_connection(connection_id)
    except CalendarTemporaryError as error:
        raise _retry_later(self, error) from error


@shared_task(bind=True, ignore_result=True, soft_time_limit=50, time_limit=60, acks_late=True)
def push_session_to_calendars(self, session_id: str) -> int:
    """Write (or remove) a session's event in the mentor's calendars. Idempotent:
    the event's id comes from the session's calendar UID."""
    try:
        return calendar_sync.push_session(session_id)
    except CalendarTemporaryError as error:
        raise _retry_later(self, error) from error


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def reconcile_calendar_events() -> int:
    """Beat: push again the sessions whose events are missing or behind."""
    stale = calendar_sync.stale_sessions()
    for session_id in stale:
        push_session_to_calendars.delay(str(session_id))
    return len(stale)
