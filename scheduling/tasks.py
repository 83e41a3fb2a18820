"""Celery tasks of the scheduling app: each takes ids (or nothing) and calls one service."""

from celery import shared_task

from . import lifecycle


@shared_task(ignore_result=True)
def advance_session_statuses() -> dict:
    """Beat, every minute: upcoming → active → completed by the clock."""
    moved = lifecycle.advance_statuses()
    return {"started": moved.started, "completed": moved.completed}
