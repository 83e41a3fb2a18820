"""Caching for the public pages: directory, mentor pages and bookable times.

Cached values are keyed by counters, each bumped after the transaction of a
write that changes what it covers commits (bumping earlier would let a
concurrent request cache the old rows under the new number):

- the *profiles version* (``profiles_changed``): any change to profiles, tags,
  session types or accounts that is not narrowed to one of the counters below.
  Everything cached carries it: the directory, the mentor-page fragments, the
  public mentor, the picker's mentor and session types, bookable times;
- the *directory version* (``mentor_changed(..., directory=True)``,
  ``directory_changed``): a change to what a directory page shows or to its
  order or membership (a listed mentor's headline, biography, tags or stored
  rating; a new tag). The directory's pages carry it next to the profiles
  version (``directory_versions``);
- a *mentor version* per mentor slug (``mentor_changed``): a change to what
  that one mentor's page shows and nothing else cached (reviews, replies,
  social links, the stored rating). That mentor's page fragments and public
  mentor carry it next to the profiles version (``mentor_page_versions``),
  so a review of one mentor leaves every other mentor's page cached, and the
  directory too unless the mentor's stored rating (shown on the cards, and
  the default order) changed;
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
DIRECTORY_VERSION_KEY = "mentorship:directory-version"
FRAGMENT_SECONDS = 600


def mentor_version_key(slug: str) -> str:
    return f"mentorship:mentor-version:{slug}"


def _read(*keys: str, found: dict | None = None) -> list[int]:
    """The counters at ``keys``, in one round trip while they are all cached
    (none when the caller fetched them already, in ``found``)."""
    if found is None:
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


@dataclass(frozen=True)
class MentorPageVersions:
    """What one mentor's page is keyed by: ``times`` (with ``profiles``) for
    its next bookable times, ``fragments`` for everything else on it."""

    profiles: int
    times: int
    mentor: int

    @property
    def times_versions(self) -> Versions:
        return Versions(self.profiles, self.times)

    @property
    def fragments(self) -> str:
        return f"{self.profiles}.{self.mentor}"


def mentor_page_versions(slug: str) -> MentorPageVersions:
    """The profiles, times and ``slug``'s mentor counters, in one round trip."""
    return MentorPageVersions(
        *_read(PROFILES_VERSION_KEY, TIMES_VERSION_KEY, mentor_version_key(slug))
    )


def cached_under_directory_versions(key: str) -> tuple[str, object]:
    """``(versions, value)``: the directory's current versions (a string for
    keys and values) and what is cached at ``key`` if it was stored under
    those versions (else None), in one round trip.

    The value is stored with the versions it was computed under
    (``store_under_directory_versions``) instead of under a key naming them, so
    that one ``get_many`` fetches the counters and the value together.
    """
    found = cache.get_many([PROFILES_VERSION_KEY, DIRECTORY_VERSION_KEY, key])
    current = "{}.{}".format(*_read(PROFILES_VERSION_KEY, DIRECTORY_VERSION_KEY, found=found))
    stored = found.get(key)
    if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == current:
        return current, stored[1]
    return current, None


def store_under_directory_versions(key: str, versions: str, value) -> None:
    """Cache ``value``, computed from rows read after ``versions`` were read
    (``cached_under_directory_versions``). A bump meanwhile makes it stale at
    once: the next reader sees other versions."""
    cache.set(key, (versions, value), FRAGMENT_SECONDS)


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


def mentor_changed(*slugs: str, directory: bool = False) -> None:
    """Mark stale what shows these mentors' pages (their fragments and public
    mentor), and with ``directory`` every directory page too (for a change to
    what a card shows or to the order: a listed mentor's rating, headline,
    biography, tags). Other mentors' pages, the picker and bookable times stay
    cached. Bumped on commit, like ``profiles_changed``."""
    keys = [mentor_version_key(slug) for slug in dict.fromkeys(slugs)]
    if directory:
        keys.append(DIRECTORY_VERSION_KEY)

    def bump():
        for key in keys:
            _bump(key)

    transaction.on_commit(bump)


def directory_changed() -> None:
    """Mark every directory page stale, and nothing else (a new tag in the
    filter list). Bumped on commit, like ``profiles_changed``."""
    transaction.on_commit(lambda: _bump(DIRECTORY_VERSION_KEY))


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
