"""``/calendars/``: a mentor's calendar connections, "Sync now" and
disconnect — tried as the owner, another mentor, staff and anonymous.

The connect flows (CalDAV form, Google OAuth) have their own tests; here the
connections are rows made directly.
"""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection as database
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from conftest import log_in, messages_of, watch_browser_problems
from mentorship.tests.factories import MenteeProfileFactory, MentorProfileFactory
from scheduling import tasks
from scheduling.models import BusyInterval, CalendarConnection

from .factories import BusyIntervalFactory
from .fake_calendar import CalendarConnectionFactory, stored_secrets

pytestmark = pytest.mark.django_db

SETTINGS_URL = "/calendars/"
SYNCED = datetime(2026, 11, 26, 12, 5, tzinfo=UTC)  # 13:05 in Berlin
Status = CalendarConnection.Status
REFUSED = "The calendar server refused the app password: create a new one and reconnect."


def sync_url(connection) -> str:
    return reverse("scheduling:calendar_sync_now", kwargs={"connection_id": connection.pk})


def disconnect_url(connection) -> str:
    return reverse("scheduling:calendar_disconnect", kwargs={"connection_id": connection.pk})


def cards(response) -> list[str]:
    """The page's connection cards, as HTML."""
    assert response.status_code == 200
    return re.findall(r'<section class="card shadow-sm mb-3".*?</section>', response.text, re.S)


@pytest.fixture
def mentor():
    return MentorProfileFactory(user=UserFactory(name="Maya Mentor", timezone="Europe/Berlin"))


@pytest.fixture
def caldav(mentor):
    return CalendarConnectionFactory(
        mentor=mentor,
        account="maya@fastmail.example",
        caldav_password="fastmail-app-password-plaintext",
        last_synced_at=SYNCED,
    )


@pytest.fixture
def google(mentor):
    return CalendarConnectionFactory(
        mentor=mentor,
        google=True,
        account="maya@gmail.example",
        access_token="ya29.page-access-token-plaintext",
        refresh_token="1//page-refresh-token-plaintext",
        status=Status.NEEDS_REAUTH,
        last_error=REFUSED,
        target_calendar="",
    )


# --- The page -------------------------------------------------------------------------------


def test_the_mentor_sees_each_connection_with_status_last_sync_and_error(
    owner_client, caldav, google
):
    response = owner_client.get(SETTINGS_URL)
    caldav_card, google_card = cards(response)
    assert "CalDAV" in caldav_card
    assert "maya@fastmail.example" in caldav_card
    assert 'data-status="active"' in caldav_card
    assert "Connected" in caldav_card
    # In the mentor's own zone, saying which.
    assert "Last synced 26 November 2026, 13:05 CET." in caldav_card
    assert "1 calendar counts as busy; new sessions are added to the one you chose." in caldav_card
    assert f'action="{sync_url(caldav)}"' in caldav_card
    assert f'action="{disconnect_url(caldav)}"' in caldav_card

    assert "Google Calendar" in google_card
    assert 'data-status="needs_reauth"' in google_card
    assert "Needs reconnecting" in google_card
    assert "Not synced yet." in google_card
    assert "new ones are not read and sessions are not added until you reconnect" in google_card
    assert REFUSED in google_card
    assert f'action="{sync_url(google)}"' not in google_card  # reconnect first
    assert f'action="{disconnect_url(google)}"' in google_card
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_last_sync_follows_the_mentors_zone(client, caldav):
    user = caldav.mentor.user
    user.timezone = "America/New_York"
    user.save(update_fields=["timezone"])
    client.force_login(user)
    [card] = cards(client.get(SETTINGS_URL))
    assert "Last synced 26 November 2026, 07:05 EST." in card


def test_the_page_never_shows_a_secret(owner_client, caldav, google):
    page = owner_client.get(SETTINGS_URL).text
    for connection in (caldav, google):
        connection = CalendarConnection.objects.get(pk=connection.pk)
        for name, ciphertext in stored_secrets(connection).items():
            if ciphertext:
                assert getattr(connection, name) not in page
                assert ciphertext not in page


def test_an_error_status_shows_its_message(owner_client, mentor):
    CalendarConnectionFactory(
        mentor=mentor, status=Status.ERROR, last_error="The calendar “Work” no longer exists."
    )
    [card] = cards(owner_client.get(SETTINGS_URL))
    assert 'data-status="error"' in card
    assert "The calendar “Work” no longer exists." in card
    assert "Sync now" in card


def test_a_mentor_without_connections_sees_the_empty_state(owner_client):
    response = owner_client.get(SETTINGS_URL)
    assert cards(response) == []
    assert 'id="calendars-empty"' in response.text
    assert "No calendar connected yet." in response.text


def test_only_the_mentors_own_connections_are_shown(owner_client, caldav):
    CalendarConnectionFactory(account="someone-else@fastmail.example")
    page = owner_client.get(SETTINGS_URL).text
    assert "maya@fastmail.example" in page
    assert "someone-else@fastmail.example" not in page


def test_a_non_mentor_is_sent_to_become_a_mentor(client):
    client.force_login(MenteeProfileFactory().user)
    response = client.get(SETTINGS_URL)
    assert response.status_code == 302
    assert response["Location"] == reverse("mentorship:become_mentor")
    assert messages_of(response) == ["Calendar connections are for mentors."]


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(SETTINGS_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/calendars/")


def test_the_page_costs_the_same_queries_for_1_or_2_connections(owner_client, mentor, caldav):
    """Regression guard: nothing per connection may query (a template
    reaching through a relation would)."""
    owner_client.get(SETTINGS_URL)  # warm the session
    with CaptureQueriesContext(database) as one:
        assert len(cards(owner_client.get(SETTINGS_URL))) == 1
    CalendarConnectionFactory(mentor=mentor, provider=CalendarConnection.Provider.GOOGLE)
    with CaptureQueriesContext(database) as two:
        assert len(cards(owner_client.get(SETTINGS_URL))) == 2
    assert len(two) == len(one), [query["sql"] for query in two.captured_queries]


# --- Sync now -------------------------------------------------------------------------------


def test_the_owner_can_sync_now(owner_client, caldav, enqueued):
    response = owner_client.post(sync_url(caldav))
    assert response.status_code == 302
    assert response["Location"] == SETTINGS_URL
    assert enqueued == [str(caldav.pk)]
    assert messages_of(response) == [
        "Syncing now: busy times update in a moment. Refresh to see the result."
    ]


def test_sync_now_runs_the_sync(owner_client, caldav, monkeypatch, time_machine):
    """Eager Celery: the enqueued task runs in this process, through the client."""
    from .fake_calendar import FakeCalendarClient, use_fake_clients

    fake = FakeCalendarClient(busy=[(SYNCED, SYNCED.replace(hour=13))])
    use_fake_clients(monkeypatch, (caldav.pk, fake))
    # The sync reads busy times over the booking horizon from the clock's now.
    time_machine.move_to(SYNCED, tick=False)
    owner_client.post(sync_url(caldav))
    assert BusyInterval.objects.filter(connection=caldav).count() == 1


def test_sync_now_asks_to_reconnect_first(owner_client, google, enqueued):
    response = owner_client.post(sync_url(google))
    assert response.status_code == 302
    assert enqueued == []
    assert messages_of(response) == ["Reconnect this calendar first: its permission has expired."]


def test_sync_now_with_the_broker_down_says_it_runs_later(owner_client, caldav, monkeypatch):
    def broker_down(connection_id):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.sync_calendar, "delay", broker_down)
    response = owner_client.post(sync_url(caldav))
    assert response.status_code == 302
    assert messages_of(response) == ["Syncing could not start right now; it runs by itself soon."]


def test_another_mentor_cannot_sync_or_disconnect(client, caldav, enqueued):
    client.force_login(MentorProfileFactory().user)
    assert client.post(sync_url(caldav)).status_code == 404
    assert client.post(disconnect_url(caldav)).status_code == 404
    assert enqueued == []
    assert CalendarConnection.objects.filter(pk=caldav.pk).exists()


def test_staff_cannot_sync_or_disconnect_a_mentors_connection_here(client, caldav, enqueued):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.post(sync_url(caldav)).status_code == 404
    assert client.post(disconnect_url(caldav)).status_code == 404
    assert enqueued == []
    assert CalendarConnection.objects.filter(pk=caldav.pk).exists()


def test_anonymous_visitors_cannot_sync_or_disconnect(client, caldav, enqueued):
    for url in (sync_url(caldav), disconnect_url(caldav)):
        response = client.post(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert enqueued == []
    assert CalendarConnection.objects.filter(pk=caldav.pk).exists()


def test_sync_and_disconnect_only_answer_post(owner_client, caldav, enqueued):
    assert owner_client.get(sync_url(caldav)).status_code == 405
    assert owner_client.get(disconnect_url(caldav)).status_code == 405
    assert enqueued == []
    assert CalendarConnection.objects.filter(pk=caldav.pk).exists()


# --- Disconnect -----------------------------------------------------------------------------


def test_the_owner_can_disconnect_which_deletes_the_secrets(owner_client, mentor, caldav, google):
    BusyIntervalFactory(mentor=mentor, connection=caldav)
    response = owner_client.post(disconnect_url(caldav))
    assert response.status_code == 302
    assert response["Location"] == SETTINGS_URL
    assert not CalendarConnection.objects.filter(pk=caldav.pk).exists()
    assert not BusyInterval.objects.filter(mentor=mentor).exists()
    assert CalendarConnection.objects.filter(pk=google.pk).exists()
    assert messages_of(response) == [
        "CalDAV is disconnected and its access was deleted. Events already in that calendar "
        "stay there; reconnecting updates them instead of adding copies."
    ]
    [card] = cards(owner_client.get(SETTINGS_URL))
    assert "Google Calendar" in card


# --- Google Calendar with and without a Google client on the site ---------------------------

GOOGLE_CONNECT_URL = "/calendars/google/connect/"
GOOGLE_CALLBACK_URL = "/calendars/google/callback/"
GOOGLE_UNAVAILABLE = (
    "Google Calendar is not set up on this site; ask the site's staff, "
    "or connect any CalDAV calendar below."
)


@pytest.fixture
def google_configured(settings):
    settings.GOOGLE_CLIENT_ID = "client-id.apps.example"
    settings.GOOGLE_CLIENT_SECRET = "client-secret"


@pytest.fixture
def google_not_configured(settings):
    settings.GOOGLE_CLIENT_ID = ""
    settings.GOOGLE_CLIENT_SECRET = ""


def connect_cards(response) -> dict[str, str]:
    """The "Connect a calendar" cards, as HTML, by their heading's id."""
    text = response.text
    return dict(
        re.findall(
            r'<section class="card[^"]*" aria-labelledby="(connect-\w+)">(.*?)</section>',
            text,
            re.S,
        )
    )


def test_without_a_google_client_google_is_shown_unavailable_with_no_link(
    owner_client, google_not_configured
):
    response = owner_client.get(SETTINGS_URL)
    cards_by_id = connect_cards(response)
    google_card = cards_by_id["connect-google"]
    assert "Not available" in google_card
    assert f'<p class="small flex-grow-1 mb-0" id="google-unavailable">{GOOGLE_UNAVAILABLE}' in (
        google_card.replace("&#x27;", "'")
    )
    assert GOOGLE_CONNECT_URL not in response.text
    # CalDAV is offered, below it.
    assert '<div class="col-12">' in response.text
    assert 'href="/calendars/caldav/connect/"' in cards_by_id["connect-caldav"]


def test_with_a_google_client_google_is_offered(owner_client, google_configured):
    response = owner_client.get(SETTINGS_URL)
    google_card = connect_cards(response)["connect-google"]
    assert f'href="{GOOGLE_CONNECT_URL}">Connect Google Calendar</a>' in google_card
    assert "Not available" not in google_card
    assert 'id="google-unavailable"' not in response.text


def test_a_google_connection_to_reconnect_offers_reconnecting_only_with_a_client(
    client, google, settings
):
    client.force_login(google.mentor.user)
    settings.GOOGLE_CLIENT_ID, settings.GOOGLE_CLIENT_SECRET = "client-id", "client-secret"
    [card] = cards(client.get(SETTINGS_URL))
    assert f'href="{GOOGLE_CONNECT_URL}">Reconnect</a>' in card
    assert "google-reconnect-unavailable" not in card

    settings.GOOGLE_CLIENT_ID = ""
    [card] = cards(client.get(SETTINGS_URL))
    assert GOOGLE_CONNECT_URL not in card
    assert "cannot be reconnected" in card
    assert f'action="{disconnect_url(google)}"' in card  # the way out


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_typed_connect_link_without_a_client_comes_back_with_the_reason(
    owner_client, google_not_configured, method
):
    response = getattr(owner_client, method)(GOOGLE_CONNECT_URL)
    assert response.status_code == 302
    assert response["Location"] == SETTINGS_URL
    assert messages_of(response) == [GOOGLE_UNAVAILABLE]
    page = owner_client.get(SETTINGS_URL)
    assert page.status_code == 200
    assert "google_calendar_authorization" not in owner_client.session


def test_a_link_back_from_google_without_a_client_comes_back_with_the_reason(
    owner_client, google_not_configured
):
    session = owner_client.session
    session["google_calendar_authorization"] = {"state": "abc", "user": "someone"}
    session.save()
    response = owner_client.get(f"{GOOGLE_CALLBACK_URL}?state=abc&code=xyz")
    assert response.status_code == 302
    assert response["Location"] == SETTINGS_URL
    assert messages_of(response) == [GOOGLE_UNAVAILABLE]
    assert "google_calendar_authorization" not in owner_client.session
    assert not CalendarConnection.objects.exists()


def test_with_a_client_the_connect_page_explains_and_starts_nothing_on_get(
    owner_client, google_configured
):
    response = owner_client.get(GOOGLE_CONNECT_URL)
    assert response.status_code == 200
    assert "Continue to Google" in response.text
    assert "google_calendar_authorization" not in owner_client.session


# --- In a browser ---------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_screenshot_of_the_calendar_settings_page(page, live_server, screenshot):
    mentor = MentorProfileFactory(user=UserFactory(name="Maya Mentor", timezone="Europe/Berlin"))
    CalendarConnectionFactory(
        mentor=mentor,
        account="maya@fastmail.example",
        last_synced_at=SYNCED,
        busy_calendars=[
            "https://calendar.example.com/dav/work/",
            "https://calendar.example.com/dav/family/",
        ],
    )
    CalendarConnectionFactory(
        mentor=mentor,
        google=True,
        account="maya@gmail.example",
        access_token="ya29.screenshot-token",
        refresh_token="1//screenshot-refresh",
        status=Status.NEEDS_REAUTH,
        last_error="Google says the permission was revoked or has expired. Reconnect to "
        "keep your busy times and sessions in sync.",
        last_synced_at=SYNCED,
        target_calendar="",
    )
    problems = watch_browser_problems(page)
    log_in(page, mentor.user.email)
    page.goto(SETTINGS_URL)
    expect(page.get_by_role("heading", name="Calendars", exact=True)).to_be_visible()
    expect(page.locator('[data-status="active"]')).to_have_text("Connected")
    expect(page.locator('[data-status="needs_reauth"]')).to_have_text("Needs reconnecting")
    expect(page.get_by_role("button", name="Sync now")).to_have_count(1)
    expect(page.get_by_role("button", name="Disconnect")).to_have_count(2)
    assert "screenshot-token" not in page.content()
    screenshot("calendar-settings")

    # Narrow screens: the cards and their buttons still fit.
    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot("calendar-settings-narrow")
    assert problems == []
