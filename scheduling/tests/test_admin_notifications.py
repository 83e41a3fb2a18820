"""The notification outbox in the admin: read-only, with one action that
retries failed rows through ``outbox.retry_failed``.

Celery is eager in tests, so a requeued row whose on-commit callbacks run is
actually delivered to ``mail.outbox``.
"""

import html
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from conftest import messages_of, result_rows
from mentorship.tests.factories import MenteeProfileFactory
from scheduling.models import Notification
from scheduling.notifications import outbox

from .factories import SessionFactory

pytestmark = pytest.mark.django_db

NOTIFICATIONS = "/admin/scheduling/notification/"
Kind = Notification.Kind
Status = Notification.Status


def emails_listed(response) -> list[str]:
    return [
        re.search(r'<td class="field-recipient_email">([^<]+)</td>', row).group(1)
        for row in result_rows(response)
    ]


def row(notification) -> dict:
    return Notification.objects.filter(pk=notification.pk).values().get()


def a_notification(*, to=None, kind=Kind.CONFIRMATION, **fields):
    """An outbox row to the mentee of an upcoming session of its own (so
    delivering it sends it); ``to`` is the mentee's email address."""
    mentee = MenteeProfileFactory(user=UserFactory(email=to) if to else UserFactory())
    session = SessionFactory(mentee=mentee, start=timezone.now() + timedelta(days=3))
    return Notification.objects.create(
        session=session,
        kind=kind,
        recipient=mentee.user,
        occurrence=outbox.occurrence(session),
        **fields,
    )


@pytest.fixture
def rows(db):
    """One row of each status, each to a recipient of its own."""

    def to(address, **fields):
        return a_notification(to=address, **fields)

    return {
        "pending": to("pending@example.com"),
        "sent": to(
            "sent@example.com",
            kind=Kind.REMINDER_24H,
            status=Status.SENT,
            attempts=1,
            sent_at=timezone.now(),
        ),
        "failed": to(
            "failed@example.com",
            status=Status.FAILED,
            attempts=6,
            last_error="SMTPRecipientsRefused: {'failed@example.com': (550, b'Mailbox "
            "unavailable: the user does not exist here')}",
        ),
        "skipped": to(
            "skipped@example.com",
            kind=Kind.REMINDER_1H,
            status=Status.SKIPPED,
            last_error="The session is cancelled.",
        ),
    }


# --- Who gets in ----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, rows):
    response = client.get(NOTIFICATIONS)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_non_staff_are_sent_to_sign_in(client, rows):
    client.force_login(rows["pending"].recipient)
    response = client.get(NOTIFICATIONS)
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert "pending@example.com" not in response.text
    response = client.get(f"{NOTIFICATIONS}{rows['pending'].pk}/change/")
    assert response.status_code == 302


def test_staff_with_view_permission_only_see_rows_but_cannot_retry(client, rows):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_notification"))
    client.force_login(viewer)
    response = client.get(NOTIFICATIONS)
    assert len(result_rows(response)) == 4
    assert "retry_failed_notifications" not in response.text
    failed = rows["failed"]
    before = row(failed)
    client.post(
        NOTIFICATIONS,
        {"action": "retry_failed_notifications", "_selected_action": [failed.pk]},
    )
    assert row(failed) == before


# --- The list -------------------------------------------------------------------------------


def test_the_list_shows_kind_recipient_session_status_attempts_and_a_short_error(
    staff_client, rows
):
    response = staff_client.get(NOTIFICATIONS)
    assert set(emails_listed(response)) == {
        "pending@example.com",
        "sent@example.com",
        "failed@example.com",
        "skipped@example.com",
    }
    [failed_row] = [line for line in result_rows(response) if "failed@example.com" in line]
    session = rows["failed"].session
    assert '<td class="field-kind">Booking confirmation</td>' in failed_row
    assert '<td class="field-status">Failed</td>' in failed_row
    assert '<td class="field-attempts">6</td>' in failed_row
    assert f'<a href="/admin/scheduling/session/{session.pk}/change/">Intro call, ' in failed_row
    short_error = html.unescape(
        re.search(r'<td class="field-short_error">([^<]*)</td>', failed_row).group(1)
    )
    assert short_error.startswith("SMTPRecipientsRefused")
    assert short_error.endswith("…")
    assert len(short_error) <= 60
    for column in ("Created at", "Sent at", "Last error"):
        assert column in response.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?status__exact=failed", ["failed@example.com"]),
        ("?status__exact=sent", ["sent@example.com"]),
        ("?kind__exact=reminder_1h", ["skipped@example.com"]),
        ("?kind__exact=confirmation&status__exact=pending", ["pending@example.com"]),
        ("?kind__exact=review_request", []),
    ],
)
def test_the_list_filters_by_status_and_kind(staff_client, rows, query, expected):
    response = staff_client.get(f"{NOTIFICATIONS}{query}")
    assert emails_listed(response) == expected
    # Both filters are offered, with every choice.
    for choice in ("status__exact=sending", "kind__exact=review_request"):
        assert choice in response.text


def test_the_list_searches_by_recipient_email_and_session_id(staff_client, rows):
    response = staff_client.get(f"{NOTIFICATIONS}?q=failed@example")
    assert emails_listed(response) == ["failed@example.com"]
    response = staff_client.get(f"{NOTIFICATIONS}?q={rows['sent'].session_id}")
    assert emails_listed(response) == ["sent@example.com"]
    # A second row about the same session is found by its id too.
    sent = rows["sent"]
    Notification.objects.create(
        session=sent.session,
        kind=Kind.REMINDER_1H,
        recipient=sent.session.mentor.user,
        occurrence=outbox.occurrence(sent.session),
    )
    response = staff_client.get(f"{NOTIFICATIONS}?q={sent.session_id}")
    assert sorted(emails_listed(response)) == sorted(
        ["sent@example.com", sent.session.mentor.user.email]
    )


# The request's session and user, the filtered and the full count, and one
# page of rows with their recipients and sessions: never a query per row.
NOTIFICATION_CHANGELIST_QUERIES = 5


def query_count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("params", ["", "?status__exact=failed", "?q=example.com", "?o=3"])
def test_the_list_costs_the_same_queries_for_1_and_50_rows(staff_client, params):
    # Each row about a session and to a recipient of its own: without
    # list_select_related every row would fetch both.
    a_notification(status=Status.FAILED)
    one = query_count(staff_client, f"{NOTIFICATIONS}{params}")
    for _ in range(49):
        a_notification(status=Status.FAILED)
    fifty = query_count(staff_client, f"{NOTIFICATIONS}{params}")
    assert fifty == one
    assert fifty <= NOTIFICATION_CHANGELIST_QUERIES
    assert len(result_rows(staff_client.get(f"{NOTIFICATIONS}{params}"))) == 50


# --- Read-only ------------------------------------------------------------------------------


def test_the_page_of_a_row_shows_everything_read_only(staff_client, rows):
    failed = rows["failed"]
    response = staff_client.get(f"{NOTIFICATIONS}{failed.pk}/change/")
    assert response.status_code == 200
    assert "Mailbox unavailable: the user does not exist here" in response.text
    assert not re.search(
        r'<(input|textarea|select)[^>]*name="(?!csrfmiddlewaretoken)', response.text
    )
    assert 'name="_save"' not in response.text


def test_rows_cannot_be_added_changed_or_deleted(staff_client, rows):
    failed = rows["failed"]
    before = row(failed)
    assert staff_client.get(f"{NOTIFICATIONS}add/").status_code == 403
    assert staff_client.post(f"{NOTIFICATIONS}add/", {"kind": "confirmation"}).status_code == 403
    assert staff_client.get(f"{NOTIFICATIONS}{failed.pk}/delete/").status_code == 403
    assert (
        staff_client.post(f"{NOTIFICATIONS}{failed.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    response = staff_client.post(
        f"{NOTIFICATIONS}{failed.pk}/change/", {"status": "pending", "_save": "Save"}
    )
    assert response.status_code == 403
    assert row(failed) == before
    # No bulk delete either.
    response = staff_client.get(NOTIFICATIONS)
    assert "delete_selected" not in response.text
    staff_client.post(
        NOTIFICATIONS,
        {"action": "delete_selected", "_selected_action": [failed.pk], "post": "yes"},
    )
    assert Notification.objects.count() == 4


# --- Retry ----------------------------------------------------------------------------------


def retry(client, *notifications):
    return client.post(
        NOTIFICATIONS,
        {
            "action": "retry_failed_notifications",
            "_selected_action": [notification.pk for notification in notifications],
        },
        follow=True,
    )


def test_retry_makes_failed_rows_pending_with_fresh_attempts_and_leaves_others_alone(
    staff_client, rows, django_capture_on_commit_callbacks
):
    others = {name: row(rows[name]) for name in ("pending", "sent", "skipped")}

    with django_capture_on_commit_callbacks() as callbacks:
        response = retry(staff_client, *rows.values())

    failed = Notification.objects.get(pk=rows["failed"].pk)
    assert failed.status == Status.PENDING
    assert failed.attempts == 0
    assert failed.next_attempt_at <= timezone.now()
    assert {name: row(rows[name]) for name in others} == others
    assert len(callbacks) == 1  # the enqueue, once the change is committed
    assert messages_of(response) == [
        "Requeued 1 failed notification for sending.",
        "Left 3 notifications alone: only failed ones are retried.",
    ]
    assert mail.outbox == []


def test_a_retried_row_is_delivered(staff_client, rows, django_capture_on_commit_callbacks):
    failed = rows["failed"]

    with django_capture_on_commit_callbacks(execute=True):
        response = retry(staff_client, failed)

    assert messages_of(response) == ["Requeued 1 failed notification for sending."]
    failed.refresh_from_db()
    assert failed.status == Status.SENT
    assert failed.attempts == 1
    assert failed.last_error == ""
    [message] = mail.outbox
    assert message.to == ["failed@example.com"]
    assert message.subject.startswith("Booked: Intro call with ")


def test_retrying_rows_that_did_not_fail_requeues_nothing(
    staff_client, rows, django_capture_on_commit_callbacks
):
    before = {notification.pk: row(notification) for notification in rows.values()}
    with django_capture_on_commit_callbacks(execute=True):
        response = retry(staff_client, rows["sent"], rows["skipped"])
    assert messages_of(response) == ["Left 2 notifications alone: only failed ones are retried."]
    assert {notification.pk: row(notification) for notification in rows.values()} == before
    assert mail.outbox == []
