"""Caching for the public pages: directory, mentor pages and bookable times.

They are rendered from cached fragments keyed by two counters, each bumped
after the transaction of a write that changes what it covers commits:

- the *profiles version* (``profiles_changed``): profiles, tags, session
  types, reviews and ratings, accounts. It keys everything cached: the
  directory, the mentor-page fragments, the public mentor, the picker's mentor
  and session types;
- the *times version* (``times_changed``): writes that change only which times
  are bookable (bookings, cancellations, reschedules, no-shows, availability,
  calendar busy times). Only the keys of what shows bookable times (the
  picker's days, the slots JSON, the mentor page's next times) carry it, next
  to the profiles version (``Versions.times_key``), so a profile change
  invalidates them too while a booking leaves the directory and the profile
  fragments cached.

Bookable times also depend on the clock, so their keys carry the current
minute as well. A fragment is therefore never served after the data it shows
has changed; the time limit is only a safety net. With several processes, the
cache must be shared (Redis, ``REDIS_URL``) so that a bump in one process
reaches the others.
"""

import time
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction

PROFILES_VERSION_KEY = "mentorship:profiles-version"
TIMES_VERSION_KEY = "mentorship:times-version"
FRAGMENT_SECONDS = 600


def _read(*keys: str) -> list[int]:
    """The counters at ``keys``, in one round trip while they are all cached."""
    found = cache.get_many(keys)
    missing = [key for key in keys if found.get(key) is None]
    if missing:
        # After a cache flush, start from a number no earlier fragment used.
        now = time.time_ns()
        for key in missing:
            cache.add(key, now, timeout=None)
        # Another process may have added its number first: that one wins. If
        # the cache lost the key again meanwhile, ours is as good (no earlier
        # fragment used it).
        again = cache.get_many(missing)
        for key in missing:
            found[key] = again.get(key, now)
    return [found[key] for key in keys]


@dataclass(frozen=True)
class Versions:
    profiles: int
    times: int

    @property
    def times_key(self) -> str:
        """For the keys of bookable times: both counters, so that either
        kind of change makes them stale."""
        return f"{self.profiles}.{self.times}"


def profiles_version() -> int:
    """For the keys of what shows no bookable times."""
    return _read(PROFILES_VERSION_KEY)[0]


def versions() -> Versions:
    """Both counters, in one cache round trip."""
    return Versions(*_read(PROFILES_VERSION_KEY, TIMES_VERSION_KEY))


def _bump(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:  # the key was evicted: any new number invalidates
        cache.set(key, time.time_ns(), timeout=None)


def profiles_changed() -> None:
    """Mark every cached directory and mentor-page fragment stale, bookable
    times included (their keys carry the profiles version too).

    Bumped on commit: bumping earlier would let a concurrent request cache the
    old rows under the new version.
    """
    transaction.on_commit(lambda: _bump(PROFILES_VERSION_KEY))


def times_changed() -> None:
    """Mark only the cached bookable times stale: for writes that change which
    times are free but nothing the directory or the profile fragments show.

    Bumped on commit, like ``profiles_changed``.
    """
    transaction.on_commit(lambda: _bump(TIMES_VERSION_KEY))


class InvalidatesProfileFragments:
    """ModelAdmin mixin: staff edits also mark the cached profile pages stale."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        profiles_changed()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        profiles_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        profiles_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        profiles_changed()
