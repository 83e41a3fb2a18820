"""Google Calendar: the OAuth connect flow, the API client and the sync and
push services, against ``fake_google.FakeGoogle`` — a local HTTP server
speaking Google's protocol, so the real client code runs over real HTTP.

The mentor is the factories' ``new_york_mentor`` (weekday hours 09:00–12:00);
``NOW`` is Monday 1 June 2026, 08:00 in New York.
"""

import base64
import hashlib
import logging
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django import db
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from scheduling.booking import cancel_session, reschedule_session
from scheduling.calendars import CalendarAuthError, CalendarError, CalendarTemporaryError
from scheduling.calendars import sync as calendar_sync
from scheduling.calendars.google import GoogleCalendarClient
from scheduling.calendars.views import PENDING_KEY
from scheduling.crypto import decrypt
from scheduling.models import BusyInterval, CalendarConnection, CalendarEvent
from scheduling.slots import available_slots
from scheduling.tasks import sync_calendar
from scheduling.tests.factories import NOW, TUESDAY_9, book, new_york_mentor, ny
from scheduling.tests.fake_google import (
    ALL_SCOPES,
    CLIENT_ID,
    CLIENT_SECRET,
    FREEBUSY,
    FakeGoogle,
)

CONNECT = reverse("scheduling:calendar_google_connect")
CALLBACK = reverse("scheduling:calendar_google_callback")
WEDNESDAY_10 = ny(2026, 6, 3, 10)


@pytest.fixture(scope="module")
def google_server():
    server = FakeGoogle().start()
    yield server
    server.stop()


@pytest.fixture
def fake(google_server, settings):
    google_server.reset()
    settings.GOOGLE_CLIENT_ID = CLIENT_ID
    settings.GOOGLE_CLIENT_SECRET = CLIENT_SECRET
    settings.GOOGLE_OAUTH_AUTHORIZE_URL = f"{google_server.url}/authorize"
    settings.GOOGLE_OAUTH_TOKEN_URL = f"{google_server.url}/token"
    settings.GOOGLE_CALENDAR_API_URL = f"{google_server.url}/calendar/v3"
    settings.SITE_URL = "http://testserver"
    return google_server


@pytest.fixture
def mentor(db):
    return new_york_mentor(starting=NOW.date())


def start(client):
    """POST connect; returns Google's consent URL."""
    response = client.post(CONNECT)
    assert response.status_code == 302
    return response["Location"]


def consent(url: str) -> str:
    """The mentor clicks "Allow" at the fake Google: returns the callback path
    with the query Google sends back."""
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert f"{back.scheme}://{back.netloc}" == "http://testserver"
    return f"{back.path}?{back.query}"


def connect(client):
    return client.get(consent(start(client)))


def connected(client, mentor, fake, **calendars) -> CalendarConnection:
    """Connects through the views, then chooses calendars as the choose page would."""
    response = connect(client)
    assert response.status_code == 302, response.content.decode()
    connection = CalendarConnection.objects.get(mentor=mentor, provider="google")
    CalendarConnection.objects.filter(pk=connection.pk).update(
        busy_calendars=calendars.get("busy", [fake.email]),
        target_calendar=calendars.get("target", fake.email),
    )
    connection.refresh_from_db()
    return connection


def expire(connection, by=timedelta(minutes=1)):
    CalendarConnection.objects.filter(pk=connection.pk).update(expires_at=timezone.now() - by)
    connection.refresh_from_db()


def with_query(path: str, **changes) -> str:
    parts = urlsplit(path)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(changes)
    query = {key: value for key, value in query.items() if value is not None}
    return f"{parts.path}?" + "&".join(f"{key}={value}" for key, value in query.items())


# --- The connect flow ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_connect_flow_stores_encrypted_tokens_and_goes_to_choose_calendars(
    fake, owner_client, mentor
):
    page = owner_client.get(CONNECT)
    assert page.status_code == 200
    assert b"Continue to Google" in page.content

    url = start(owner_client)
    target = urlsplit(url)
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{fake.url}/authorize"
    query = {key: values[0] for key, values in parse_qs(target.query).items()}
    pending = owner_client.session[PENDING_KEY]
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"http://testserver{CALLBACK}"
    assert set(query["scope"].split()) == set(ALL_SCOPES)
    assert query["state"] == pending["state"] and len(query["state"]) >= 32
    assert query["code_challenge_method"] == "S256"
    digest = hashlib.sha256(pending["verifier"].encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert query["access_type"] == "offline"
    assert query["prompt"] == "consent"
    assert query["include_granted_scopes"] == "true"

    response = owner_client.get(consent(url))

    connection = CalendarConnection.objects.get(mentor=mentor)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "scheduling:calendar_choose", kwargs={"connection_id": connection.pk}
    )
    assert PENDING_KEY not in owner_client.session
    assert connection.provider == "google"
    assert connection.status == CalendarConnection.Status.ACTIVE
    assert connection.account == fake.email  # the primary calendar's id
    assert set(connection.scopes.split()) == set(ALL_SCOPES)
    assert timedelta(minutes=55) < connection.expires_at - timezone.now() <= timedelta(hours=1)
    (exchange,) = fake.token_requests("authorization_code")
    assert exchange.form["code_verifier"] == pending["verifier"]
    assert connection.access_token in fake.access_tokens
    assert connection.refresh_token in fake.refresh_tokens

    # At rest the tokens are Fernet tokens, and no column holds them in clear.
    table = CalendarConnection._meta.db_table
    with db.connection.cursor() as cursor:
        cursor.execute(f"SELECT access_token, refresh_token FROM {table}")  # noqa: S608
        ((raw_access, raw_refresh),) = cursor.fetchall()
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
        whole_row = " ".join(str(value) for value in cursor.fetchone())
    for secret, raw in (
        (connection.access_token, raw_access),
        (connection.refresh_token, raw_refresh),
    ):
        assert raw.startswith("gAAAAA") and secret not in raw
        assert secret not in whole_row
        assert decrypt(raw) == secret


@pytest.mark.django_db
def test_after_connecting_the_mentor_chooses_among_the_google_calendars(
    fake, owner_client, mentor, django_capture_on_commit_callbacks
):
    choose = connect(owner_client)["Location"]
    page = owner_client.get(choose)
    assert page.status_code == 200
    for name in (fake.email, "Work", "Holidays"):
        assert name in page.content.decode()
    busy_start = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    fake.add_busy("work@group.calendar.google.com", busy_start, busy_start + timedelta(hours=2))

    with django_capture_on_commit_callbacks(execute=True):
        saved = owner_client.post(
            choose, {"busy": ["work@group.calendar.google.com"], "target": fake.email}
        )

    assert saved.status_code == 302
    connection = CalendarConnection.objects.get()
    assert connection.busy_calendars == ["work@group.calendar.google.com"]
    assert connection.target_calendar == fake.email
    assert list(BusyInterval.objects.values_list("start", flat=True)) == [busy_start]


@pytest.mark.django_db
def test_a_used_state_is_refused_the_second_time(fake, owner_client, mentor):
    back = consent(start(owner_client))
    assert owner_client.get(back).status_code == 302

    again = owner_client.get(back)

    assert again.status_code == 400
    assert b"not valid" in again.content
    assert len(fake.token_requests("authorization_code")) == 1
    assert CalendarConnection.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["forged-state", None, ""])
def test_a_bad_or_missing_state_is_refused_and_nothing_is_stored(fake, owner_client, mentor, state):
    back = consent(start(owner_client))

    response = owner_client.get(with_query(back, state=state))

    assert response.status_code == 400
    assert "it was used already, it expired" in response.content.decode()
    assert not CalendarConnection.objects.exists()
    assert fake.token_requests("authorization_code") == []
    # The state was used up by the attempt: the genuine answer is refused now too.
    assert owner_client.get(back).status_code == 400


@pytest.mark.django_db
def test_an_expired_state_is_refused(fake, owner_client, mentor):
    back = consent(start(owner_client))
    session = owner_client.session
    session[PENDING_KEY] = {**session[PENDING_KEY], "started": 0}
    session.save()

    assert owner_client.get(back).status_code == 400
    assert not CalendarConnection.objects.exists()


@pytest.mark.django_db
def test_access_denied_says_so_and_stores_nothing(fake, owner_client, mentor):
    url = start(owner_client)
    state = parse_qs(urlsplit(url).query)["state"][0]

    response = owner_client.get(CALLBACK, {"state": state, "error": "access_denied"})

    assert response.status_code == 200
    assert "You did not allow access" in response.content.decode()
    assert not CalendarConnection.objects.exists()
    assert fake.token_requests("authorization_code") == []


@pytest.mark.django_db
def test_unticked_permissions_are_refused(fake, owner_client, mentor):
    fake.granted_scopes = (FREEBUSY,)

    response = connect(owner_client)

    assert response.status_code == 400
    text = response.content.decode()
    assert "add your sessions to your calendar and list your calendars" in text
    assert "leave every box ticked" in text
    assert not CalendarConnection.objects.exists()


@pytest.mark.django_db
def test_the_account_comes_from_the_id_token_when_google_sends_one(fake, owner_client, mentor):
    # include_granted_scopes: the sign-in grant (openid, email) comes along.
    fake.granted_scopes = (*ALL_SCOPES, "openid", "https://www.googleapis.com/auth/userinfo.email")
    fake.include_id_token = True
    fake.email = "someone@gmail.example"
    fake.calendars[fake.email] = {"summary": fake.email, "accessRole": "owner"}

    assert connect(owner_client).status_code == 302

    connection = CalendarConnection.objects.get()
    assert connection.account == "someone@gmail.example"
    assert fake.api_requests("GET", "calendarList") == []
    assert connection.scopes.split() == list(ALL_SCOPES)  # the calendar ones only


# --- Who may connect ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in(fake, client):
    for response in (
        client.get(CONNECT),
        client.post(CONNECT),
        client.get(CALLBACK, {"state": "x", "code": "y"}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    assert fake.requests == []


@pytest.mark.django_db
def test_people_who_are_not_mentors_cannot_connect(fake, client):
    client.force_login(UserFactory())

    started = client.post(CONNECT)
    back = client.get(CALLBACK, {"state": "x", "code": "y"})

    for response in (started, back):
        assert response.status_code == 302
        assert response["Location"] == reverse("mentorship:become_mentor")
    assert PENDING_KEY not in client.session
    assert not CalendarConnection.objects.exists()
    assert fake.requests == []


@pytest.mark.django_db
def test_another_mentor_cannot_use_a_mentors_callback(fake, owner_client, mentor):
    back = consent(start(owner_client))
    other = new_york_mentor(starting=NOW.date())
    intruder = Client()
    intruder.force_login(other.user)

    assert intruder.get(back).status_code == 400  # no state waiting in that session

    # Even with the state copied into their own session: it is bound to its user.
    session = intruder.session
    session[PENDING_KEY] = owner_client.session[PENDING_KEY]
    session.save()
    assert intruder.get(back).status_code == 400
    assert not CalendarConnection.objects.exists()
    assert fake.token_requests("authorization_code") == []

    # The mentor who started it still can finish it.
    assert owner_client.get(back).status_code == 302
    assert list(CalendarConnection.objects.values_list("mentor", flat=True)) == [mentor.pk]


@pytest.mark.django_db
def test_without_a_google_client_the_page_says_so_and_nothing_starts(
    fake, settings, owner_client, mentor
):
    settings.GOOGLE_CLIENT_ID = ""

    for send in (owner_client.get, owner_client.post):
        response = send(CONNECT)
        # Not a server error: back to the settings, which say so and offer CalDAV.
        assert response.status_code == 302
        assert response["Location"] == "/calendars/"
        page = owner_client.get(response["Location"]).content.decode()
        assert "Google Calendar is not set up on this site; ask the site&#x27;s staff" in page
        assert 'id="google-unavailable"' in page
        assert CONNECT not in page
    assert PENDING_KEY not in owner_client.session


@pytest.mark.django_db
def test_the_settings_offer_google_when_the_site_has_a_client(fake, owner_client, mentor):
    page = owner_client.get("/calendars/").content.decode()
    assert CONNECT in page
    assert 'id="google-unavailable"' not in page


@pytest.mark.django_db
def test_the_callback_answers_only_get(fake, owner_client, mentor):
    assert owner_client.post(CALLBACK).status_code == 405


# --- Tokens -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("expires_in", [timedelta(minutes=-1), timedelta(minutes=4)])
def test_a_token_expiring_within_five_minutes_is_refreshed_once_and_stored(
    fake, owner_client, mentor, expires_in
):
    connection = connected(owner_client, mentor, fake)
    CalendarConnection.objects.filter(pk=connection.pk).update(
        expires_at=timezone.now() + expires_in
    )
    connection.refresh_from_db()
    old_token = connection.access_token

    client = GoogleCalendarClient(connection)
    names = [calendar.name for calendar in client.list_calendars()]
    client.list_calendars()

    assert names == [fake.email, "Holidays", "Work"]  # primary first
    assert len(fake.token_requests("refresh_token")) == 1
    stored = CalendarConnection.objects.get(pk=connection.pk)
    assert stored.access_token != old_token
    assert stored.access_token == connection.access_token
    assert stored.access_token in fake.access_tokens
    assert stored.expires_at > timezone.now() + timedelta(minutes=55)


@pytest.mark.django_db
def test_a_rejected_token_is_refreshed_once_then_the_call_retried(fake, owner_client, mentor):
    connection = connected(owner_client, mentor, fake)
    fake.revoke_access_tokens()

    calendars = GoogleCalendarClient(connection).list_calendars()

    assert len(calendars) == 3
    assert len(fake.token_requests("refresh_token")) == 1

    fake.fail_next(2, status=401)
    with pytest.raises(CalendarAuthError, match="reconnect"):
        GoogleCalendarClient(connection).list_calendars()
    assert len(fake.token_requests("refresh_token")) == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_at_once_refresh_once(fake, client):
    mentor = new_york_mentor(starting=NOW.date())
    client.force_login(mentor.user)
    connection = connected(client, mentor, fake)
    expire(connection)
    fake.token_delay = 0.4  # a slow token endpoint widens the window
    barrier = threading.Barrier(2)
    calendars, errors = [], []

    def worker():
        try:
            row = CalendarConnection.objects.get(pk=connection.pk)  # expired, as read
            barrier.wait(timeout=5)
            calendars.append(GoogleCalendarClient(row).list_calendars())
        except Exception as error:  # noqa: BLE001 — reported by the assertion below
            errors.append(error)
        finally:
            db.connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(calendars) == 2
    assert len(fake.token_requests("refresh_token")) == 1
    assert CalendarConnection.objects.get(pk=connection.pk).access_token in fake.access_tokens


@pytest.mark.django_db
def test_invalid_grant_marks_the_connection_for_reconnecting_and_emails_the_mentor(
    fake, owner_client, mentor, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.DEBUG)
    connection = connected(owner_client, mentor, fake)
    secrets = (connection.access_token, connection.refresh_token)
    expire(connection)
    fake.refresh_error = "invalid_grant"

    with django_capture_on_commit_callbacks(execute=True):
        assert calendar_sync.sync_connection(connection.pk) == 0

    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.NEEDS_REAUTH
    assert "revoked" in connection.last_error and "reconnect" in connection.last_error.lower()
    (message,) = mail.outbox
    assert message.to == [mentor.user.email]
    assert "Reconnect" in message.subject
    assert f"http://testserver{reverse('scheduling:calendar_settings')}" in message.body
    page = owner_client.get(reverse("scheduling:calendar_settings")).content.decode()
    assert "Needs reconnecting" in page and "revoked" in page

    # Nothing is tried again until the mentor reconnects, and no second email.
    with django_capture_on_commit_callbacks(execute=True):
        assert calendar_sync.sync_connection(connection.pk) == 0
    assert len(fake.token_requests("refresh_token")) == 1
    assert len(mail.outbox) == 1

    for secret in secrets:
        assert secret not in caplog.text
        assert secret not in connection.last_error
        assert secret not in message.body


# --- Temporary failures ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "retry_after"), [(429, 7), (429, None), (403, 3), (500, None), (503, 30)]
)
def test_rate_limits_and_server_errors_are_temporary(
    fake, owner_client, mentor, status, retry_after
):
    connection = connected(owner_client, mentor, fake)
    fake.fail_next(1, status=status, retry_after=retry_after)

    with pytest.raises(CalendarTemporaryError) as raised:
        GoogleCalendarClient(connection).busy_times([fake.email], NOW, NOW + timedelta(days=1))

    assert raised.value.retry_after == retry_after
    assert "try again" in str(raised.value)


@pytest.mark.django_db
def test_the_sync_task_backs_off_on_429_and_then_succeeds(fake, owner_client, mentor, monkeypatch):
    connection = connected(owner_client, mentor, fake)
    busy_start = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    fake.add_busy(fake.email, busy_start, busy_start + timedelta(hours=1))
    fake.fail_next(2, status=429, retry_after=1)
    # Eager tasks run Celery's retries at once (without the countdown), but only
    # when errors are not propagated to the caller, which test settings do.
    monkeypatch.setitem(sync_calendar.app.conf, "task_eager_propagates", False)

    result = sync_calendar.delay(str(connection.pk))

    assert result.get() == 1

    assert list(BusyInterval.objects.values_list("start", "end")) == [
        (busy_start, busy_start + timedelta(hours=1))
    ]
    assert fake.failures == []
    # Two refused attempts, then one that read the horizon in two windows.
    assert len(fake.api_requests("POST", "/freeBusy")) == 4
    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.ACTIVE
    assert connection.last_synced_at is not None


# --- Busy times in, sessions out ------------------------------------------------------------------


@pytest.mark.django_db
def test_busy_times_from_free_busy_remove_the_slots_they_cover(fake, owner_client, mentor):
    connection = connected(
        owner_client, mentor, fake, busy=[fake.email, "work@group.calendar.google.com"]
    )
    fake.add_busy(fake.email, TUESDAY_9, TUESDAY_9 + timedelta(hours=1))
    fake.add_busy("work@group.calendar.google.com", ny(2026, 6, 3, 11), ny(2026, 6, 3, 12))
    fake.add_busy("holidays@group.v.calendar.google.com", ny(2026, 6, 4, 9), ny(2026, 6, 4, 12))
    hour = mentor.session_types.get(slug="mentoring-session")
    mentor.refresh_from_db()

    def slots(day):
        found = available_slots(mentor, hour, ny(2026, 6, day, 0), ny(2026, 6, day, 23), now=NOW)
        return [slot.start for slot in found]

    assert slots(2) == [ny(2026, 6, 2, 9), ny(2026, 6, 2, 10), ny(2026, 6, 2, 11)]

    assert calendar_sync.sync_connection(connection.pk, now=NOW) == 2

    assert slots(2) == [ny(2026, 6, 2, 10), ny(2026, 6, 2, 11)]
    assert slots(3) == [ny(2026, 6, 3, 9), ny(2026, 6, 3, 10)]
    assert len(slots(4)) == 3  # the holidays calendar was not chosen
    queries = [request.body for request in fake.api_requests("POST", "/freeBusy")]
    assert queries[0]["timeMin"] == "2026-05-31T12:00:00Z"  # UTC, a day back
    assert queries[-1]["timeMax"] == "2026-08-01T12:00:00Z"  # 60-day horizon and a day
    for query in queries:
        assert [item["id"] for item in query["items"]] == connection.busy_calendars


@pytest.mark.django_db
def test_booking_rescheduling_and_cancelling_write_one_event(
    fake, owner_client, mentor, django_capture_on_commit_callbacks
):
    connection = connected(owner_client, mentor, fake)
    hour = mentor.session_types.get(slug="mentoring-session")
    mentee = UserFactory(name="Mia Mentee")

    with django_capture_on_commit_callbacks(execute=True):
        session = book(mentee, mentor, hour, TUESDAY_9, topic="Career change")

    (event,) = fake.live_events(fake.email)
    assert event["id"] == session.ical_uid
    assert event["summary"] == "Mentoring session with Mia Mentee"
    assert "Topic: Career change" in event["description"]
    assert f"Join: {session.meeting_url}" in event["description"]
    assert event["location"] == session.meeting_url
    assert event["source"]["url"] == session.meeting_url
    assert event["start"]["dateTime"] == "2026-06-02T13:00:00Z"
    assert event["end"]["dateTime"] == "2026-06-02T14:00:00Z"
    record = CalendarEvent.objects.get(connection=connection)
    assert (record.external_id, record.etag) == (session.ical_uid, event["etag"])

    with django_capture_on_commit_callbacks(execute=True):
        moved = reschedule_session(session=session, by=mentee, start=WEDNESDAY_10, now=NOW)

    (event,) = fake.live_events(fake.email)
    assert event["id"] == session.ical_uid
    assert event["start"]["dateTime"] == "2026-06-03T14:00:00Z"
    assert len(fake.events) == 1

    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session=moved, by=mentee, now=NOW)

    assert fake.live_events(fake.email) == []
    assert fake.events[(fake.email, session.ical_uid)]["status"] == "cancelled"
    record = CalendarEvent.objects.get(connection=connection)
    # Booked (0), moved (1), cancelled (2): the cancellation is a revision too.
    assert record.is_deleted and record.pushed_sequence == 2


@pytest.mark.django_db
def test_put_event_is_idempotent_restores_deleted_events_and_delete_tolerates_gone(
    fake, owner_client, mentor, django_capture_on_commit_callbacks
):
    connection = connected(owner_client, mentor, fake)
    hour = mentor.session_types.get(slug="mentoring-session")
    session = book(UserFactory(), mentor, hour, TUESDAY_9)  # pushes are not run here
    client = GoogleCalendarClient(connection)

    first = client.put_event(fake.email, event_id=session.ical_uid, session=session)
    second = client.put_event(fake.email, event_id=session.ical_uid, session=session)
    client.delete_event(fake.email, event_id=session.ical_uid)
    client.delete_event(fake.email, event_id=session.ical_uid)  # 410: already gone
    client.delete_event(fake.email, event_id="0123456789abcdef")  # 404: never there
    restored = client.put_event(fake.email, event_id=session.ical_uid, session=session)

    assert len({first, second, restored}) == 3
    (event,) = fake.live_events(fake.email)
    assert event["etag"] == restored
    assert len(fake.events) == 1

    with pytest.raises(CalendarError, match="Choose another calendar"):
        client.put_event(
            "holidays@group.v.calendar.google.com", event_id=session.ical_uid, session=session
        )


# --- Reconnecting -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reconnecting_keeps_the_chosen_calendars(fake, owner_client, mentor):
    connection = connected(
        owner_client, mentor, fake, busy=[fake.email, "work@group.calendar.google.com"]
    )
    CalendarConnection.objects.filter(pk=connection.pk).update(
        status=CalendarConnection.Status.NEEDS_REAUTH, last_error="Revoked."
    )

    assert connect(owner_client).status_code == 302

    again = CalendarConnection.objects.get()
    assert again.pk == connection.pk
    assert again.status == CalendarConnection.Status.ACTIVE and again.last_error == ""
    assert again.busy_calendars == [fake.email, "work@group.calendar.google.com"]
    assert again.target_calendar == fake.email
    assert again.access_token != connection.access_token


@pytest.mark.django_db
def test_reconnecting_another_google_account_forgets_the_old_calendars(fake, owner_client, mentor):
    connected(owner_client, mentor, fake)
    fake.email = "other.account@gmail.example"
    fake.calendars[fake.email] = {"summary": fake.email, "accessRole": "owner"}

    assert connect(owner_client).status_code == 302

    again = CalendarConnection.objects.get()
    assert again.account == "other.account@gmail.example"
    assert (again.busy_calendars, again.target_calendar) == ([], "")


@pytest.mark.django_db
def test_disconnecting_and_reconnecting_updates_the_event_instead_of_adding_one(
    fake, owner_client, mentor, django_capture_on_commit_callbacks
):
    connection = connected(owner_client, mentor, fake)
    hour = mentor.session_types.get(slug="mentoring-session")
    with django_capture_on_commit_callbacks(execute=True):
        session = book(UserFactory(), mentor, hour, TUESDAY_9, topic="Before")
    calendar_sync.disconnect(connection=connection)
    assert not CalendarEvent.objects.exists()

    connection = connected(owner_client, mentor, fake)
    assert calendar_sync.stale_sessions(now=NOW) == [session.pk]
    assert calendar_sync.push_session(session.pk) == 1

    assert len(fake.events) == 1
    (event,) = fake.live_events(fake.email)
    assert event["id"] == session.ical_uid
    assert [request.method for request in fake.api_requests("PATCH", "/events/")] == ["PATCH"]
    assert calendar_sync.stale_sessions(now=NOW) == []


@pytest.mark.django_db
def test_a_push_lost_to_revoked_access_is_made_after_reconnecting(
    fake, owner_client, mentor, django_capture_on_commit_callbacks
):
    connection = connected(owner_client, mentor, fake)
    expire(connection)
    fake.refresh_error = "invalid_grant"
    hour = mentor.session_types.get(slug="mentoring-session")

    with django_capture_on_commit_callbacks(execute=True):
        session = book(UserFactory(), mentor, hour, TUESDAY_9)

    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.NEEDS_REAUTH
    assert [message.to for message in mail.outbox if "Reconnect" in message.subject] == [
        [mentor.user.email]
    ]
    assert fake.events == {}

    fake.refresh_error = ""
    assert connect(owner_client).status_code == 302

    assert calendar_sync.stale_sessions(now=NOW) == [session.pk]
    assert calendar_sync.push_session(session.pk) == 1
    (event,) = fake.live_events(fake.email)
    assert event["id"] == session.ical_uid
