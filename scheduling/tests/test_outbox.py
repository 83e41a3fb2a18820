"""The notification outbox: rows written with the change they tell about,
delivered once, retried with backoff, swept after a broker outage, and the
reminders found by polling.

The factories' ``new_york_mentor`` (weekday hours 09:00–12:00); ``now``
is Monday 1 June 2026, 08:00 in New York. Celery runs eagerly in tests, so an
enqueued row is delivered when the on-commit callbacks run.
"""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction

from scheduling import tasks
from scheduling.booking import BookingRefused, cancel_session, reschedule_session
from scheduling.lifecycle import advance_statuses, mark_no_show
from scheduling.models import Notification, Session
from scheduling.notifications import outbox
from scheduling.tests.factories import NOW, TUESDAY_9, book, ny

Kind = Notification.Kind
Status = Notification.Status
WEDNESDAY_10 = ny(2026, 6, 3, 10)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    """The clock, frozen at NOW; a test moves it with ``frozen_now.move_to(...)``."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


def rows(**filters):
    return sorted(
        Notification.objects.filter(**filters).values_list("kind", "recipient__email", "status")
    )


class FailingSend:
    """Make every send fail like an SMTP server that is down."""

    def __init__(self, monkeypatch):
        self.calls = 0
        self.failing = True
        from django.core.mail import EmailMessage

        real_send = EmailMessage.send

        def send(message, *args, **kwargs):
            self.calls += 1
            if self.failing:
                raise ConnectionRefusedError(111, "Connection refused")
            return real_send(message, *args, **kwargs)

        monkeypatch.setattr(EmailMessage, "send", send)


# --- Rows written with the change ----------------------------------------------------------


def test_a_booking_writes_a_confirmation_for_each_side_and_sends_them_on_commit(
    mentee_user, mentor, intro, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        session = book(mentee_user, mentor, intro, TUESDAY_9)
    assert rows(session=session) == sorted(
        [
            (Kind.CONFIRMATION, mentee_user.email, Status.SENT),
            (Kind.CONFIRMATION, mentor.user.email, Status.SENT),
        ]
    )
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [mentee_user.email, mentor.user.email]
    )
    occurrence = Notification.objects.filter(session=session).values_list("occurrence", flat=True)
    assert set(occurrence) == {"2026-06-02T13:00:00+00:00"}


def test_a_rolled_back_booking_leaves_no_row_and_enqueues_nothing(
    mentee_user, mentor, intro, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        book(mentee_user, mentor, intro, TUESDAY_9)
        raise RuntimeError("the request failed after booking")
    assert callbacks == []
    assert not Notification.objects.exists()
    assert not Session.objects.exists()
    assert mail.outbox == []


def test_a_refused_booking_writes_nothing(
    mentee_user, mentor, intro, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(BookingRefused),
    ):
        book(mentee_user, mentor, intro, start=ny(2026, 6, 2, 8))
    assert callbacks == []
    assert not Notification.objects.exists()


def test_a_cancellation_tells_both_sides(mentee_user, mentor, intro):
    session = book(mentee_user, mentor, intro, TUESDAY_9)
    cancel_session(session=session, by=mentee_user, reason="Sick", now=NOW)
    assert rows(session=session, kind=Kind.CANCELLATION) == sorted(
        [
            (Kind.CANCELLATION, mentee_user.email, Status.PENDING),
            (Kind.CANCELLATION, mentor.user.email, Status.PENDING),
        ]
    )


def test_a_reschedule_tells_both_sides_about_the_new_session_only(mentee_user, mentor, intro):
    session = book(mentee_user, mentor, intro, TUESDAY_9)
    moved = reschedule_session(session=session, by=mentee_user, start=WEDNESDAY_10, now=NOW)
    assert rows(session=moved) == sorted(
        [
            (Kind.RESCHEDULE, mentee_user.email, Status.PENDING),
            (Kind.RESCHEDULE, mentor.user.email, Status.PENDING),
        ]
    )
    # No cancellation for the old row: its CANCEL would remove the moved event.
    assert not Notification.objects.filter(session=session, kind=Kind.CANCELLATION).exists()


def test_completion_asks_the_mentee_for_a_review_once(mentee_user, mentor, intro):
    session = book(mentee_user, mentor, intro, TUESDAY_9)
    later = session.end + timedelta(minutes=1)
    advance_statuses(now=later)
    advance_statuses(now=later)
    assert rows(kind=Kind.REVIEW_REQUEST) == [
        (Kind.REVIEW_REQUEST, mentee_user.email, Status.PENDING)
    ]


def test_a_no_show_asks_for_no_review(mentee_user, mentor, intro):
    session = book(mentee_user, mentor, intro, TUESDAY_9)
    mark_no_show(session=session, by=mentor.user, now=session.start + timedelta(minutes=10))
    advance_statuses(now=session.end + timedelta(minutes=1))
    assert not Notification.objects.filter(kind=Kind.REVIEW_REQUEST).exists()


def test_writing_the_same_rows_twice_is_a_no_op(mentee_user, mentor, intro):
    session = book(mentee_user, mentor, intro, TUESDAY_9)
    with transaction.atomic():
        outbox.notify(session, Kind.CONFIRMATION)
    assert Notification.objects.filter(session=session).count() == 2


# --- Delivery -------------------------------------------------------------------------------


@pytest.fixture
def pending(mentee_user, mentor, intro):
    """The mentee's confirmation, not yet delivered (on-commit callbacks do not
    run here); the mentor's is marked sent, out of the way."""
    session = book(mentee_user, mentor, intro, TUESDAY_9)
    Notification.objects.exclude(recipient=mentee_user).update(status=Status.SENT)
    return Notification.objects.get(session=session, recipient=mentee_user)


def test_delivering_the_same_row_twice_sends_one_email(pending):
    assert outbox.deliver(pending.pk, now=NOW).status == Status.SENT
    assert outbox.deliver(pending.pk, now=NOW).status == "not_claimed"
    assert tasks.deliver_notification.delay(pending.pk).get() == "not_claimed"
    assert len(mail.outbox) == 1
    pending.refresh_from_db()
    assert (pending.status, pending.attempts, pending.sent_at) == (Status.SENT, 1, NOW)


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_one_row_at_once_send_one_email(mentee_user, mentor, intro):
    session = book(
        mentee_user, mentor, intro, TUESDAY_9
    )  # delivered at once (autocommit, eager Celery)
    row = Notification.objects.get(session=session, recipient=mentee_user)
    Notification.objects.filter(pk=row.pk).update(status=Status.PENDING, attempts=0)
    mail.outbox = []
    barrier = threading.Barrier(4)
    outcomes = []

    def worker():
        try:
            barrier.wait(timeout=30)
            outcomes.append(outbox.deliver(row.pk).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["not_claimed"] * 3 + ["sent"]
    assert len(mail.outbox) == 1


def test_a_failed_send_is_retried_with_backoff_then_sent(pending, monkeypatch, frozen_now):
    failing = FailingSend(monkeypatch)

    outcome = outbox.deliver(pending.pk, now=NOW)

    assert outcome.status == "retry"
    assert NOW + timedelta(seconds=30) <= outcome.retry_at <= NOW + timedelta(seconds=60)
    pending.refresh_from_db()
    assert (pending.status, pending.attempts) == (Status.PENDING, 1)
    assert pending.next_attempt_at == outcome.retry_at
    assert "Connection refused" in pending.last_error
    # Not due yet: nobody claims it.
    assert outbox.deliver(pending.pk, now=NOW + timedelta(seconds=10)).status == "not_claimed"

    failing.failing = False
    assert outbox.deliver(pending.pk, now=outcome.retry_at).status == Status.SENT
    pending.refresh_from_db()
    assert (pending.status, pending.attempts, pending.last_error) == (Status.SENT, 2, "")
    assert len(mail.outbox) == 1


def test_after_the_last_attempt_the_row_is_failed_and_staff_can_retry_it(
    pending, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    failing = FailingSend(monkeypatch)
    moment = NOW
    statuses = []
    for _ in range(3):
        outcome = outbox.deliver(pending.pk, now=moment)
        statuses.append(outcome.status)
        moment = (outcome.retry_at or moment) + timedelta(seconds=1)
    assert statuses == ["retry", "retry", Status.FAILED]
    pending.refresh_from_db()
    assert (pending.status, pending.attempts) == (Status.FAILED, 3)
    assert outbox.deliver(pending.pk, now=moment + timedelta(days=1)).status == "not_claimed"

    failing.failing = False
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.retry_failed([pending.pk]) == 1
    pending.refresh_from_db()
    assert pending.status == Status.SENT
    assert len(mail.outbox) == 1


def test_backoff_doubles_with_jitter_and_is_capped():
    for attempt, ceiling in [(1, 60), (2, 120), (3, 240), (7, 3600), (30, 3600)]:
        waits = {outbox.backoff(attempt).total_seconds() for _ in range(50)}
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits), (attempt, waits)
        assert len(waits) > 1  # jitter: not all the same


def test_the_task_schedules_no_retry_when_eager(pending, monkeypatch):
    FailingSend(monkeypatch)
    assert tasks.deliver_notification.delay(pending.pk).get() == "retry"
    pending.refresh_from_db()
    assert pending.status == Status.PENDING  # left for the sweep


def test_a_confirmation_for_a_session_cancelled_before_sending_is_skipped(pending, mentor):
    cancel_session(session=pending.session, by=mentor.user, now=NOW)
    assert outbox.deliver(pending.pk, now=NOW).status == Status.SKIPPED
    pending.refresh_from_db()
    assert pending.last_error == "The session was cancelled before this was sent."
    assert mail.outbox == []


def test_nothing_goes_to_a_deactivated_account(pending, mentee_user):
    mentee_user.is_active = False
    mentee_user.save()
    assert outbox.deliver(pending.pk, now=NOW).status == Status.SKIPPED


# --- Sweep ----------------------------------------------------------------------------------


def test_the_sweep_delivers_rows_left_pending_by_a_broker_outage(
    mentee_user, mentor, intro, monkeypatch, django_capture_on_commit_callbacks, frozen_now
):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused (redis)")

    monkeypatch.setattr(tasks.deliver_notification, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        session = book(mentee_user, mentor, intro, TUESDAY_9)  # the booking itself succeeds
    assert rows(session=session, status=Status.PENDING) == rows(session=session)
    assert len(rows(session=session)) == 2
    monkeypatch.undo()  # the broker is back (the clock is time-machine's, still frozen)

    # Within the grace period the sweep leaves the rows to the normal path.
    assert outbox.sweep(now=NOW + timedelta(seconds=30)) == 0
    frozen_now.move_to(NOW + outbox.SWEEP_GRACE + timedelta(seconds=1))
    assert outbox.sweep() == 2
    assert rows(session=session, status=Status.SENT) == rows(session=session)
    assert len(mail.outbox) == 2
    assert outbox.sweep() == 0


def test_the_sweep_reclaims_a_row_whose_worker_died(pending, frozen_now):
    Notification.objects.filter(pk=pending.pk).update(
        status=Status.SENDING, claimed_at=NOW, attempts=1
    )
    frozen_now.move_to(NOW + timedelta(minutes=5))
    assert outbox.sweep() == 0  # the claim is still fresh: its worker may be sending
    assert mail.outbox == []
    frozen_now.move_to(NOW + outbox.SWEEP_GRACE + timedelta(minutes=11))
    assert outbox.sweep() == 1
    pending.refresh_from_db()
    assert (pending.status, pending.attempts) == (Status.SENT, 2)
    assert len(mail.outbox) == 1


# --- Reminders ------------------------------------------------------------------------------


def reminder_rows():
    return rows(kind__in=[Kind.REMINDER_24H, Kind.REMINDER_1H])


@pytest.fixture
def booked_early(mentee_user, mentor, intro):
    """Booked on Monday 08:00 for Wednesday 10:00 New York (14:00 UTC)."""
    session = book(mentee_user, mentor, intro, start=WEDNESDAY_10)
    Notification.objects.update(status=Status.SENT)
    return session


def test_reminders_are_written_when_due_and_only_once(booked_early, mentee_user, mentor):
    start = booked_early.start
    assert outbox.queue_due_reminders(now=start - timedelta(hours=25)) == 0
    assert outbox.queue_due_reminders(now=start - timedelta(hours=24)) == 1
    assert outbox.queue_due_reminders(now=start - timedelta(hours=23)) == 0
    assert reminder_rows() == sorted(
        [
            (Kind.REMINDER_24H, mentee_user.email, Status.PENDING),
            (Kind.REMINDER_24H, mentor.user.email, Status.PENDING),
        ]
    )
    assert outbox.queue_due_reminders(now=start - timedelta(minutes=59)) == 1
    assert outbox.queue_due_reminders(now=start - timedelta(minutes=30)) == 0
    assert len(reminder_rows()) == 4
    assert outbox.queue_due_reminders(now=start + timedelta(minutes=1)) == 0


def test_a_late_poll_sends_only_the_one_hour_reminder(booked_early):
    """Beat was down for a day: at 40 minutes before, only the 1-hour one is due."""
    outbox.queue_due_reminders(now=booked_early.start - timedelta(minutes=40))
    assert [kind for kind, _email, _status in reminder_rows()] == [Kind.REMINDER_1H] * 2


def test_no_reminders_for_cancelled_sessions(booked_early, mentor):
    cancel_session(session=booked_early, by=mentor.user, now=NOW)
    assert outbox.queue_due_reminders(now=booked_early.start - timedelta(hours=2)) == 0
    assert outbox.queue_due_reminders(now=booked_early.start - timedelta(minutes=30)) == 0
    assert reminder_rows() == []


def test_a_reminder_written_before_a_cancellation_is_skipped(booked_early, mentor, frozen_now):
    outbox.queue_due_reminders(now=booked_early.start - timedelta(hours=2))
    cancel_session(session=booked_early, by=mentor.user, now=NOW)
    frozen_now.move_to(booked_early.start - timedelta(hours=2))
    outcomes = [
        outbox.deliver(pk).status
        for pk in Notification.objects.filter(kind=Kind.REMINDER_24H).values_list("pk", flat=True)
    ]
    assert outcomes == [Status.SKIPPED, Status.SKIPPED]
    assert not any("Reminder" in message.subject for message in mail.outbox)


def test_a_session_booked_within_a_day_gets_only_the_one_hour_reminder(mentee_user, mentor, intro):
    session = book(mentee_user, mentor, intro, TUESDAY_9)  # Tuesday 09:00, booked 25 hours before
    Session.objects.filter(pk=session.pk).update(created_at=session.start - timedelta(hours=5))
    outbox.queue_due_reminders(now=session.start - timedelta(hours=4))
    assert reminder_rows() == []
    outbox.queue_due_reminders(now=session.start - timedelta(minutes=50))
    assert [kind for kind, _email, _status in reminder_rows()] == [Kind.REMINDER_1H] * 2


def test_the_rescheduled_away_session_gets_no_reminders(booked_early, mentee_user):
    moved = reschedule_session(
        session=booked_early, by=mentee_user, start=ny(2026, 6, 4, 10), now=NOW
    )
    outbox.queue_due_reminders(now=booked_early.start - timedelta(minutes=30))
    assert not Notification.objects.filter(
        session=booked_early, kind__in=[Kind.REMINDER_24H, Kind.REMINDER_1H]
    ).exists()
    outbox.queue_due_reminders(now=moved.start - timedelta(minutes=30))
    assert Notification.objects.filter(session=moved, kind=Kind.REMINDER_1H).count() == 2


def test_the_periodic_tasks_are_on_the_beat_schedule():
    from django.conf import settings

    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        tasks.sweep_notifications.name,
        tasks.send_due_reminders.name,
        tasks.advance_session_statuses.name,
    } <= tasks_scheduled
