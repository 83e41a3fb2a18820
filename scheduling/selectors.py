"""Reads across scheduling models."""

from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from core.cache import Versions, versions

from .models import SessionType
from .slots import Slot, available_slots

NEXT_TIMES_DAYS = 14
NEXT_TIMES_SECONDS = 60


def next_available_times(
    mentor, *, limit: int = 6, cache_versions: Versions | None = None
) -> tuple[list[SessionType], list[Slot]]:
    """The mentor's active session types and the first bookable times of the
    first of them in the next 14 days, for the mentor page.

    Cached for a minute under the profiles and times versions (pass
    ``cache_versions`` when the caller has read them already): slots move with
    the clock (minimum notice), so the key also carries the current minute.
    """
    now = timezone.now().replace(second=0, microsecond=0)
    version = (cache_versions or versions()).times_key
    key = f"scheduling:next-times:{mentor.pk}:{version}:{now.isoformat()}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    session_types = list(mentor.session_types.active())
    slots = []
    if session_types:
        slots = available_slots(
            mentor, session_types[0], now, now + timedelta(days=NEXT_TIMES_DAYS), now=now
        )[:limit]
    cache.set(key, (session_types, slots), NEXT_TIMES_SECONDS)
    return session_types, slots
