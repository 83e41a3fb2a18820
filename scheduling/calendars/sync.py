"""Calendar sync (DESIGN §3, issue 8): busy times in, sessions out.

* ``sync_connection`` reads busy times over the booking horizon and replaces
  the connection's ``BusyInterval`` rows in one transaction, so the slot
  engine never calls a calendar during a request.
* ``push_session`` writes a session's event to each of the mentor's
  connections that has a target calendar (or deletes it once cancelled),
  under an id derived from the session's calendar UID, and records it in
  ``CalendarEvent``: retries, reschedules and reconnects update the one event.
* ``reconcile`` finds sessions whose event is missing or stale (a push lost to
  a broker outage, a worker that died) and pushes them again.

Temporary failures (429, 5xx, timeouts) raise ``CalendarTemporaryError`` for
the task to retry with backoff; lost credentials mark the connection
"needs reconnecting" and email the mentor; other errors are recorded on the
connection in plain words.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.cache import times_changed
from core.tasks import enqueue, enqueue_on_commit

from ..models import BusyInterval, CalendarConnection, CalendarEvent, Session
from .base import (
    CalendarAuthError,
    CalendarError,
    CalendarTemporaryError,
    client_for,
    event_id_for,
)

logger = logging.getLogger(__name__)

Status = CalendarConnection.Status
ERROR_MAX_LENGTH = 500
# Busy times are read from a day back (sessions in progress) to a day past the horizon.
SYNC_MARGIN = timedelta(days=1)


def _record_error(connection: CalendarConnection, error: CalendarError) -> None:
    if isinstance(error, CalendarAuthError):
        # Only the worker whose update changes the status emails: a sync and a
        # push refused at the same moment send the mentor one email, not two.
        marked = (
            CalendarConnection.objects.filter(pk=connection.pk)
            .exclude(status=Status.NEEDS_REAUTH)
            .update(status=Status.NEEDS_REAUTH, last_error=str(error)[:ERROR_MAX_LENGTH])
        )
        if marked:
            transaction.on_commit(lambda: email_reconnect(connection.pk))
    else:
        # Only a reconnect clears "needs reconnecting" (set meanwhile by another worker).
        CalendarConnection.objects.filter(pk=connection.pk).exclude(
            status=Status.NEEDS_REAUTH
        ).update(status=Status.ERROR, last_error=str(error)[:ERROR_MAX_LENGTH])


def email_reconnect(connection_id) -> None:
    """Tell the mentor their calendar stopped syncing and how to fix it."""
    connection = CalendarConnection.objects.select_related("mentor__user").get(pk=connection_id)
    user = connection.mentor.user
    url = f"{settings.SITE_URL}{reverse('scheduling:calendar_settings')}"
    try:
        send_mail(
            subject=f"Reconnect your {connection.get_provider_display()}",
            message=(
                f"Hi {user.get_short_name()},\n\n"
                f"Mentorship can no longer read your {connection.get_provider_display()} "
                f"({connection.account or 'your account'}): the permission was revoked or "
                "has expired. Until you reconnect it, new events in that calendar do not "
                "block your bookable times (those read before still do) and new sessions are "
                "not added to it.\n\n"
                f"Reconnect it here: {url}\n"
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[user.email],
        )
    except Exception:  # the mail server is down: the settings page says it too
        logger.warning("Could not email the reconnect notice for %s", connection_id, exc_info=True)


def _own_session_times(mentor_id, start, end) -> set:
    """(start, end) of the mentor's sessions: busy times that match one
    exactly are our own pushed events (the session itself blocks the time,
    and a cancellation must free it at once, not at the next sync)."""
    return set(
        Session.objects.filter(mentor_id=mentor_id, start__lt=end, end__gt=start).values_list(
            "start", "end"
        )
    )


def sync_connection(connection_id, *, now=None) -> int:
    """Replace the connection's busy times; returns how many were stored.
    Raises ``CalendarTemporaryError`` for the caller to retry later."""
    connection = CalendarConnection.objects.select_related("mentor").get(pk=connection_id)
    if connection.status == Status.NEEDS_REAUTH:
        return 0
    now = now or timezone.now()
    start = now - SYNC_MARGIN
    end = now + timedelta(days=connection.mentor.booking_horizon_days) + SYNC_MARGIN
    try:
        intervals = (
            client_for(connection).busy_times(connection.busy_calendars, start, end)
            if connection.busy_calendars
            else []
        )
    except CalendarTemporaryError:
        raise
    except CalendarError as error:
        _record_error(connection, error)
        return 0
    own = _own_session_times(connection.mentor_id, start, end)
    rows = [
        BusyInterval(
            mentor_id=connection.mentor_id,
            connection=connection,
            start=busy_start,
            end=busy_end,
            source=connection.provider,
        )
        for busy_start, busy_end in sorted(set(intervals))
        if busy_end > busy_start and (busy_start, busy_end) not in own
    ]
    with transaction.atomic():
        BusyInterval.objects.filter(connection=connection).delete()
        BusyInterval.objects.bulk_create(rows)
        CalendarConnection.objects.filter(pk=connection.pk).update(
            last_synced_at=now, last_error="", status=Status.ACTIVE
        )
        times_changed()  # the bookable times may have changed
    return len(rows)


def _wanted(session: Session) -> str:
    """What the calendars should hold for this session: "event", "none"
    (cancelled), or "skip" (moved: the new session carries the event)."""
    if session.status == Session.Status.CANCELLED:
        return "skip" if hasattr(session, "rescheduled_to") else "none"
    return "event"


def push_session(session_id) -> int:
    """Bring the session's event up to date in every connected target
    calendar of its mentor; returns how many calendars were written.
    Raises ``CalendarTemporaryError`` for the caller to retry later."""
    session = (
        Session.objects.select_related("mentor__user", "mentee__user", "rescheduled_to")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        return 0
    wanted = _wanted(session)
    if wanted == "skip":
        return 0
    written = 0
    for connection in target_connections(session.mentor_id):
        with transaction.atomic():
            event, created = CalendarEvent.objects.select_for_update().get_or_create(
                connection=connection,
                ical_uid=session.ical_uid,
                defaults={
                    "calendar": connection.target_calendar,
                    "external_id": event_id_for(session),
                    "session": session,
                },
            )
            if event.pushed_sequence > session.ical_sequence:
                continue  # a later move of this chain was pushed already
            try:
                client = client_for(connection)
                if wanted == "none":
                    if not event.is_deleted:
                        client.delete_event(event.calendar, event_id=event.external_id)
                    event.is_deleted = True
                else:
                    if event.calendar != connection.target_calendar:
                        # The mentor chose another calendar: move the event there.
                        if not event.is_deleted:
                            client.delete_event(event.calendar, event_id=event.external_id)
                        event.calendar = connection.target_calendar
                    event.etag = client.put_event(
                        event.calendar, event_id=event.external_id, session=session
                    )
                    event.is_deleted = False
            except CalendarTemporaryError:
                raise
            except CalendarError as error:
                _record_error(connection, error)
                if created:  # nothing was written: reconcile must still find it missing
                    event.delete()
                continue
            event.session = session
            event.pushed_sequence = session.ical_sequence
            event.save()
            written += 1
    return written


def stale_sessions(*, now=None, limit: int = 200) -> list:
    """Sessions whose events should be pushed again: upcoming ones of mentors
    with a target calendar whose event is missing or behind, and cancelled
    ones (not yet over) whose event may still be there."""
    now = now or timezone.now()
    with_target = CalendarConnection.objects.filter(status=Status.ACTIVE).exclude(
        target_calendar=""
    )
    mentors = with_target.values("mentor_id")
    candidates = Session.objects.filter(mentor_id__in=mentors, end__gt=now).filter(
        Q(status__in=[Session.Status.UPCOMING, Session.Status.ACTIVE])
        | Q(status=Session.Status.CANCELLED, rescheduled_to__isnull=True)
    )
    stale = []
    events = {
        (event.connection_id, event.ical_uid): event
        for event in CalendarEvent.objects.filter(
            connection__in=with_target,
            ical_uid__in=candidates.values("ical_uid"),
        )
    }
    connections = {}
    for connection in with_target:
        connections.setdefault(connection.mentor_id, []).append(connection)
    for session in candidates.order_by("start")[: limit * 5]:
        for connection in connections.get(session.mentor_id, []):
            event = events.get((connection.pk, session.ical_uid))
            if session.status == Session.Status.CANCELLED:
                # No record: it may still be in the calendar, written through
                # an earlier connection (a disconnect forgets the records, not
                # the events) before the session was cancelled. Deleting an
                # event that is not there is harmless and then recorded.
                behind = event is None or not event.is_deleted
            else:
                behind = (
                    event is None
                    or event.pushed_sequence < session.ical_sequence
                    or event.calendar != connection.target_calendar  # moved to another
                )
            if behind:
                stale.append(session.pk)
                break
        if len(stale) >= limit:
            break
    return stale


def disconnect(*, connection: CalendarConnection) -> None:
    """Delete the connection with its secrets, busy times and event records.
    Events already written stay in the calendar; reconnecting finds them by
    their ids and updates them instead of adding new ones."""
    with transaction.atomic():
        connection.delete()
        times_changed()  # its busy times no longer hold


def target_connections(mentor_id):
    """The connections a session of ``mentor_id`` (a value or an ``OuterRef``)
    is written to: connected, with a target calendar chosen."""
    return CalendarConnection.objects.filter(mentor_id=mentor_id, status=Status.ACTIVE).exclude(
        target_calendar=""
    )


def synced_calendar_names(mentor_id) -> list[str]:
    """The accounts whose calendars receive ``mentor_id``'s sessions, for
    the mentor's emails ("in your calendar (maya@fastmail.example)")."""
    return sorted(target_connections(mentor_id).values_list("account", flat=True))


def push_on_commit(session: Session) -> None:
    """After the current transaction commits, enqueue the calendar push for
    ``session``. A broker outage is logged: ``reconcile`` pushes it later."""
    from ..tasks import push_session_to_calendars

    enqueue_on_commit(
        push_session_to_calendars,
        str(session.pk),
        what=f"the calendar push for {session.pk}",
        fallback="reconcile pushes it later",
    )


def choose_calendars(*, connection: CalendarConnection, busy: list[str], target: str) -> None:
    """Save which of the connection's calendars count as busy and which one
    receives sessions ("" for none), then enqueue a sync once committed.
    The caller has checked the ids against the account's calendars."""
    with transaction.atomic():
        connection.busy_calendars = list(busy)
        connection.target_calendar = target
        connection.save(update_fields=["busy_calendars", "target_calendar", "updated_at"])
        enqueue_sync(connection.pk, on_commit=True)


def enqueue_sync(connection_id, *, on_commit: bool = False) -> bool:
    """Ask a worker to sync the connection ``connection_id`` (after the transaction commits with
    ``on_commit``). When the broker is down the periodic sync runs soon
    anyway; returns whether the worker got it (always True with ``on_commit``)."""
    from ..tasks import sync_calendar

    what, fallback = f"a sync of {connection_id}", "the periodic sync runs soon"
    if on_commit:
        enqueue_on_commit(sync_calendar, str(connection_id), what=what, fallback=fallback)
        return True
    return enqueue(sync_calendar, str(connection_id), what=what, fallback=fallback)
