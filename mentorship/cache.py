"""Caching for the public pages: directory, mentor pages and bookable times.

They are rendered from cached fragments keyed by a *profiles version*: a
counter that every write changing what those pages show (profiles, tags,
session types, availability, sessions, busy times) bumps after its
transaction commits (``profiles_changed``). Bookable times also depend on the
clock, so their keys carry the current minute as well. A fragment is
therefore never served after the data it shows has changed; the time limit is
only a safety net. With several processes, the cache must be shared (Redis,
``REDIS_URL``) so that a bump in one process reaches the others.
"""

import time

from django.core.cache import cache
from django.db import transaction

PROFILES_VERSION_KEY = "mentorship:profiles-version"
FRAGMENT_SECONDS = 600


def profiles_version() -> int:
    version = cache.get(PROFILES_VERSION_KEY)
    if version is None:
        # After a cache flush, start from a number no earlier fragment used.
        cache.add(PROFILES_VERSION_KEY, time.time_ns(), timeout=None)
        version = cache.get(PROFILES_VERSION_KEY)
    return version


def _bump() -> None:
    try:
        cache.incr(PROFILES_VERSION_KEY)
    except ValueError:  # the key was evicted: any new number invalidates
        cache.set(PROFILES_VERSION_KEY, time.time_ns(), timeout=None)


def profiles_changed() -> None:
    """Mark every cached directory and mentor-page fragment stale.

    Bumped on commit: bumping earlier would let a concurrent request cache the
    old rows under the new version.
    """
    transaction.on_commit(_bump)


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
