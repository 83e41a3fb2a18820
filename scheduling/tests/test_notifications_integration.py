"""Notifications end to end with the real parts (DESIGN §8): an SMTP server
(aiosmtpd on loopback) receives the emails, and a Celery worker consuming
from Redis delivers them. No mock stands in for SMTP or the broker.

The factories' ``new_york_mentor`` (weekday hours 09:00–12:00) is booked
for Tuesday 2 June 2026, 09:00 in New York (13:00 UTC, 18:30 in Kolkata) by a
mentee in Kolkata; the clock is frozen at Monday 1 June 2026, 12:00 UTC with
time-machine (the worker thread reads the same frozen clock), except where a
worker's ETA retry needs the real one to move (``real_clock``).

The worker runs in a thread of the test process (``start_worker``), so it
uses the test database: those tests are ``transaction=True`` so that the
worker sees committed rows. Each worker test has its own Redis database (5,
6 or 7), flushed before and after; they skip (fail in CI) without Redis.
"""

import email
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from celery._state import _set_task_join_will_block, task_join_will_block
from celery.contrib.testing.worker import start_worker
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar
from kombu import pools

from conftest import service_missing
from mentorship.celery import app
from scheduling import tasks
from scheduling.booking import book_session
from scheduling.models import Notification, Session
from scheduling.notifications import outbox
from scheduling.notifications.ics import organizer_email
from scheduling.tests.factories import NEW_YORK, NOW, TUESDAY_9, book

Kind = Notification.Kind
Status = Notification.Status
# A port nothing listens on: publishing there fails at once (connection refused).
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"
WAIT_SECONDS = 30


# --- An SMTP server that keeps what arrives ----------------------------------------------


@dataclass(frozen=True)
class Received:
    recipients: list[str]  # the envelope's RCPT TO
    message: EmailMessage  # parsed from the bytes as they arrived


class Inbox:
    """An aiosmtpd handler: keeps every message as sent over the wire."""

    def __init__(self):
        self._lock = threading.Lock()
        self._received: list[Received] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=default_policy)
        with self._lock:
            self._received.append(Received(list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def to(self, address: str) -> list[EmailMessage]:
        return [item.message for item in self.received if item.recipients == [address]]


def free_port() -> int:
    """A loopback port nobody listens on (a moment ago, at least)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(port: int) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_port(settings) -> int:
    """Django's SMTP backend pointed at a free loopback port (no server yet)."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    return port


@pytest.fixture
def inbox(smtp_port) -> Iterator[Inbox]:
    with smtp_server(smtp_port) as server_inbox:
        yield server_inbox


# --- Celery against Redis -----------------------------------------------------------------


def redis_database_url(number: int) -> str:
    """Redis database ``number`` on the test Redis server, flushed, or skip."""
    import redis

    from mentorship.settings_test import worker_redis_url

    base = urlsplit(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/4"))
    url = worker_redis_url(f"{base.scheme}://{base.netloc}/{number}")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).flushdb()
    except redis.RedisError as error:
        service_missing(f"Redis is not reachable at {url}: {error}")
    return url


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=1).flushdb()


def forget_broker_connections() -> None:
    """Drop pooled connections so that the next publish uses the configured broker."""
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def use_broker(settings, monkeypatch):
    """Make tasks go through a broker instead of running eagerly in the test
    (the test settings run them eagerly). The app's configuration was read
    from settings when first used, so it is updated too, and restored after."""
    for variable in ("CELERY_BROKER_URL", "CELERY_BROKER_READ_URL", "CELERY_BROKER_WRITE_URL"):
        # Celery lets these variables override the configured broker.
        monkeypatch.delenv(variable, raising=False)
    changed = ("broker_url", "task_always_eager", "worker_hijack_root_logger")
    saved = {key: app.conf[key] for key in changed}

    def use(url: str) -> None:
        settings.CELERY_BROKER_URL = url
        settings.CELERY_TASK_ALWAYS_EAGER = False
        # pytest's log capture stays on the root logger when a worker starts.
        app.conf.update(broker_url=url, task_always_eager=False, worker_hijack_root_logger=False)
        forget_broker_connections()

    yield use
    app.conf.update(saved)
    forget_broker_connections()


@contextmanager
def silent_broker() -> Iterator[str]:
    """A Redis URL whose server accepts connections and never answers, like a
    paused or overloaded Redis or a stuck load balancer. Closing it resets the
    connections it holds, which ends whatever still waits on them."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        listener.close()


@contextmanager
def celery_worker() -> Iterator[None]:
    """A worker consuming from the configured broker, in a thread of this
    process (so it uses the test database), stopped even when the test fails.

    A worker marks its process as one where waiting for a task's result would
    block (``result.get()`` then refuses); that is undone afterwards, or a
    later test in this process calling ``.get()`` on an eager result fails."""
    blocking_before = task_join_will_block()
    try:
        with start_worker(
            app,
            pool="solo",
            concurrency=1,
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=15,
        ):
            yield
    finally:
        _set_task_join_will_block(blocking_before)


def queued_messages() -> int:
    """Messages waiting in the broker's default queue."""
    with app.connection_for_write() as connection:
        queue = app.conf.task_default_queue
        return connection.default_channel.queue_declare(queue).message_count


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {WAIT_SECONDS} s waiting for {what}")
        time.sleep(0.1)


# --- The booking -------------------------------------------------------------------------


@pytest.fixture
def real_clock():
    """Asked for by a test that must run on the real clock: ``clock`` then
    leaves it alone."""


@pytest.fixture(autouse=True)
def clock(request, time_machine):
    """The clock, frozen at NOW for every test (``clock.move_to(...)`` moves
    it), unless the test asks for ``real_clock``."""
    if "real_clock" not in request.fixturenames:
        time_machine.move_to(NOW, tick=False)
    return time_machine


def statuses(session) -> dict[str, str]:
    """Recipient email → row status of the session's confirmations."""
    return dict(
        Notification.objects.filter(session=session, kind=Kind.CONFIRMATION).values_list(
            "recipient__email", "status"
        )
    )


def all_sent(session) -> bool:
    rows = statuses(session)
    return len(rows) == 2 and set(rows.values()) == {Status.SENT}


def assert_one_confirmation_each(inbox: Inbox, session: Session) -> None:
    """Exactly one email per participant, nothing else."""
    mentee_email, mentor_email = session.mentee.user.email, session.mentor.user.email
    assert sorted(item.recipients[0] for item in inbox.received) == sorted(
        [mentee_email, mentor_email]
    )
    for address in (mentee_email, mentor_email):
        assert len(inbox.to(address)) == 1, address


# --- 1. The confirmation over SMTP ---------------------------------------------------------


@pytest.mark.django_db
def test_both_participants_receive_the_confirmation_with_its_invite_over_smtp(
    inbox, mentee_user, mentor, intro, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        session = book(mentee_user, mentor, intro, TUESDAY_9)

    assert statuses(session) == {mentee_user.email: Status.SENT, mentor.user.email: Status.SENT}
    assert_one_confirmation_each(inbox, session)
    rows = {row.recipient_id: row for row in Notification.objects.filter(session=session)}
    expected = {
        # recipient: (the other participant, the time in the recipient's zone)
        mentee_user: (mentor.user, "Tue 2 Jun, 18:30 IST (Asia/Kolkata)"),
        mentor.user: (mentee_user, "Tue 2 Jun, 09:00 EDT (America/New_York)"),
    }
    for recipient, (other, when) in expected.items():
        [message] = inbox.to(recipient.email)
        assert message["To"] == recipient.email
        assert message["From"] == settings.DEFAULT_FROM_EMAIL
        assert message["Subject"] == f"Booked: {session.title} with {other.name}, {when}"
        assert message["Message-ID"] == (
            f"<notification-{rows[recipient.pk].pk}@{settings.ICAL_UID_DOMAIN}>"
        )

        # multipart/mixed: [multipart/alternative: [text, HTML], invite.ics]
        assert message.get_content_type() == "multipart/mixed"
        alternative, invite = list(message.iter_parts())
        assert alternative.get_content_type() == "multipart/alternative"
        text, html = list(alternative.iter_parts())
        assert text.get_content_type() == "text/plain"
        assert html.get_content_type() == "text/html"
        for body in (text.get_content(), html.get_content()):
            assert session.meeting_url in body
            assert other.name in body
        # The text says the time in the recipient's own zone.
        assert ("18:30" if recipient == mentee_user else "09:00") in text.get_content()

        assert invite.get_content_type() == "text/calendar"
        assert invite.get_param("method") == "REQUEST"
        assert invite.get_filename() == "invite.ics"
        calendar = Calendar.from_ical(invite.get_content())
        assert calendar["METHOD"] == "REQUEST"
        [event] = calendar.walk("VEVENT")
        assert str(event["UID"]) == f"{session.ical_uid}@{settings.ICAL_UID_DOMAIN}"
        start = event.decoded("DTSTART")
        assert start == session.start
        assert start.utcoffset() == timedelta(0)
        assert "DTSTART:20260602T130000Z" in invite.get_content().replace("\r\n", "\n")
        assert event.decoded("SEQUENCE") == session.ical_sequence == 0
        # The platform organizes; the recipient is the one attendee.
        assert str(event["ORGANIZER"]) == f"mailto:{organizer_email()}"
        assert event["ORGANIZER"].params["CN"] == mentor.user.name
        assert str(event["ATTENDEE"]) == f"mailto:{recipient.email}"
        assert other.email not in invite.get_content()


# --- 2. SMTP down, then back ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_confirmation_sent_while_smtp_is_down_arrives_once_when_it_is_back(
    smtp_port, mentee_user, mentor, intro, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        session = book(mentee_user, mentor, intro, TUESDAY_9)

    rows = list(Notification.objects.filter(session=session))
    assert len(rows) == 2
    for row in rows:
        assert row.status == Status.PENDING
        assert row.attempts == 1
        assert row.last_error.startswith("ConnectionRefusedError"), row.last_error
        # The first retry comes after the upper half of a minute (backoff with jitter).
        assert NOW + timedelta(seconds=30) <= row.next_attempt_at <= NOW + timedelta(seconds=60)
        assert row.sent_at is None
    retry_at = max(row.next_attempt_at for row in rows)

    with smtp_server(smtp_port) as inbox:
        # Not before it is due: neither a direct delivery nor the sweep sends it early.
        for row in rows:
            assert outbox.deliver(row.pk, now=NOW + timedelta(seconds=10)) == outbox.NOT_CLAIMED
        assert outbox.sweep(now=retry_at) == 0
        assert inbox.received == []

        # Past the sweep's grace after the retry time, the sweep hands both
        # rows to the task (eager here), which sends them.
        swept_at = retry_at + outbox.SWEEP_GRACE + timedelta(seconds=1)
        clock.move_to(swept_at)
        assert outbox.sweep() == 2

        assert statuses(session) == {mentee_user.email: Status.SENT, mentor.user.email: Status.SENT}
        assert_one_confirmation_each(inbox, session)
        for row in Notification.objects.filter(session=session):
            assert row.attempts == 2
            assert row.last_error == ""
            assert row.sent_at == swept_at

        # Whatever runs again sends nothing twice.
        assert outbox.sweep() == 0
        for row in rows:
            assert tasks.deliver_notification.delay(row.pk).get() == "not_claimed"
        assert_one_confirmation_each(inbox, session)


# --- 3. A real worker, from an HTTP booking ------------------------------------------------


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_redis_delivers_the_confirmation_of_a_booking_made_over_http(
    client, inbox, mentee_user, mentor, intro, use_broker
):
    broker = redis_database_url(5)
    use_broker(broker)
    try:
        client.force_login(mentee_user)
        response = client.post(
            reverse("scheduling:book", kwargs={"slug": mentor.slug}),
            {
                "type": intro.slug,
                "start": TUESDAY_9.astimezone(UTC).isoformat(),
                "topic": "Career change",
            },
        )
        session = Session.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/sessions/{session.pk}/"
        # Committed, and published to Redis (nothing ran in this process):
        # the two confirmations (no calendar push: the mentor has no calendar).
        assert set(statuses(session).values()) == {Status.PENDING}
        assert queued_messages() == 2

        with celery_worker():
            wait_for(
                lambda: all_sent(session) and len(inbox.received) == 2,
                "the worker to send both confirmations",
            )
            assert queued_messages() == 0
    finally:
        flush_redis(broker)

    assert_one_confirmation_each(inbox, session)
    [message] = inbox.to(mentee_user.email)
    assert message["Subject"].startswith(f"Booked: {session.title} with {mentor.user.name}")
    assert "Career change" in message.get_body(("plain",)).get_content()


# --- 4. The broker down at booking time ------------------------------------------------------


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_booking_while_the_broker_is_down_is_fast_and_the_sweep_delivers_it_later(
    inbox, mentee_user, mentor, intro, clock, use_broker, caplog
):
    broker = redis_database_url(6)
    use_broker(UNREACHABLE_BROKER)

    started = time.monotonic()
    session = book(mentee_user, mentor, intro, TUESDAY_9)
    took = time.monotonic() - started

    # The request is not held by the unreachable broker: the publish fails
    # fast, is logged, and the rows wait for the sweep.
    assert took < 5, f"booking took {took:.1f} s with the broker down"
    assert "the sweep will retry it" in caplog.text
    rows = Notification.objects.filter(session=session)
    assert sorted(rows.values_list("status", "attempts")) == [(Status.PENDING, 0)] * 2
    assert inbox.received == []

    use_broker(broker)
    try:
        # Younger than the grace period: the on-commit path might still be on
        # its way, so the sweep leaves the rows alone.
        clock.move_to(NOW + timedelta(minutes=1))
        assert outbox.sweep() == 0
        assert queued_messages() == 0

        clock.move_to(NOW + outbox.SWEEP_GRACE + timedelta(seconds=1))
        assert outbox.sweep() == 2
        assert queued_messages() == 2

        with celery_worker():
            wait_for(
                lambda: all_sent(session) and len(inbox.received) == 2,
                "the worker to send both swept confirmations",
            )
            assert outbox.sweep() == 0
    finally:
        flush_redis(broker)

    assert_one_confirmation_each(inbox, session)
    assert sorted(rows.values_list("status", "attempts")) == [(Status.SENT, 1)] * 2


# --- 5. SMTP down under a real worker: the task retries itself ----------------------------


def next_weekday_at_nine_in_new_york(after: datetime) -> datetime:
    day = after.astimezone(NEW_YORK).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 9, tzinfo=NEW_YORK)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_retries_a_failed_send_on_its_own_once_smtp_is_back(
    smtp_port, mentee_user, mentor, intro, use_broker, monkeypatch, real_clock
):
    # The worker's retry is a message with an ETA: it runs after a real wait,
    # and claims the row only if the clock has by then passed the row's next
    # attempt. So this test runs on the real clock (no time-machine), with a
    # backoff of seconds instead of minutes, and books the next weekday from
    # the real now.
    monkeypatch.setattr(outbox, "BACKOFF_BASE", timedelta(seconds=4))
    broker = redis_database_url(7)
    use_broker(broker)
    try:
        with celery_worker():
            session = book_session(
                mentee_user=mentee_user,
                mentor=mentor,
                session_type=intro,
                start=next_weekday_at_nine_in_new_york(timezone.now()),
            )
            rows = Notification.objects.filter(session=session)
            wait_for(
                lambda: sorted(rows.values_list("status", "attempts")) == [(Status.PENDING, 1)] * 2,
                "the first attempts to fail",
            )
            for error in rows.values_list("last_error", flat=True):
                assert error.startswith("ConnectionRefusedError"), error

            with smtp_server(smtp_port) as inbox:
                # No sweep: the task's own ETA retry sends them.
                wait_for(
                    lambda: all_sent(session) and len(inbox.received) == 2,
                    "the retries to send both confirmations",
                )
    finally:
        flush_redis(broker)

    assert_one_confirmation_each(inbox, session)
    # Sent on the first retry, or a later one if the server was not up yet.
    assert all(attempts >= 2 for attempts in rows.values_list("attempts", flat=True))


# --- A broker that hangs ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_booking_is_not_held_by_a_broker_that_accepts_connections_but_never_answers(
    mentee_user, mentor, intro, use_broker
):
    outcome = {}

    def request():
        try:
            outcome["session"] = book(mentee_user, mentor, intro, TUESDAY_9)
        finally:
            connections.close_all()

    with silent_broker() as url:
        use_broker(url)
        booking = threading.Thread(target=request, daemon=True)
        booking.start()
        booking.join(timeout=5)
        held = booking.is_alive()
    # The silent server is closed: its connection is reset and the booking ends.
    booking.join(timeout=10)

    assert not held, "the booking was still waiting for the broker after 5 s"
    rows = Notification.objects.filter(session=outcome["session"])
    assert sorted(rows.values_list("status", "attempts")) == [(Status.PENDING, 0)] * 2
