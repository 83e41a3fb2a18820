"""Calendar connections and their events in the admin: status and errors for
staff, "Sync now", and never a secret — neither the plaintext nor the
ciphertext of a token or password reaches any admin page."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection as database
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from conftest import messages_of, result_rows
from mentorship.tests.factories import MentorProfileFactory
from scheduling import tasks
from scheduling.models import CalendarConnection, CalendarEvent

from .factories import SessionFactory
from .fake_calendar import CalendarConnectionFactory, stored_secrets

pytestmark = pytest.mark.django_db

CONNECTIONS = "/admin/scheduling/calendarconnection/"
EVENTS = "/admin/scheduling/calendarevent/"
Status = CalendarConnection.Status
LONG_ERROR = (
    "The calendar server refused the password for this account. Create a new app password "
    "and reconnect."
)


def google(**fields) -> CalendarConnection:
    return CalendarConnectionFactory(
        google=True,
        access_token="ya29.admin-access-token-plaintext",
        refresh_token="1//admin-refresh-token-plaintext",
        expires_at=timezone.now(),
        scopes="https://www.googleapis.com/auth/calendar.events",
        **fields,
    )


@pytest.fixture
def rows(db):
    ada = MentorProfileFactory(user=UserFactory(name="Ada Lovelace", email="ada@example.com"))
    alan = MentorProfileFactory(user=UserFactory(name="Alan Turing", email="alan@example.com"))
    return {
        "ada_caldav": CalendarConnectionFactory(
            mentor=ada,
            account="ada@fastmail.example",
            caldav_password="caldav-app-password-plaintext",
            last_synced_at=timezone.now(),
        ),
        "ada_google": google(mentor=ada, account="ada@gmail.example"),
        "alan_caldav": CalendarConnectionFactory(
            mentor=alan,
            account="alan@icloud.example",
            status=Status.NEEDS_REAUTH,
            last_error=LONG_ERROR,
        ),
    }


def accounts_listed(response) -> list[str]:
    return sorted(
        re.search(r'<td class="field-account">([^<]*)</td>', row).group(1)
        for row in result_rows(response)
    )


def all_secrets(connections) -> list[str]:
    """Every secret in plaintext and as stored, for looking for in pages."""
    found = []
    for connection in connections:
        connection = CalendarConnection.objects.get(pk=connection.pk)
        for name, ciphertext in stored_secrets(connection).items():
            if ciphertext:
                found += [getattr(connection, name), ciphertext, ciphertext[:40]]
    return found


# --- Who gets in ----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, rows):
    for url in (CONNECTIONS, f"{CONNECTIONS}{rows['ada_caldav'].pk}/change/", EVENTS):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_non_staff_mentors_are_sent_to_sign_in(client, rows):
    client.force_login(rows["ada_caldav"].mentor.user)
    response = client.get(CONNECTIONS)
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert "fastmail" not in response.text
    response = client.get(f"{CONNECTIONS}{rows['ada_caldav'].pk}/change/")
    assert response.status_code == 302


# --- The list -------------------------------------------------------------------------------


def test_staff_see_mentor_provider_account_status_last_sync_and_a_short_error(staff_client, rows):
    response = staff_client.get(CONNECTIONS)
    assert accounts_listed(response) == [
        "ada@fastmail.example",
        "ada@gmail.example",
        "alan@icloud.example",
    ]
    [alan_row] = [row for row in result_rows(response) if "alan@icloud.example" in row]
    assert "Alan Turing" in alan_row
    assert '<td class="field-provider">CalDAV</td>' in alan_row
    assert '<td class="field-status">Needs reconnecting</td>' in alan_row
    short_error = re.search(r'<td class="field-short_error">([^<]*)</td>', alan_row).group(1)
    assert short_error.startswith("The calendar server refused")
    assert short_error.endswith("…")
    assert len(short_error) <= 60
    for column in ("Last synced at", "Last error", "Provider", "Status"):
        assert column in response.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?provider__exact=google", ["ada@gmail.example"]),
        ("?status__exact=needs_reauth", ["alan@icloud.example"]),
        ("?provider__exact=caldav&status__exact=active", ["ada@fastmail.example"]),
        ("?q=Lovelace", ["ada@fastmail.example", "ada@gmail.example"]),
        ("?q=alan@example.com", ["alan@icloud.example"]),
        ("?q=fastmail", ["ada@fastmail.example"]),
    ],
)
def test_the_list_filters_by_provider_and_status_and_searches(staff_client, rows, query, expected):
    assert accounts_listed(staff_client.get(f"{CONNECTIONS}{query}")) == expected


def test_the_list_costs_the_same_queries_for_1_or_50_connections(staff_client):
    """Regression guard: the mentor's name comes from the user row; without
    ``list_select_related`` each connection would cost a query."""
    CalendarConnectionFactory()
    staff_client.get(CONNECTIONS)  # warm the session and the content types
    with CaptureQueriesContext(database) as one:
        assert len(result_rows(staff_client.get(CONNECTIONS))) == 1
    CalendarConnectionFactory.create_batch(49)
    with CaptureQueriesContext(database) as fifty:
        assert len(result_rows(staff_client.get(CONNECTIONS))) == 50
    assert len(fifty) == len(one), [query["sql"] for query in fifty.captured_queries]


# --- Never a secret -------------------------------------------------------------------------


def test_no_page_shows_a_token_or_password(staff_client, rows):
    secrets = all_secrets(rows.values())
    # Two app passwords and two tokens, each as plaintext, ciphertext and its start.
    assert len(secrets) == 4 * 3
    urls = [CONNECTIONS, f"{CONNECTIONS}?q=ada", EVENTS]
    for connection in rows.values():
        base = f"{CONNECTIONS}{connection.pk}"
        urls += [f"{base}/change/", f"{base}/history/"]
    for url in urls:
        response = staff_client.get(url)
        assert response.status_code == 200, url
        for secret in secrets:
            assert secret not in response.text, (url, secret[:12])
        for name in ("caldav_password", "access_token", "refresh_token"):
            assert f'name="{name}"' not in response.text
            assert f"field-{name}" not in response.text


def test_the_view_page_says_which_secrets_are_stored_and_the_error(staff_client, rows):
    response = staff_client.get(f"{CONNECTIONS}{rows['ada_google'].pk}/change/")
    assert "Access token, refresh token stored, encrypted." in response.text
    assert "https://www.googleapis.com/auth/calendar.events" in response.text
    response = staff_client.get(f"{CONNECTIONS}{rows['alan_caldav'].pk}/change/")
    assert "App password stored, encrypted." in response.text
    assert LONG_ERROR in response.text
    # A view page: nothing to save, nothing to delete.
    assert 'name="_save"' not in response.text
    assert "/delete/" not in response.text


def test_there_is_no_add_change_or_delete(staff_client, rows):
    connection = rows["ada_caldav"]
    assert staff_client.get(f"{CONNECTIONS}add/").status_code == 403
    response = staff_client.post(
        f"{CONNECTIONS}{connection.pk}/change/", {"status": "error", "account": "changed"}
    )
    assert response.status_code == 403
    assert staff_client.post(f"{CONNECTIONS}{connection.pk}/delete/").status_code == 403
    connection.refresh_from_db()
    assert (connection.status, connection.account) == (Status.ACTIVE, "ada@fastmail.example")
    assert "delete_selected" not in staff_client.get(CONNECTIONS).text


# --- Sync now -------------------------------------------------------------------------------


def sync_now(client, *connections):
    return client.post(
        CONNECTIONS,
        {"action": "sync_now", "_selected_action": [str(row.pk) for row in connections]},
        follow=True,
    )


def test_sync_now_enqueues_each_selected_connection_but_not_those_needing_reconnect(
    staff_client, rows, enqueued
):
    response = sync_now(staff_client, rows["ada_caldav"], rows["ada_google"], rows["alan_caldav"])
    assert sorted(enqueued) == sorted([str(rows["ada_caldav"].pk), str(rows["ada_google"].pk)])
    assert messages_of(response) == [
        "Syncing 2 connections: refresh in a moment.",
        "Skipped 1 connection waiting for the mentor to reconnect.",
    ]


def test_sync_now_with_the_broker_down_says_so(staff_client, rows, monkeypatch):
    def broker_down(connection_id):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.sync_calendar, "delay", broker_down)
    response = sync_now(staff_client, rows["ada_caldav"])
    assert response.status_code == 200
    assert messages_of(response) == [
        "Could not start 1 sync (the task queue is unreachable); the periodic sync runs them later."
    ]


def test_staff_who_may_only_view_get_no_sync_action(client, rows, enqueued):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_calendarconnection"))
    client.force_login(viewer)
    response = client.get(CONNECTIONS)
    assert len(result_rows(response)) == 3
    assert "sync_now" not in response.text
    sync_now(client, rows["ada_caldav"])
    assert enqueued == []


# --- Events ---------------------------------------------------------------------------------


def an_event(connection, **fields) -> CalendarEvent:
    session = SessionFactory(mentor=connection.mentor)
    return CalendarEvent.objects.create(
        connection=connection,
        ical_uid=session.ical_uid,
        session=session,
        calendar=connection.target_calendar,
        external_id=session.ical_uid,
        **fields,
    )


def test_events_are_listed_read_only_and_linked_from_their_connection(staff_client, rows):
    live = an_event(rows["ada_caldav"], pushed_sequence=1)
    deleted = an_event(rows["alan_caldav"], is_deleted=True)
    response = staff_client.get(EVENTS)
    listed = result_rows(response)
    assert len(listed) == 2
    assert any(live.ical_uid in row and "Ada Lovelace" in row for row in listed)
    response = staff_client.get(f"{EVENTS}?is_deleted__exact=1")
    assert [deleted.ical_uid in row for row in result_rows(response)] == [True]

    page = staff_client.get(f"{CONNECTIONS}{rows['ada_caldav'].pk}/change/").text
    link = f"{EVENTS}?connection__id__exact={rows['ada_caldav'].pk}"
    assert f'<a href="{link}">1 event</a>' in page
    filtered = result_rows(staff_client.get(link))
    assert len(filtered) == 1
    assert live.ical_uid in filtered[0]

    assert staff_client.get(f"{EVENTS}add/").status_code == 403
    assert staff_client.post(f"{EVENTS}{live.pk}/change/", {}).status_code == 403
    assert staff_client.get(f"{EVENTS}{live.pk}/change/").status_code == 200


def test_the_event_list_costs_the_same_queries_for_1_or_20_events(staff_client):
    connection = CalendarConnectionFactory()
    an_event(connection)
    staff_client.get(EVENTS)
    with CaptureQueriesContext(database) as one:
        assert len(result_rows(staff_client.get(EVENTS))) == 1
    for _ in range(19):
        an_event(CalendarConnectionFactory())
    with CaptureQueriesContext(database) as twenty:
        assert len(result_rows(staff_client.get(EVENTS))) == 20
    assert len(twenty) == len(one), [query["sql"] for query in twenty.captured_queries]
