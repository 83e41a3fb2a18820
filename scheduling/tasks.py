"""Celery tasks of the scheduling app: each takes ids (or nothing), re-fetches
and calls one service. The periodic ones are on the static beat schedule in
settings (``CELERY_BEAT_SCHEDULE``)."""

from celery import shared_task

from . import calendar_sync, lifecycle, outbox
from .calendars import CalendarTemporaryError
from .models import CalendarConnection


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


# --- Calendar connections ------------------------------------------------------------------

CALENDAR_RETRY = {
    "autoretry_for": (CalendarTemporaryError,),
    "retry_backoff": 30,  # 30 s, 60 s, 120 s… with full jitter
    "retry_backoff_max": 1800,
    "retry_jitter": True,
    "max_retries": 6,
}


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


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60, **CALENDAR_RETRY)
def sync_calendar(connection_id: str) -> int:
    """Replace one connection's busy times (idempotent; retried on 429/5xx)."""
    return calendar_sync.sync_connection(connection_id)


@shared_task(
    ignore_result=True, soft_time_limit=50, time_limit=60, acks_late=True, **CALENDAR_RETRY
)
def push_session_to_calendars(session_id: str) -> int:
    """Write (or remove) a session's event in the mentor's calendars. Idempotent:
    the event's id comes from the session's calendar UID."""
    return calendar_sync.push_session(session_id)


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def reconcile_calendar_events() -> int:
    """Beat: push again the sessions whose events are missing or behind."""
    stale = calendar_sync.stale_sessions()
    for session_id in stale:
        push_session_to_calendars.delay(str(session_id))
    return len(stale)
