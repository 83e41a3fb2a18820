import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def home(request):
    return render(request, "mentorship/home.html")


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: the database is unreachable")
        return "error"
    return "ok"


def _broker_state() -> str:
    if not settings.CELERY_BROKER_URL:
        return "not configured"
    from mentorship.celery import app

    try:
        with app.connection_for_write(url=settings.CELERY_BROKER_URL, connect_timeout=2) as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, timeout=3)
    except Exception:
        logger.exception("Health check: the broker is unreachable")
        return "error"
    return "ok"


def _cache_state() -> str:
    try:
        cache.set("healthz", "ok", 10)
        return "ok" if cache.get("healthz") == "ok" else "error"
    except Exception:
        logger.exception("Health check: the cache is unreachable")
        return "error"


@never_cache
@require_GET
def healthz(request):
    """JSON state of the database, broker and cache.

    503 only when the database is down: without it nothing works. A broker
    outage is reported as "degraded" with 200, because bookings still commit
    their notifications to the outbox and the sweep delivers them later.
    """
    state = {"database": _database_state(), "broker": _broker_state(), "cache": _cache_state()}
    if state["database"] != "ok":
        overall, status = "error", 503
    elif "error" in state.values():
        overall, status = "degraded", 200
    else:
        overall, status = "ok", 200
    return JsonResponse({"status": overall, **state}, status=status)
