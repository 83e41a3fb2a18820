"""CalDAV against a real Radicale server on loopback (root ``conftest.py``
starts it once per run; each test makes its own calendar).

The factories' ``new_york_mentor`` (weekday hours 09:00–12:00, no buffer,
no notice); ``now`` is Monday 1 June 2026, 08:00 in New York (12:00 UTC).
Events are written into Radicale with plain HTTP, as another calendar app
would; our client reads them through ``sync_connection`` and the slot engine.
"""

import re
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler

import pytest
import requests
from django.core import mail
from django.urls import reverse
from icalendar import Calendar

from accounts.tests.factories import UserFactory
from conftest import RadicaleServer, serving
from mentorship.models import MentorProfile
from scheduling.booking import book_session, cancel_session, reschedule_session
from scheduling.calendars import (
    CalendarAuthError,
    CalendarError,
    CalendarTemporaryError,
    client_for,
)
from scheduling.calendars import caldav as caldav_module
from scheduling.calendars import sync as calendar_sync
from scheduling.calendars.caldav import CalDAVClient, check_server_url, connect_caldav
from scheduling.models import BusyInterval, CalendarConnection, CalendarEvent, Session
from scheduling.slots import available_slots
from scheduling.tests.factories import NEW_YORK, NOW, UID_DOMAIN, new_york_mentor, ny

PASSWORD = RadicaleServer.USERS["alice"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("uid_domain")]


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def mentee():
    return UserFactory(timezone="Europe/Berlin")


@pytest.fixture
def connection(mentor, radicale, radicale_calendar):
    return CalendarConnection.objects.create(
        mentor=mentor,
        provider=CalendarConnection.Provider.CALDAV,
        account="alice",
        caldav_url=f"{radicale.url}/",
        caldav_username="alice",
        caldav_password=PASSWORD,
        busy_calendars=[radicale_calendar],
        target_calendar=radicale_calendar,
    )


# --- Helpers ------------------------------------------------------------------------


def put_raw(calendar_url: str, body: str, name: str | None = None) -> str:
    """Write an event into Radicale as another calendar app would; its URL."""
    url = f"{calendar_url}{name or uuid.uuid4().hex}.ics"
    response = requests.put(
        url,
        data=body.replace("\n", "\r\n").encode(),
        headers={"Content-Type": "text/calendar; charset=utf-8"},
        auth=("alice", PASSWORD),
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return url


def get_raw(url: str) -> requests.Response:
    return requests.get(url, auth=("alice", PASSWORD), timeout=10)


def resources(calendar_url: str) -> list[str]:
    """The paths of the calendar objects in a collection."""
    response = requests.request(
        "PROPFIND",
        calendar_url,
        headers={"Depth": "1"},
        data=b'<?xml version="1.0"?><propfind xmlns="DAV:"><prop><getetag/></prop></propfind>',
        auth=("alice", PASSWORD),
        timeout=10,
    )
    assert response.status_code == 207
    return sorted(
        href for href in re.findall(r"<href>([^<]+)</href>", response.text) if href.endswith(".ics")
    )


def vevent(uid: str, lines: str) -> str:
    return (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Other app//EN\n"
        f"BEGIN:VEVENT\nUID:{uid}\nDTSTAMP:20260501T000000Z\n{lines.strip()}\nEND:VEVENT\n"
        "END:VCALENDAR\n"
    )


BERLIN_ZONE = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""


def slot_times(mentor, day: date) -> list[str]:
    """The mentor's bookable intro-call starts on ``day``, as New York HH:MM."""
    mentor = MentorProfile.objects.select_related("user").get(pk=mentor.pk)
    intro = mentor.session_types.get(slug="intro-call")
    start = ny(day.year, day.month, day.day, 0)
    slots = available_slots(mentor, intro, start, start + timedelta(days=1), now=NOW)
    return [slot.start.astimezone(NEW_YORK).strftime("%H:%M") for slot in slots]


def book(mentor, mentee, start, django_capture_on_commit_callbacks) -> Session:
    intro = mentor.session_types.get(slug="intro-call")
    with django_capture_on_commit_callbacks(execute=True):
        session = book_session(
            mentee_user=mentee, mentor=mentor, session_type=intro, start=start, now=NOW
        )
    return session


def read_event(url: str):
    response = get_raw(url)
    assert response.status_code == 200, response.status_code
    calendar = Calendar.from_ical(response.content)
    [event] = calendar.walk("VEVENT")
    return calendar, event, response


# --- Discovery ----------------------------------------------------------------------


def test_discovers_the_calendars_from_the_server_address(connection, radicale_calendar):
    calendars = client_for(connection).list_calendars()

    work = next(calendar for calendar in calendars if calendar.id == radicale_calendar)
    assert work.name == "Work"
    assert work.writable


def test_a_calendar_address_lists_that_calendar_only(connection, radicale_calendar):
    connection.caldav_url = radicale_calendar

    assert [calendar.id for calendar in client_for(connection).list_calendars()] == [
        radicale_calendar
    ]


def test_an_address_without_calendars_falls_back_to_the_well_known_one(
    connection, radicale, radicale_calendar
):
    connection.caldav_url = f"{radicale.url}/alice/no-such-calendar/"

    ids = [calendar.id for calendar in client_for(connection).list_calendars()]

    assert radicale_calendar in ids


# --- Busy times ---------------------------------------------------------------------


def test_events_in_the_calendar_remove_the_slots_they_cover(connection, radicale_calendar, mentor):
    tuesday, wednesday, thursday, friday = (date(2026, 6, day) for day in (2, 3, 4, 5))
    monday_8, wednesday_10 = date(2026, 6, 8), date(2026, 6, 10)
    everything = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    for day in (tuesday, wednesday, thursday, friday, monday_8, wednesday_10):
        assert slot_times(mentor, day) == everything
    # 15:00-16:00 in Berlin (CEST) is 09:00-10:00 in New York.
    put_raw(
        radicale_calendar,
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Other app//EN\n"
        + BERLIN_ZONE
        + "BEGIN:VEVENT\nUID:berlin-call\nDTSTAMP:20260501T000000Z\n"
        "DTSTART;TZID=Europe/Berlin:20260602T150000\nDTEND;TZID=Europe/Berlin:20260602T160000\n"
        "SUMMARY:Call with Berlin\nEND:VEVENT\nEND:VCALENDAR\n",
    )
    # Every Wednesday 10:00-11:00 New York time since May (UTC in the file).
    put_raw(
        radicale_calendar,
        vevent(
            "weekly-standup",
            "DTSTART:20260506T140000Z\nDTEND:20260506T150000Z\nRRULE:FREQ=WEEKLY;BYDAY=WE",
        ),
    )
    # Free and cancelled events do not block anything.
    put_raw(
        radicale_calendar,
        vevent(
            "free",
            "DTSTART:20260604T130000Z\nDTEND:20260604T160000Z\nTRANSP:TRANSPARENT",
        ),
    )
    put_raw(
        radicale_calendar,
        vevent("cancelled", "DTSTART:20260605T130000Z\nDTEND:20260605T160000Z\nSTATUS:CANCELLED"),
    )
    # An all-day event takes the whole day where the mentor lives.
    put_raw(radicale_calendar, vevent("holiday", "DTSTART;VALUE=DATE:20260608"))

    stored = calendar_sync.sync_connection(connection.pk, now=NOW)

    assert slot_times(mentor, tuesday) == ["10:00", "10:30", "11:00", "11:30"]
    assert slot_times(mentor, wednesday) == ["09:00", "09:30", "11:00", "11:30"]
    assert slot_times(mentor, wednesday_10) == ["09:00", "09:30", "11:00", "11:30"]
    assert slot_times(mentor, thursday) == everything
    assert slot_times(mentor, friday) == everything
    assert slot_times(mentor, monday_8) == []
    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.ACTIVE
    assert connection.last_synced_at == NOW
    assert stored == BusyInterval.objects.filter(connection=connection).count()
    assert BusyInterval.objects.filter(
        connection=connection,
        start=datetime(2026, 6, 2, 13, tzinfo=UTC),
        end=datetime(2026, 6, 2, 14, tzinfo=UTC),
    ).exists()
    # Midnight to midnight in New York.
    assert BusyInterval.objects.filter(
        connection=connection,
        start=datetime(2026, 6, 8, 4, tzinfo=UTC),
        end=datetime(2026, 6, 9, 4, tzinfo=UTC),
    ).exists()


def test_a_sync_replaces_the_previous_busy_times(connection, radicale_calendar, mentor):
    url = put_raw(radicale_calendar, vevent("gone-soon", "DTSTART:20260602T130000Z\nDURATION:PT1H"))
    calendar_sync.sync_connection(connection.pk, now=NOW)
    assert "09:00" not in slot_times(mentor, date(2026, 6, 2))

    assert requests.delete(url, auth=("alice", PASSWORD), timeout=10).status_code in (200, 204)
    calendar_sync.sync_connection(connection.pk, now=NOW)

    assert "09:00" in slot_times(mentor, date(2026, 6, 2))
    assert not BusyInterval.objects.filter(connection=connection).exists()


# --- Sessions written to the calendar ----------------------------------------------


def test_a_booking_appears_in_the_target_calendar(
    connection, radicale_calendar, mentor, mentee, django_capture_on_commit_callbacks
):
    session = book(mentor, mentee, ny(2026, 6, 3, 9), django_capture_on_commit_callbacks)

    url = f"{radicale_calendar}{session.ical_uid}.ics"
    calendar, event, response = read_event(url)
    assert "METHOD" not in calendar
    assert str(event["UID"]) == f"{session.ical_uid}@{UID_DOMAIN}"
    assert event.decoded("DTSTART") == session.start
    assert event.decoded("DTEND") == session.end
    assert session.meeting_url
    assert str(event["URL"]) == session.meeting_url
    assert session.meeting_url in str(event["DESCRIPTION"])
    # No attendees: the mentor's server must not send invitations of its own.
    assert "ATTENDEE" not in event
    assert "ORGANIZER" not in event
    record = CalendarEvent.objects.get(connection=connection, ical_uid=session.ical_uid)
    assert record.etag == response.headers["ETag"]
    assert not record.is_deleted
    assert len(resources(radicale_calendar)) == 1


def test_a_cancellation_removes_the_event(
    connection, radicale_calendar, mentor, mentee, django_capture_on_commit_callbacks
):
    session = book(mentor, mentee, ny(2026, 6, 3, 9), django_capture_on_commit_callbacks)
    url = f"{radicale_calendar}{session.ical_uid}.ics"
    assert get_raw(url).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session=session, by=mentor.user, reason="Travelling", now=NOW)

    assert get_raw(url).status_code == 404
    assert resources(radicale_calendar) == []
    assert CalendarEvent.objects.get(connection=connection, ical_uid=session.ical_uid).is_deleted
    # Deleting again (a retried task) is fine.
    client_for(connection).delete_event(radicale_calendar, event_id=session.ical_uid)


def test_a_reschedule_moves_the_same_event(
    connection, radicale_calendar, mentor, mentee, django_capture_on_commit_callbacks
):
    session = book(mentor, mentee, ny(2026, 6, 3, 9), django_capture_on_commit_callbacks)
    url = f"{radicale_calendar}{session.ical_uid}.ics"
    _calendar, before, _response = read_event(url)

    with django_capture_on_commit_callbacks(execute=True):
        moved = reschedule_session(session=session, by=mentee, start=ny(2026, 6, 4, 10), now=NOW)

    _calendar, after, _response = read_event(url)
    assert len(resources(radicale_calendar)) == 1
    assert str(after["UID"]) == str(before["UID"])
    assert after.decoded("DTSTART") == moved.start == datetime(2026, 6, 4, 14, tzinfo=UTC)
    assert after.decoded("SEQUENCE") > before.decoded("SEQUENCE")


def test_a_reconnect_updates_the_event_instead_of_adding_one(
    connection, radicale, radicale_calendar, mentor, mentee, django_capture_on_commit_callbacks
):
    session = book(mentor, mentee, ny(2026, 6, 3, 9), django_capture_on_commit_callbacks)
    assert len(resources(radicale_calendar)) == 1

    calendar_sync.disconnect(connection=connection)
    again = connect_caldav(
        mentor=mentor, url=f"{radicale.url}/", username="alice", password=PASSWORD
    )
    again.busy_calendars, again.target_calendar = [radicale_calendar], radicale_calendar
    again.save()
    assert calendar_sync.push_session(session.pk) == 1
    assert calendar_sync.push_session(session.pk) == 1  # a retried task

    assert resources(radicale_calendar) == [
        f"/alice/{radicale_calendar.rstrip('/').rsplit('/', 1)[1]}/{session.ical_uid}.ics"
    ]


def test_an_invitation_already_filed_under_another_name_is_updated_not_copied(
    connection, radicale_calendar, mentor, mentee, django_capture_on_commit_callbacks
):
    """The mentor's mail app filed our emailed invitation (same UID) in the
    target calendar before the push: Radicale refuses a second object with
    that UID, so the push updates the filed one, and a cancellation removes it."""
    intro = mentor.session_types.get(slug="intro-call")
    # Booked without running the push, as if the email arrived first.
    session = book_session(
        mentee_user=mentee, mentor=mentor, session_type=intro, start=ny(2026, 6, 3, 9), now=NOW
    )
    from scheduling.notifications.ics import session_calendar

    filed = put_raw(
        radicale_calendar,
        session_calendar(session, method=None).decode().replace("\r\n", "\n"),
        name="imported-invitation",
    )

    assert calendar_sync.push_session(session.pk) == 1

    assert len(resources(radicale_calendar)) == 1
    _calendar, event, _response = read_event(filed)
    assert "ATTENDEE" not in event  # our version replaced it
    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session=session, by=mentor.user, now=NOW)
    assert resources(radicale_calendar) == []


def test_our_own_events_in_a_busy_calendar_do_not_block_twice(
    connection, radicale_calendar, mentor, mentee, django_capture_on_commit_callbacks
):
    session = book(mentor, mentee, ny(2026, 6, 3, 9), django_capture_on_commit_callbacks)

    calendar_sync.sync_connection(connection.pk, now=NOW)

    assert not BusyInterval.objects.filter(connection=connection).exists()
    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session=session, by=mentor.user, now=NOW)
    assert "09:00" in slot_times(mentor, date(2026, 6, 3))


# --- Failures -----------------------------------------------------------------------


def test_a_wrong_password_asks_the_mentor_to_reconnect(
    connection, mentor, django_capture_on_commit_callbacks
):
    connection.caldav_password = "not-the-password"
    connection.save()

    with pytest.raises(CalendarAuthError) as raised:
        client_for(connection).list_calendars()
    assert "not-the-password" not in str(raised.value)
    with django_capture_on_commit_callbacks(execute=True):
        assert calendar_sync.sync_connection(connection.pk, now=NOW) == 0

    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.NEEDS_REAUTH
    assert "app password" in connection.last_error
    assert "not-the-password" not in connection.last_error
    [email] = mail.outbox
    assert email.to == [mentor.user.email]
    assert "Reconnect" in email.subject
    assert "not-the-password" not in email.body


def test_a_wrong_password_stops_pushes_until_reconnected(
    connection, mentor, mentee, radicale_calendar, django_capture_on_commit_callbacks
):
    connection.caldav_password = "not-the-password"
    connection.save()

    session = book(mentor, mentee, ny(2026, 6, 3, 9), django_capture_on_commit_callbacks)

    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.NEEDS_REAUTH
    assert resources(radicale_calendar) == []
    assert calendar_sync.stale_sessions(now=NOW) == []  # nothing is tried meanwhile

    connect_caldav(mentor=mentor, url=connection.caldav_url, username="alice", password=PASSWORD)

    # The periodic reconcile catches up with what was missed.
    assert calendar_sync.stale_sessions(now=NOW) == [session.pk]
    assert calendar_sync.push_session(session.pk) == 1
    assert len(resources(radicale_calendar)) == 1


def test_a_stopped_server_is_a_temporary_error(connection, mentor, tmp_path):
    server = RadicaleServer(tmp_path)
    server.start()
    calendar_url = server.make_calendar("alice")
    server.stop()
    connection.caldav_url = calendar_url
    connection.busy_calendars = [calendar_url]
    connection.save()

    with pytest.raises(CalendarTemporaryError):
        client_for(connection).busy_times([calendar_url], NOW, NOW + timedelta(days=1))
    with pytest.raises(CalendarTemporaryError):
        calendar_sync.sync_connection(connection.pk, now=NOW)
    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.ACTIVE  # retried, not flagged


def test_a_calendar_deleted_on_the_server_is_reported_in_plain_words(connection, radicale_calendar):
    requests.delete(radicale_calendar, auth=("alice", PASSWORD), timeout=10)

    assert calendar_sync.sync_connection(connection.pk, now=NOW) == 0

    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.ERROR
    assert "no longer exists" in connection.last_error


def test_a_target_calendar_deleted_on_the_server_is_reported_in_plain_words(
    connection, radicale_calendar, mentor, mentee, django_capture_on_commit_callbacks
):
    requests.delete(radicale_calendar, auth=("alice", PASSWORD), timeout=10)

    book(mentor, mentee, ny(2026, 6, 3, 9), django_capture_on_commit_callbacks)

    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.ERROR
    assert "receive sessions no longer exists" in connection.last_error


class Answers(BaseHTTPRequestHandler):
    """A server that answers every request with ``status`` (and a Retry-After),
    or not at all when ``status`` is None."""

    status: int | None = 503

    def do_any(self):
        if self.status is None:
            threading.Event().wait(3)
            return
        self.send_response(self.status)
        self.send_header("Retry-After", "120")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PROPFIND = do_REPORT = do_PUT = do_DELETE = do_GET = do_any

    def log_message(self, *args):
        pass


@pytest.fixture
def answering(settings):
    settings.CALDAV_ALLOW_LOCAL_HTTP = True
    with serving(Answers) as server:
        yield server


@pytest.mark.parametrize("status", [429, 500, 503])
def test_busy_and_failing_servers_are_temporary_with_their_hint(
    answering, mentor, status, monkeypatch
):
    monkeypatch.setattr(Answers, "status", status)
    url = f"http://127.0.0.1:{answering.server_address[1]}/calendar/"
    connection = CalendarConnection(
        mentor=mentor, provider="caldav", caldav_url=url, caldav_username="a", caldav_password="b"
    )

    with pytest.raises(CalendarTemporaryError) as raised:
        CalDAVClient(connection).busy_times([url], NOW, NOW + timedelta(days=1))

    assert raised.value.retry_after == 120


def test_a_server_that_does_not_answer_times_out(answering, mentor, monkeypatch):
    monkeypatch.setattr(Answers, "status", None)
    monkeypatch.setattr(caldav_module, "TIMEOUT", 0.3)
    url = f"http://127.0.0.1:{answering.server_address[1]}/calendar/"
    connection = CalendarConnection(
        mentor=mentor, provider="caldav", caldav_url=url, caldav_username="a", caldav_password="b"
    )

    with pytest.raises(CalendarTemporaryError):
        CalDAVClient(connection).list_calendars()


@pytest.mark.parametrize(
    "url",
    [
        "http://caldav.example.com/",  # the password would travel in clear
        "https://10.1.2.3/dav/",  # a private network
        "https://169.254.169.254/latest/",  # cloud metadata
        "https://127.0.0.1:5232/",  # loopback, outside development
        "https://user:secret@caldav.example.com/",
        "javascript:alert(1)",
    ],
)
def test_addresses_the_server_must_not_call_are_refused(settings, url):
    settings.DEBUG = False
    settings.CALDAV_ALLOW_LOCAL_HTTP = False

    with pytest.raises(CalendarError) as raised:
        check_server_url(url)

    assert not isinstance(raised.value, CalendarTemporaryError)
    assert "secret" not in str(raised.value)


# --- Connect and choose over HTTP ---------------------------------------------------


def test_connect_and_choose_end_to_end(
    client, mentor, radicale, radicale_calendar, django_capture_on_commit_callbacks
):
    put_raw(radicale_calendar, vevent("dentist", "DTSTART:20260602T130000Z\nDURATION:PT1H"))
    client.force_login(mentor.user)
    connect_url = reverse("scheduling:calendar_caldav_connect")
    settings_page = client.get(reverse("scheduling:calendar_settings"))
    assert connect_url in settings_page.text
    # No Google client in tests: the page says Google is not available here.
    assert reverse("scheduling:calendar_google_connect") not in settings_page.text
    assert 'id="google-unavailable"' in settings_page.text
    assert client.get(connect_url).status_code == 200

    refused = client.post(
        connect_url, {"url": f"{radicale.url}/", "username": "alice", "password": "wrong"}
    )
    assert refused.status_code == 200
    assert "refused this user name or app password" in refused.text
    assert 'value="wrong"' not in refused.text  # a password is never shown back
    assert not CalendarConnection.objects.exists()

    connected = client.post(
        connect_url, {"url": f"{radicale.url}/", "username": "alice", "password": PASSWORD}
    )
    connection = CalendarConnection.objects.get(mentor=mentor)
    choose_url = reverse("scheduling:calendar_choose", kwargs={"connection_id": connection.pk})
    assert connected.status_code == 302
    assert connected.url == choose_url
    assert connection.caldav_password == PASSWORD
    assert connection.account == "alice at 127.0.0.1"

    page = client.get(choose_url)
    assert page.status_code == 200
    assert f'value="{radicale_calendar}"' in page.text
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(choose_url, {"busy": [radicale_calendar], "target": radicale_calendar})
    assert saved.status_code == 302
    assert saved.url == reverse("scheduling:calendar_settings")

    connection.refresh_from_db()
    assert connection.busy_calendars == [radicale_calendar]
    assert connection.target_calendar == radicale_calendar
    # The sync ran (Celery is eager in tests): the dentist blocks Tuesday 09:00.
    assert connection.last_synced_at == NOW
    assert "09:00" not in slot_times(mentor, date(2026, 6, 2))
    settings_page = client.get(reverse("scheduling:calendar_settings"))
    assert choose_url in settings_page.text


def test_connecting_again_updates_the_one_connection(client, mentor, radicale, radicale_calendar):
    client.force_login(mentor.user)
    connect_url = reverse("scheduling:calendar_caldav_connect")
    data = {"url": f"{radicale.url}/", "username": "alice", "password": PASSWORD}
    client.post(connect_url, data)
    first = CalendarConnection.objects.get(mentor=mentor)
    CalendarConnection.objects.filter(pk=first.pk).update(
        status=CalendarConnection.Status.NEEDS_REAUTH,
        busy_calendars=[radicale_calendar, f"{radicale.url}/alice/deleted/"],
        target_calendar=radicale_calendar,
    )

    client.post(connect_url, data)

    again = CalendarConnection.objects.get(mentor=mentor)
    assert again.pk == first.pk
    assert again.status == CalendarConnection.Status.ACTIVE
    assert again.busy_calendars == [radicale_calendar]  # the deleted one is dropped
    assert again.target_calendar == radicale_calendar


def test_choose_refuses_a_calendar_that_is_not_the_accounts(
    client, connection, radicale, radicale_calendar
):
    client.force_login(connection.mentor.user)
    elsewhere = "https://attacker.example.com/calendar/"

    response = client.post(
        reverse("scheduling:calendar_choose", kwargs={"connection_id": connection.pk}),
        {"busy": [elsewhere], "target": elsewhere},
    )

    assert response.status_code == 200
    connection.refresh_from_db()
    assert connection.target_calendar == radicale_calendar


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("javascript:alert(1)", "Enter a valid URL"),
        ("http://caldav.example.com/", "https://"),
        ("https://alice:pw@caldav.example.com/", "own boxes"),
    ],
)
def test_the_connect_form_refuses_bad_addresses(client, mentor, url, message):
    client.force_login(mentor.user)

    response = client.post(
        reverse("scheduling:calendar_caldav_connect"),
        {"url": url, "username": "alice", "password": "x"},
    )

    assert response.status_code == 200
    assert message in response.text
    assert not CalendarConnection.objects.exists()


def test_the_pages_are_the_owners_only(client, connection):
    choose_url = reverse("scheduling:calendar_choose", kwargs={"connection_id": connection.pk})
    connect_url = reverse("scheduling:calendar_caldav_connect")

    for url in (connect_url, choose_url):  # anonymous: to the login page
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))

    client.force_login(new_york_mentor(starting=NOW.date()).user)  # another mentor
    assert client.get(choose_url).status_code == 404
    assert client.post(choose_url, {"target": ""}).status_code == 404

    client.force_login(UserFactory())  # not a mentor
    response = client.get(connect_url)
    assert response.status_code == 302
    assert response.url == reverse("mentorship:become_mentor")
    assert client.get(choose_url).status_code == 404
    connection.refresh_from_db()
    assert connection.target_calendar


# --- The request guard: redirects, DNS rebinding, size ------------------------------


class Guarded(BaseHTTPRequestHandler):
    """Answers with ``reply(handler)`` and counts the requests it received."""

    requests_seen = 0
    reply = None

    def do_any(self):
        type(self).requests_seen += 1
        # Read the request first: closing with it unread would reset the connection.
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.reply()

    do_PROPFIND = do_REPORT = do_any

    def log_message(self, *args):
        pass


@pytest.fixture
def guarded(settings):
    settings.CALDAV_ALLOW_LOCAL_HTTP = True
    Guarded.requests_seen = 0
    with serving(Guarded) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/calendar/"
        yield CalendarConnection(
            provider="caldav", caldav_url=url, caldav_username="a", caldav_password="b"
        )


def test_a_redirect_into_a_private_network_is_not_followed(guarded, monkeypatch):
    def redirect(handler):
        handler.send_response(301)
        handler.send_header("Location", "https://169.254.169.254/latest/meta-data/")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    monkeypatch.setattr(Guarded, "reply", redirect)

    with pytest.raises(CalendarError) as raised:
        CalDAVClient(guarded).list_calendars()

    assert not isinstance(raised.value, CalendarTemporaryError)
    assert "private network" in str(raised.value)


def test_a_name_that_turns_private_when_connecting_is_refused(guarded, settings, monkeypatch):
    # DNS rebinding: the name looked public when checked, and resolves to
    # this machine when the connection is opened.
    settings.DEBUG = False
    settings.CALDAV_ALLOW_LOCAL_HTTP = False
    monkeypatch.setattr(caldav_module, "check_server_url", lambda url: None)

    with pytest.raises(CalendarError) as raised:
        CalDAVClient(guarded).list_calendars()

    assert not isinstance(raised.value, CalendarTemporaryError)
    assert "private network" in str(raised.value)
    assert Guarded.requests_seen == 0


def test_an_answer_larger_than_the_cap_is_refused(guarded, monkeypatch):
    monkeypatch.setattr(caldav_module, "MAX_RESPONSE_BYTES", 64 * 1024)

    def flood(handler):
        handler.send_response(207)
        handler.send_header("Content-Type", "application/xml")
        handler.end_headers()
        chunk = b"<x>" + b"y" * 16 * 1024 + b"</x>"
        try:
            for _ in range(64):  # 1 MB
                handler.wfile.write(chunk)
        except OSError:
            pass  # the client stopped reading: what we want

    monkeypatch.setattr(Guarded, "reply", flood)

    with pytest.raises(CalendarError) as raised:
        CalDAVClient(guarded).list_calendars()

    assert "more data than we accept" in str(raised.value)
