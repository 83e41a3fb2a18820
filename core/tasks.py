"""Handing work to the Celery workers from requests and services.

The broker may be down. Work whose loss a periodic job repairs (the outbox
sweep, calendar reconcile, the periodic sync) must then not fail the request
that asked for it: the booking is saved, the failure is logged, and the job
catches up. ``enqueue`` is that rule, once; ``enqueue_on_commit`` waits for
the transaction, so a worker never reads rows that are not committed yet and
nothing is sent for work that was rolled back.
"""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task, *args, what: str, fallback: str) -> bool:
    """Send ``task(*args)`` to the workers now. False, and a warning naming
    ``what`` and ``fallback`` (what catches the work up later), when the
    broker cannot take it; never raises."""
    try:
        task.delay(*args)
    except Exception:  # the broker is unreachable (or, eagerly, the task failed)
        logger.warning("Could not enqueue %s; %s.", what, fallback, exc_info=True)
        return False
    return True


def enqueue_on_commit(task, *args, what: str, fallback: str) -> None:
    """``enqueue`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: enqueue(task, *args, what=what, fallback=fallback))
