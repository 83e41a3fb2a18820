"""The personal calendar feed: a private iCalendar URL a calendar app
subscribes to, listing the user's sessions as mentor and as mentee.

The token in the URL is the only key (no sign-in: calendar apps cannot), so
whoever has the URL sees the session times, the names and the meeting links.
The owner can reset it (the old URL stops working at once) or turn it off.

What the feed lists: sessions that are upcoming or in progress by the clock,
and those that ended in the last ``FEED_PAST_DAYS`` days and were not
cancelled or marked as no-show. A subscribed calendar shows exactly what the
feed holds, so without the recent past a session would vanish from the
person's calendar as soon as it ended; older ones drop off to keep the file
(and what a leaked link reveals) small.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet

from accounts.models import User

from ..models import CalendarFeed, Session, new_feed_token

FEED_PAST_DAYS = 30
# A fetch is recorded at most this often: calendar apps poll every few
# minutes, and a write per poll would be a write per poll per subscriber.
FETCH_RECORD_INTERVAL = timedelta(minutes=10)


# --- writes -----------------------------------------------------------------------------------


@transaction.atomic
def feed_for(*, user: User) -> CalendarFeed:
    """The user's feed, created (with a fresh token) if they have none.
    Calling it again returns the same feed and token."""
    feed, _ = CalendarFeed.objects.get_or_create(user=user)
    return feed


@transaction.atomic
def reset_feed(*, user: User) -> CalendarFeed:
    """Give the user's feed a new token: the old URL is dead from the commit
    on. Creates the feed if the user has none (a reset from a page opened
    before the feed was turned off still ends with a working, new link)."""
    feed, created = CalendarFeed.objects.select_for_update().get_or_create(user=user)
    if not created:
        feed.token = new_feed_token()
        # The new URL has not been fetched by anything yet.
        feed.last_fetched_at = None
        feed.save(update_fields=["token", "last_fetched_at"])
    return feed


@transaction.atomic
def disable_feed(*, user: User) -> bool:
    """Delete the user's feed, so its URL answers 404. True if there was one;
    turning off a feed that is already off is not an error."""
    deleted, _ = CalendarFeed.objects.filter(user=user).delete()
    return bool(deleted)


def record_fetch(*, feed: CalendarFeed, now: datetime) -> None:
    """Note that a calendar app fetched ``feed`` at ``now``, at most once per
    ``FETCH_RECORD_INTERVAL``: most fetches write nothing. The update is
    conditional, so two fetches at once still write once."""
    if feed.last_fetched_at is not None and now - feed.last_fetched_at < FETCH_RECORD_INTERVAL:
        return
    stale = now - FETCH_RECORD_INTERVAL
    CalendarFeed.objects.filter(pk=feed.pk).exclude(last_fetched_at__gt=stale).update(
        last_fetched_at=now
    )
    feed.last_fetched_at = now


# --- reads ------------------------------------------------------------------------------------


def active_feed(token: str) -> CalendarFeed | None:
    """The feed with this token if its owner is active, with the owner
    loaded; None otherwise. One query, whichever way it fails: an unknown
    token and a deactivated owner take the same path."""
    return (
        CalendarFeed.objects.select_related("user")
        .filter(token=token, user__is_active=True)
        .first()
    )


def feed_sessions(*, user: User, now: datetime) -> QuerySet[Session]:
    """The sessions the feed of ``user`` lists (see the module docstring),
    both people loaded, in start order: one query however many there are.

    Statuses are read as ``Session.status_at`` reads them: an upcoming or
    active session whose end has passed is completed, whatever the periodic
    task has written so far.
    """
    return (
        Session.objects.for_participant(user)
        .filter(
            status__in=[
                Session.Status.UPCOMING,
                Session.Status.ACTIVE,
                Session.Status.COMPLETED,
            ],
            end__gt=now - timedelta(days=FEED_PAST_DAYS),
        )
        .select_related("mentor__user", "mentee__user")
        .order_by("start")
    )
