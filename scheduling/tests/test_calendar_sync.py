"""Busy times in, sessions out (``scheduling/calendars/sync.py``), with an
in-memory calendar in place of a provider.

What is under test here is the rules above the providers: which busy rows a
sync replaces, what an error does to the connection and who is told, which
events a push writes, and when a push is skipped. The providers themselves
run against real servers in their own tests (Radicale, a local fake of
Google's HTTP API).

The clock is Thursday 26 November 2026, 12:00 UTC; the New York mentor has
weekday hours 09:00-12:00 (14:00-17:00 UTC).
"""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import IntegrityError
from kombu.exceptions import OperationalError as BrokerUnreachable

from core.cache import versions
from mentorship.tests.factories import MentorProfileFactory
from scheduling import tasks
from scheduling.booking import book_session, cancel_session, reschedule_session
from scheduling.calendars import CalendarAuthError, CalendarError, CalendarTemporaryError
from scheduling.calendars import sync as calendar_sync
from scheduling.models import BusyInterval, CalendarConnection, CalendarEvent, Session
from scheduling.slots import available_slots

from .factories import BusyIntervalFactory, SessionFactory
from .fake_calendar import (
    CalendarConnectionFactory,
    FakeCalendarClient,
    stored_secrets,
    use_fake_clients,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
MONDAY_14 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # 09:00 in New York
Status = CalendarConnection.Status
WORK = "https://calendar.example.com/dav/work/"


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    """Every test runs at NOW: the services read the clock (``stale_sessions``,
    booking) as well as the ``now`` the helpers pass."""
    time_machine.move_to(NOW, tick=False)


def hours(start, end):
    """[start, end) on Monday 30 November 2026, in UTC hours (14.5 = 14:30)."""

    def at(hour):
        return MONDAY_14.replace(hour=int(hour), minute=int(hour % 1 * 60))

    return at(start), at(end)


@pytest.fixture
def connection(mentor):
    return CalendarConnectionFactory(mentor=mentor, account="maya@fastmail.example")


@pytest.fixture
def fake(monkeypatch, connection) -> FakeCalendarClient:
    client = FakeCalendarClient()
    use_fake_clients(monkeypatch, (connection.pk, client))
    return client


def busy_rows(connection) -> list[tuple]:
    return list(
        BusyInterval.objects.filter(connection=connection)
        .order_by("start")
        .values_list("start", "end")
    )


def slot_starts(mentor) -> list[str]:
    intro = mentor.session_types.get(slug="intro-call")
    start, end = hours(14, 17)
    return [f"{slot.start:%H:%M}" for slot in available_slots(mentor, intro, start, end, now=NOW)]


def sync(connection, django_capture_on_commit_callbacks) -> int:
    with django_capture_on_commit_callbacks(execute=True):
        return calendar_sync.sync_connection(connection.pk, now=NOW)


def reloaded(connection) -> CalendarConnection:
    return CalendarConnection.objects.get(pk=connection.pk)


# --- Busy times in --------------------------------------------------------------------------


def test_sync_stores_the_busy_times_and_removes_the_slots_they_cover(
    mentor, connection, fake, django_capture_on_commit_callbacks
):
    assert slot_starts(mentor) == ["14:00", "14:30", "15:00", "15:30", "16:00", "16:30"]
    fake.busy = [hours(15, 16)]
    before = versions()
    assert sync(connection, django_capture_on_commit_callbacks) == 1
    assert busy_rows(connection) == [hours(15, 16)]
    assert slot_starts(mentor) == ["14:00", "14:30", "16:00", "16:30"]
    assert versions().times > before.times  # cached bookable times show the new ones
    assert versions().profiles == before.profiles  # the profile fragments stay cached
    # Read over the booking horizon, with a day of margin either side.
    [(calendars, start, end)] = fake.busy_requests
    assert calendars == [WORK]
    assert start == NOW - timedelta(days=1)
    assert end == NOW + timedelta(days=mentor.booking_horizon_days + 1)
    connection = reloaded(connection)
    assert (connection.status, connection.last_synced_at, connection.last_error) == (
        Status.ACTIVE,
        NOW,
        "",
    )


def test_sync_replaces_only_this_connections_rows(
    mentor, connection, fake, django_capture_on_commit_callbacks
):
    BusyIntervalFactory(mentor=mentor, connection=connection, start=hours(14, 15)[0])
    other = CalendarConnectionFactory()
    others_row = BusyIntervalFactory(mentor=other.mentor, connection=other)
    unconnected = BusyIntervalFactory(mentor=mentor, connection=None, source="import")
    fake.busy = [hours(16, 17), hours(15, 16), hours(15, 16)]  # unordered, a duplicate
    assert sync(connection, django_capture_on_commit_callbacks) == 2
    assert busy_rows(connection) == [hours(15, 16), hours(16, 17)]
    assert BusyInterval.objects.filter(pk__in=[others_row.pk, unconnected.pk]).count() == 2
    assert slot_starts(mentor) == ["14:00", "14:30"]
    # Syncing again with the event gone frees the time.
    fake.busy = []
    assert sync(connection, django_capture_on_commit_callbacks) == 0
    assert busy_rows(connection) == []


def test_busy_times_equal_to_the_mentors_own_sessions_are_ignored(
    mentor, connection, fake, django_capture_on_commit_callbacks
):
    """Our own pushed events come back as busy times: the session blocks its
    time already, and once cancelled its time must be free at once."""
    own_start, own_end = hours(16, 16.5)
    SessionFactory(mentor=mentor, start=own_start, end=own_end)
    cancelled_start, cancelled_end = hours(14, 14.5)
    SessionFactory(
        mentor=mentor,
        start=cancelled_start,
        end=cancelled_end,
        status=Session.Status.CANCELLED,
    )
    someone_elses = SessionFactory(
        start=own_start + timedelta(days=1), end=own_end + timedelta(days=1)
    )
    fake.busy = [
        (own_start, own_end),
        (cancelled_start, cancelled_end),
        (someone_elses.start, someone_elses.end),  # another mentor's session: real busy time
        (own_start, own_end + timedelta(minutes=15)),  # overlaps, but is not the session
    ]
    assert sync(connection, django_capture_on_commit_callbacks) == 2
    assert busy_rows(connection) == [
        (own_start, own_end + timedelta(minutes=15)),
        (someone_elses.start, someone_elses.end),
    ]
    assert "14:00" in slot_starts(mentor)


def test_a_failed_write_keeps_the_previous_busy_times(
    mentor, connection, fake, monkeypatch, django_capture_on_commit_callbacks
):
    BusyIntervalFactory(mentor=mentor, connection=connection, start=hours(14, 15)[0])
    fake.busy = [hours(15, 16)]

    def fail(*args, **kwargs):
        raise IntegrityError("disk full")

    monkeypatch.setattr(BusyInterval.objects, "bulk_create", fail)
    with pytest.raises(IntegrityError):
        sync(connection, django_capture_on_commit_callbacks)
    assert busy_rows(connection) == [(hours(14, 15)[0], hours(14, 15)[0] + timedelta(hours=1))]
    assert reloaded(connection).last_synced_at is None


def test_a_connection_without_busy_calendars_clears_its_rows_without_asking(
    mentor, connection, fake, django_capture_on_commit_callbacks
):
    BusyIntervalFactory(mentor=mentor, connection=connection)
    CalendarConnection.objects.filter(pk=connection.pk).update(busy_calendars=[])
    assert sync(connection, django_capture_on_commit_callbacks) == 0
    assert fake.busy_requests == []
    assert busy_rows(connection) == []


# --- Errors while syncing -------------------------------------------------------------------


def test_lost_credentials_mark_the_connection_and_email_the_mentor_once(
    mentor, connection, fake, django_capture_on_commit_callbacks
):
    BusyIntervalFactory(mentor=mentor, connection=connection, start=hours(15, 16)[0])
    fake.error = CalendarAuthError("The calendar server refused the app password.")
    assert sync(connection, django_capture_on_commit_callbacks) == 0
    connection = reloaded(connection)
    assert connection.status == Status.NEEDS_REAUTH
    assert connection.last_error == "The calendar server refused the app password."
    [email] = mail.outbox
    assert email.to == [mentor.user.email]
    assert email.subject == "Reconnect your CalDAV"
    assert "maya@fastmail.example" in email.body
    assert "http://127.0.0.1:8000/calendars/" in email.body
    assert connection.caldav_password not in email.body
    # The last busy times known stay: they were busy when last read.
    assert len(busy_rows(connection)) == 1

    # Later syncs leave it alone until the mentor reconnects: no second email.
    assert sync(connection, django_capture_on_commit_callbacks) == 0
    assert len(fake.busy_requests) == 0
    assert len(mail.outbox) == 1


def test_two_workers_losing_the_credentials_at_once_email_once(
    mentor, connection, monkeypatch, django_capture_on_commit_callbacks
):
    """A sync and a push may both load the connection while it is active and
    both be refused: the mentor gets one email, not one per worker."""

    class RefusedAfterTheOtherWorker(FakeCalendarClient):
        def busy_times(self, calendar_ids, start, end):
            # The other worker marked it while this one was talking to the server.
            CalendarConnection.objects.filter(pk=connection.pk).update(
                status=Status.NEEDS_REAUTH, last_error="Refused."
            )
            raise CalendarAuthError("Refused.")

    use_fake_clients(monkeypatch, (connection.pk, RefusedAfterTheOtherWorker()))
    sync(connection, django_capture_on_commit_callbacks)
    assert mail.outbox == []
    assert reloaded(connection).status == Status.NEEDS_REAUTH


def test_an_error_does_not_hide_that_the_connection_needs_reconnecting(
    mentor, connection, monkeypatch, django_capture_on_commit_callbacks
):
    """Another worker found the credentials revoked while this push failed
    for another reason: the mentor must still be told to reconnect."""

    class RefusedAfterTheOtherWorker(FakeCalendarClient):
        def put_event(self, calendar_id, *, event_id, session):
            CalendarConnection.objects.filter(pk=connection.pk).update(
                status=Status.NEEDS_REAUTH, last_error="Access was revoked."
            )
            raise CalendarError("The calendar “Work” is read-only.")

    use_fake_clients(monkeypatch, (connection.pk, RefusedAfterTheOtherWorker()))
    calendar_sync.push_session(session_of(mentor).pk)
    connection = reloaded(connection)
    assert (connection.status, connection.last_error) == (
        Status.NEEDS_REAUTH,
        "Access was revoked.",
    )


def test_the_reconnect_email_failing_does_not_fail_the_sync(
    connection, fake, settings, django_capture_on_commit_callbacks, caplog
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens there
    fake.error = CalendarAuthError("Refused.")
    with caplog.at_level(logging.WARNING, logger="scheduling.calendars.sync"):
        sync(connection, django_capture_on_commit_callbacks)
    assert reloaded(connection).status == Status.NEEDS_REAUTH
    assert "Could not email the reconnect notice" in caplog.text


def test_other_calendar_errors_are_recorded_and_a_later_sync_clears_them(
    mentor, connection, fake, django_capture_on_commit_callbacks
):
    BusyIntervalFactory(mentor=mentor, connection=connection, start=hours(15, 16)[0])
    fake.error = CalendarError("The calendar “Work” no longer exists.")
    assert sync(connection, django_capture_on_commit_callbacks) == 0
    connection = reloaded(connection)
    assert connection.status == Status.ERROR
    assert connection.last_error == "The calendar “Work” no longer exists."
    assert mail.outbox == []
    assert len(busy_rows(connection)) == 1

    fake.error = None
    fake.busy = [hours(16, 17)]
    assert sync(connection, django_capture_on_commit_callbacks) == 1
    connection = reloaded(connection)
    assert (connection.status, connection.last_error) == (Status.ACTIVE, "")
    assert busy_rows(connection) == [hours(16, 17)]


def test_long_error_messages_are_cut(connection, fake, django_capture_on_commit_callbacks):
    fake.error = CalendarError("x" * 2000)
    sync(connection, django_capture_on_commit_callbacks)
    assert len(reloaded(connection).last_error) == calendar_sync.ERROR_MAX_LENGTH


def test_temporary_errors_propagate_for_the_task_to_retry(
    mentor, connection, fake, django_capture_on_commit_callbacks
):
    BusyIntervalFactory(mentor=mentor, connection=connection)
    fake.error = CalendarTemporaryError("429 Too Many Requests", retry_after=30)
    with pytest.raises(CalendarTemporaryError):
        sync(connection, django_capture_on_commit_callbacks)
    connection = reloaded(connection)
    assert (connection.status, connection.last_error) == (Status.ACTIVE, "")
    assert len(busy_rows(connection)) == 1


def test_the_retry_countdown_backs_off_with_jitter_up_to_half_an_hour():
    error = CalendarTemporaryError("503 Service Unavailable")
    for retries, ceiling in [(0, 30), (1, 60), (2, 120), (6, 1800), (20, 1800)]:
        countdowns = [tasks.calendar_retry_countdown(retries, error) for _ in range(200)]
        assert all(0 <= countdown <= ceiling for countdown in countdowns)
        assert max(countdowns) > ceiling / 2  # full jitter, not always the least


@pytest.mark.parametrize(("retry_after", "least"), [(600, 600), (86400, 3600), (0, 0)])
def test_the_retry_countdown_is_never_sooner_than_retry_after(retry_after, least):
    error = CalendarTemporaryError("429 Too Many Requests", retry_after=retry_after)
    countdowns = [tasks.calendar_retry_countdown(0, error) for _ in range(50)]
    assert all(least <= countdown <= max(least, 30) for countdown in countdowns)


@pytest.mark.parametrize(
    ("task", "service"),
    [
        (tasks.sync_calendar, "sync_connection"),
        (tasks.push_session_to_calendars, "push_session"),
    ],
)
def test_calendar_tasks_retry_temporary_errors_after_what_the_server_asked(
    task, service, monkeypatch
):
    from celery.exceptions import Retry

    error = CalendarTemporaryError("429 Too Many Requests", retry_after=900)

    def overloaded(object_id):
        raise error

    asked = {}

    def retry(**options):
        asked.update(options)
        return Retry()

    monkeypatch.setattr(calendar_sync, service, overloaded)
    monkeypatch.setattr(task, "retry", retry)
    with pytest.raises(Retry):
        task("an-id")
    assert asked["exc"] is error
    assert asked["max_retries"] == tasks.CALENDAR_MAX_RETRIES == 6
    assert 900 <= asked["countdown"] <= 3600


def test_other_calendar_errors_are_not_retried(monkeypatch):
    def refused(connection_id):
        raise CalendarError("The calendar is gone.")

    monkeypatch.setattr(calendar_sync, "sync_connection", refused)
    monkeypatch.setattr(tasks.sync_calendar, "retry", lambda **options: pytest.fail("retried"))
    with pytest.raises(CalendarError):
        tasks.sync_calendar("an-id")


def test_the_sync_task_retries_until_the_calendar_answers(
    mentor, connection, monkeypatch, django_capture_on_commit_callbacks
):
    """Celery is eager in tests: its retries run at once, in this process
    (once errors stop propagating out of the first attempt, as a worker's would)."""
    from mentorship.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)

    class BusyTwice(FakeCalendarClient):
        calls = 0

        def busy_times(self, calendar_ids, start, end):
            BusyTwice.calls += 1
            if BusyTwice.calls <= 2:
                raise CalendarTemporaryError("503 Service Unavailable")
            return [hours(15, 16)]

    use_fake_clients(monkeypatch, (connection.pk, BusyTwice()))
    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.sync_calendar.delay(str(connection.pk))
    assert result.successful()
    assert result.result == 1
    assert BusyTwice.calls == 3
    assert busy_rows(connection) == [hours(15, 16)]


def test_sync_all_enqueues_every_connection_not_waiting_for_a_reconnect(monkeypatch):
    active = CalendarConnectionFactory()
    failing = CalendarConnectionFactory(status=Status.ERROR)
    CalendarConnectionFactory(status=Status.NEEDS_REAUTH)
    enqueued = []
    monkeypatch.setattr(tasks.sync_calendar, "delay", enqueued.append)
    assert tasks.sync_all_calendars() == 2
    assert sorted(enqueued) == sorted([str(active.pk), str(failing.pk)])


# --- Sessions out ---------------------------------------------------------------------------


def session_of(mentor, start_hour=15, **fields) -> Session:
    start, end = hours(start_hour, start_hour + 0.5)
    return SessionFactory(mentor=mentor, start=start, end=end, **fields)


def events_of(session) -> list[CalendarEvent]:
    return list(CalendarEvent.objects.filter(ical_uid=session.ical_uid))


def test_push_writes_one_event_per_connection_with_a_target_calendar(mentor, monkeypatch):
    caldav = CalendarConnectionFactory(mentor=mentor)
    google = CalendarConnectionFactory(
        mentor=mentor, provider=CalendarConnection.Provider.GOOGLE, target_calendar="primary"
    )
    clients = use_fake_clients(monkeypatch)
    session = session_of(mentor)
    assert calendar_sync.push_session(session.pk) == 2
    for connection, calendar in ((caldav, WORK), (google, "primary")):
        [put] = clients[connection.pk].puts
        assert (put.calendar_id, put.event_id, put.session_id) == (
            calendar,
            session.ical_uid,
            session.pk,
        )
        event = CalendarEvent.objects.get(connection=connection)
        assert (event.calendar, event.external_id, event.session_id) == (
            calendar,
            session.ical_uid,
            session.pk,
        )
        assert (event.pushed_sequence, event.is_deleted, event.etag) == (0, False, '"etag-1"')


def test_connections_without_a_target_calendar_or_needing_reconnect_are_skipped(
    mentor, monkeypatch
):
    CalendarConnectionFactory(mentor=mentor, target_calendar="")
    CalendarConnectionFactory(
        mentor=mentor, provider=CalendarConnection.Provider.GOOGLE, status=Status.NEEDS_REAUTH
    )
    clients = use_fake_clients(monkeypatch)
    session = session_of(mentor)
    assert calendar_sync.push_session(session.pk) == 0
    assert clients == {}
    assert events_of(session) == []


def test_pushing_twice_updates_the_one_event(mentor, connection, fake):
    session = session_of(mentor)
    calendar_sync.push_session(session.pk)
    calendar_sync.push_session(session.pk)
    assert [put.event_id for put in fake.puts] == [session.ical_uid, session.ical_uid]
    assert len(fake.events) == 1
    [event] = events_of(session)
    assert event.etag == '"etag-2"'


def test_choosing_another_target_calendar_moves_the_event_there(mentor, connection, fake):
    session = session_of(mentor)
    calendar_sync.push_session(session.pk)
    CalendarConnection.objects.filter(pk=connection.pk).update(target_calendar="personal")

    assert calendar_sync.push_session(session.pk) == 1

    assert fake.deletes == [(WORK, session.ical_uid)]
    assert list(fake.events) == [("personal", session.ical_uid)]
    [event] = events_of(session)
    assert (event.calendar, event.is_deleted) == ("personal", False)


def test_events_in_a_calendar_no_longer_chosen_are_stale(mentor, connection, fake):
    session = session_of(mentor)
    calendar_sync.push_session(session.pk)
    assert session.pk not in calendar_sync.stale_sessions()
    CalendarConnection.objects.filter(pk=connection.pk).update(target_calendar="personal")
    assert session.pk in calendar_sync.stale_sessions()


def test_a_cancellation_deletes_the_event_once(mentor, connection, fake):
    session = session_of(mentor)
    calendar_sync.push_session(session.pk)
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED)
    assert calendar_sync.push_session(session.pk) == 1
    assert fake.deletes == [(WORK, session.ical_uid)]
    assert fake.events == {}
    [event] = events_of(session)
    assert event.is_deleted
    calendar_sync.push_session(session.pk)  # a retry: nothing left to delete
    assert len(fake.deletes) == 1


def test_a_reschedule_moves_the_same_event_and_the_old_session_is_skipped(mentor, connection, fake):
    old = session_of(mentor, 15)
    calendar_sync.push_session(old.pk)
    Session.objects.filter(pk=old.pk).update(status=Session.Status.CANCELLED)
    moved = session_of(mentor, 16, rescheduled_from=old, ical_uid=old.ical_uid, ical_sequence=1)
    assert calendar_sync.push_session(moved.pk) == 1
    put = fake.puts[-1]
    assert (put.event_id, put.sequence, put.start) == (old.ical_uid, 1, moved.start)
    assert len(fake.events) == 1
    [event] = events_of(moved)
    assert (event.session_id, event.pushed_sequence, event.is_deleted) == (moved.pk, 1, False)
    # The old session's push (still queued from its cancellation) does nothing.
    assert calendar_sync.push_session(old.pk) == 0
    assert fake.deletes == []
    assert len(fake.puts) == 2


def test_an_older_push_arriving_after_a_newer_one_is_skipped(mentor, connection, fake):
    first = session_of(mentor, 15)
    second = session_of(mentor, 16, ical_uid=first.ical_uid, ical_sequence=1)
    calendar_sync.push_session(second.pk)
    assert calendar_sync.push_session(first.pk) == 0
    assert [put.session_id for put in fake.puts] == [second.pk]
    [event] = events_of(first)
    assert (event.session_id, event.pushed_sequence) == (second.pk, 1)


def test_a_push_for_a_deleted_session_does_nothing(connection, fake):
    import uuid

    assert calendar_sync.push_session(uuid.uuid4()) == 0
    assert fake.puts == []


def test_a_push_refused_for_good_records_the_error_and_is_pushed_again_later(
    mentor, connection, fake, django_capture_on_commit_callbacks
):
    session = session_of(mentor)
    fake.error = CalendarError("The calendar “Work” is read-only.")
    with django_capture_on_commit_callbacks(execute=True):
        assert calendar_sync.push_session(session.pk) == 0
    connection = reloaded(connection)
    assert (connection.status, connection.last_error) == (
        Status.ERROR,
        "The calendar “Work” is read-only.",
    )
    # Once a sync succeeds again, reconcile must find the event missing.
    fake.error = None
    sync(connection, django_capture_on_commit_callbacks)
    assert calendar_sync.stale_sessions(now=NOW) == [session.pk]


def test_a_push_refused_for_lost_credentials_emails_once(
    mentor, connection, fake, django_capture_on_commit_callbacks
):
    first, second = session_of(mentor, 14), session_of(mentor, 16)
    fake.error = CalendarAuthError("Access was revoked.")
    with django_capture_on_commit_callbacks(execute=True):
        calendar_sync.push_session(first.pk)
        calendar_sync.push_session(second.pk)  # skipped: needs reconnecting
    assert reloaded(connection).status == Status.NEEDS_REAUTH
    assert len(mail.outbox) == 1


def test_temporary_errors_while_pushing_propagate_and_record_nothing(mentor, connection, fake):
    session = session_of(mentor)
    fake.error = CalendarTemporaryError("429 Too Many Requests")
    with pytest.raises(CalendarTemporaryError):
        calendar_sync.push_session(session.pk)
    assert events_of(session) == []
    assert reloaded(connection).status == Status.ACTIVE


# --- Reconcile ------------------------------------------------------------------------------


def test_stale_sessions_are_those_missing_behind_or_cancelled_but_live(mentor, connection, fake):
    missing = session_of(mentor, 14)
    behind = session_of(mentor, 15)
    up_to_date = session_of(mentor, 16)
    cancelled_live = session_of(mentor, 14.5, status=Session.Status.CANCELLED)
    cancelled_gone = session_of(mentor, 15.5, status=Session.Status.CANCELLED)
    # Cancelled with no record for this connection: perhaps written before a reconnect.
    cancelled_unknown = session_of(mentor, 16.5, status=Session.Status.CANCELLED)
    for session in (behind, up_to_date, cancelled_live, cancelled_gone):
        CalendarEvent.objects.create(
            connection=connection,
            ical_uid=session.ical_uid,
            session=session,
            calendar=WORK,
            external_id=session.ical_uid,
            is_deleted=session is cancelled_gone,
        )
    Session.objects.filter(pk=behind.pk).update(ical_sequence=2)
    # A past session missing its event is not worth pushing.
    SessionFactory(mentor=mentor, start=NOW - timedelta(hours=2), end=NOW - timedelta(hours=1))
    # Mentors without a target calendar, or whose connection needs reconnecting.
    session_of(CalendarConnectionFactory(target_calendar="").mentor)
    session_of(CalendarConnectionFactory(status=Status.NEEDS_REAUTH).mentor)
    # Mentors with no connection at all.
    session_of(MentorProfileFactory())

    stale = calendar_sync.stale_sessions(now=NOW)
    assert sorted(map(str, stale)) == sorted(
        map(str, [missing.pk, behind.pk, cancelled_live.pk, cancelled_unknown.pk])
    )
    assert len(calendar_sync.stale_sessions(now=NOW, limit=2)) == 2

    for session_id in stale:
        calendar_sync.push_session(session_id)
    assert calendar_sync.stale_sessions(now=NOW) == []


def test_the_old_session_of_a_reschedule_is_not_stale(mentor, connection, fake):
    old = session_of(mentor, 15, status=Session.Status.CANCELLED)
    moved = session_of(mentor, 16, rescheduled_from=old, ical_uid=old.ical_uid, ical_sequence=1)
    calendar_sync.push_session(moved.pk)
    assert calendar_sync.stale_sessions(now=NOW) == []


def test_reconcile_enqueues_the_stale_sessions(monkeypatch):
    connection = CalendarConnectionFactory()
    session = SessionFactory(
        mentor=connection.mentor,
        start=NOW + timedelta(days=2),
        end=NOW + timedelta(days=2, hours=1),
    )
    enqueued = []
    monkeypatch.setattr(tasks.push_session_to_calendars, "delay", enqueued.append)
    assert tasks.reconcile_calendar_events() == 1
    assert enqueued == [str(session.pk)]


# --- Disconnect -----------------------------------------------------------------------------


def test_disconnect_deletes_the_secrets_busy_times_and_event_records(
    mentor, connection, fake, django_capture_on_commit_callbacks
):
    other = CalendarConnectionFactory()
    other_busy = BusyIntervalFactory(mentor=other.mentor, connection=other)
    BusyIntervalFactory(mentor=mentor, connection=connection)
    session = session_of(mentor)
    calendar_sync.push_session(session.pk)
    assert stored_secrets(connection)["caldav_password"]
    before = versions()
    with django_capture_on_commit_callbacks(execute=True):
        calendar_sync.disconnect(connection=connection)
    assert not CalendarConnection.objects.filter(pk=connection.pk).exists()
    assert not BusyInterval.objects.filter(connection_id=connection.pk).exists()
    assert not CalendarEvent.objects.filter(connection_id=connection.pk).exists()
    assert BusyInterval.objects.filter(pk=other_busy.pk).exists()
    assert versions().times > before.times  # its busy times no longer hold
    # Events stay in the calendar (the fake's memory here).
    assert len(fake.events) == 1


def test_reconnecting_updates_the_events_written_before(mentor, connection, monkeypatch):
    """The event id comes from the session, not the connection: the new
    connection's push replaces the event the old one wrote."""
    calendar = FakeCalendarClient()
    session = session_of(mentor)
    use_fake_clients(monkeypatch, (connection.pk, calendar))
    calendar_sync.push_session(session.pk)
    calendar_sync.disconnect(connection=connection)
    again = CalendarConnectionFactory(mentor=mentor)
    use_fake_clients(monkeypatch, (again.pk, calendar))
    assert calendar_sync.stale_sessions(now=NOW) == [session.pk]
    calendar_sync.push_session(session.pk)
    assert len(calendar.events) == 1
    assert [put.event_id for put in calendar.puts] == [session.ical_uid] * 2


def test_a_session_cancelled_while_disconnected_leaves_the_calendar_after_reconnecting(
    mentor, connection, monkeypatch
):
    calendar = FakeCalendarClient()
    session = session_of(mentor)
    use_fake_clients(monkeypatch, (connection.pk, calendar))
    calendar_sync.push_session(session.pk)
    calendar_sync.disconnect(connection=connection)
    cancel_session(session=session, by=mentor.user, now=NOW)  # nothing connected to tell
    assert len(calendar.events) == 1

    again = CalendarConnectionFactory(mentor=mentor)
    use_fake_clients(monkeypatch, (again.pk, calendar))
    assert calendar_sync.stale_sessions(now=NOW) == [session.pk]
    calendar_sync.push_session(session.pk)
    assert calendar.events == {}
    assert calendar.deletes == [(WORK, session.ical_uid)]
    assert calendar_sync.stale_sessions(now=NOW) == []  # the delete is recorded


# --- The booking services push on commit ----------------------------------------------------


@pytest.fixture
def pushes(monkeypatch) -> list:
    enqueued: list = []
    monkeypatch.setattr(tasks.push_session_to_calendars, "delay", enqueued.append)
    return enqueued


def book(mentor, mentee_user, start=MONDAY_14) -> Session:
    return book_session(
        mentee_user=mentee_user,
        mentor=mentor,
        session_type=mentor.session_types.get(slug="intro-call"),
        start=start,
    )


def test_booking_rescheduling_and_cancelling_enqueue_the_push_after_commit(
    mentor, connection, mentee_user, pushes, frozen_now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        session = book(mentor, mentee_user)
    assert pushes == []  # not before the row is committed
    for callback in callbacks:
        callback()
    assert pushes == [str(session.pk)]

    with django_capture_on_commit_callbacks(execute=True):
        moved = reschedule_session(session=session, by=mentee_user, start=hours(15, 16)[0])
    assert pushes[-1] == str(moved.pk)

    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session=moved, by=mentor.user, reason="Ill, sorry.")
    assert pushes == [str(session.pk), str(moved.pk), str(moved.pk)]


def test_without_a_target_calendar_booking_rescheduling_and_cancelling_enqueue_no_push(
    mentor, mentee_user, pushes, frozen_now, django_capture_on_commit_callbacks
):
    def book_and_move():
        with django_capture_on_commit_callbacks(execute=True):
            session = book(mentor, mentee_user)
        with django_capture_on_commit_callbacks(execute=True):
            moved = reschedule_session(session=session, by=mentee_user, start=hours(15, 16)[0])
        return session, moved

    # No connection, then one that needs reconnecting, then one connected
    # with no target calendar chosen: nothing to write to, no task.
    connection = None
    for state in ("none", "needs reconnecting", "no target"):
        if state == "needs reconnecting":
            connection = CalendarConnectionFactory(
                mentor=mentor, status=CalendarConnection.Status.NEEDS_REAUTH
            )
        elif state == "no target":
            connection.status, connection.target_calendar = CalendarConnection.Status.ACTIVE, ""
            connection.save()
        _, moved = book_and_move()
        with django_capture_on_commit_callbacks(execute=True):
            cancel_session(session=moved, by=mentor.user)
        assert pushes == [], state

    # A target chosen: booking, moving and cancelling are pushed.
    connection.target_calendar = "/dav/maya/work/"
    connection.save()
    session, moved = book_and_move()
    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session=moved, by=mentor.user)
    assert pushes == [str(session.pk), str(moved.pk), str(moved.pk)]


def test_a_broker_outage_does_not_break_the_booking(
    mentor,
    connection,
    mentee_user,
    monkeypatch,
    frozen_now,
    django_capture_on_commit_callbacks,
    caplog,
):
    def broker_down(session_id):
        raise BrokerUnreachable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.push_session_to_calendars, "delay", broker_down)
    with (
        caplog.at_level(logging.WARNING, logger="scheduling.calendars.sync"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        session = book(mentor, mentee_user)
    assert Session.objects.filter(pk=session.pk, status=Session.Status.UPCOMING).exists()
    assert "Could not enqueue the calendar push" in caplog.text


def test_a_booking_reaches_the_calendar_end_to_end(
    mentor, mentee_user, connection, fake, frozen_now, django_capture_on_commit_callbacks
):
    """Eager Celery: the on-commit enqueue runs the task in this process."""
    with django_capture_on_commit_callbacks(execute=True):
        session = book(mentor, mentee_user)
    [put] = fake.puts
    assert (put.event_id, put.start) == (session.ical_uid, MONDAY_14)
    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session=session, by=mentee_user)
    assert fake.deletes == [(WORK, session.ical_uid)]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 1.5 ", 1.5),
        ("Thu, 26 Nov 2026 12:05:00 GMT", 300.0),  # an HTTP date, 5 minutes after NOW
        ("Thu, 26 Nov 2026 11:00:00 GMT", 0.0),  # already past
        ("-5", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("inf", None),
        ("nan", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(value, seconds):
    from scheduling.calendars.base import retry_after_seconds

    assert retry_after_seconds(value, now=NOW) == seconds
