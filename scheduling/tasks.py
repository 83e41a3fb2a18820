"""Celery tasks of the scheduling app: each takes ids (or nothing), re-fetches
and calls one service. The periodic ones are on the static beat schedule in
settings (``CELERY_BEAT_SCHEDULE``)."""

from celery import shared_task

from . import lifecycle, outbox


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
