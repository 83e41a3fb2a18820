"""Connecting a CalDAV calendar in Chromium, against a real Radicale server
(root ``conftest.py``): a mentor in New York types a wrong app password, then
the right one, chooses the calendar, and sees it connected and synced; an
event already in that calendar hides its time from the picker, a session
booked through the picker lands in the calendar, and disconnecting empties
the page again."""

import re
import uuid
from datetime import UTC, date, datetime

import pytest
import requests
from icalendar import Calendar
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from conftest import RadicaleServer, log_in, new_page, shoot, watch_browser_problems
from scheduling.models import BusyInterval, CalendarConnection, Session
from scheduling.tests.factories import new_york_mentor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Monday 1 June 2026, 08:00 in New York (EDT, UTC-4); the live server runs in
# this process, so the frozen clock is the views' clock too.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PASSWORD = RadicaleServer.USERS["alice"]
UID_DOMAIN = "sessions.example.org"
# Tuesday 2 June in New York: 09:00, 10:00 and 11:00 EDT in UTC.
NINE, TEN, HALF_TEN, ELEVEN = (
    f"2026-06-02T{hour}Z" for hour in ("13:00:00", "14:00:00", "14:30:00", "15:00:00")
)


def put_event(calendar_url: str, uid: str, lines: str) -> None:
    """Write an event into Radicale as another calendar app would."""
    body = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Other app//EN\n"
        f"BEGIN:VEVENT\nUID:{uid}\nDTSTAMP:20260501T000000Z\n{lines}\nEND:VEVENT\n"
        "END:VCALENDAR\n"
    )
    response = requests.put(
        f"{calendar_url}{uid}.ics",
        data=body.replace("\n", "\r\n").encode(),
        headers={"Content-Type": "text/calendar; charset=utf-8"},
        auth=("alice", PASSWORD),
        timeout=10,
    )
    assert response.status_code == 201, response.text


def test_mentor_connects_a_caldav_calendar_that_blocks_and_receives_sessions(
    browser, live_server, radicale, radicale_calendar, settings, time_machine
):
    time_machine.move_to(NOW, tick=False)
    settings.ICAL_UID_DOMAIN = UID_DOMAIN
    mentor = new_york_mentor(starting=date(2026, 6, 1))
    mentee_user = UserFactory(name="Theo Mentee", timezone="America/New_York")
    # The dentist, Tuesday 10:00-11:00 New York time, written by another app.
    put_event(
        radicale_calendar,
        f"dentist-{uuid.uuid4().hex[:8]}",
        "SUMMARY:Dentist\nDTSTART:20260602T140000Z\nDTEND:20260602T150000Z",
    )

    mentor_context, page = new_page(
        browser, live_server, "America/New_York", viewport={"width": 1280, "height": 900}
    )
    visitor_context, visitor = new_page(
        browser, live_server, "America/New_York", viewport={"width": 1280, "height": 900}
    )
    problems = watch_browser_problems(page)
    visitor_problems = watch_browser_problems(visitor)
    try:
        log_in(page, mentor.user.email)
        page.get_by_role("link", name="Dashboard").click()
        page.get_by_role("link", name="Calendars", exact=True).click()
        expect(page.locator("#calendars-empty")).to_have_text("No calendar connected yet.")
        page.get_by_role("link", name="Connect a CalDAV calendar").click()
        expect(page.get_by_role("heading", name="Connect a CalDAV calendar")).to_be_visible()

        # A wrong app password: the plain error, the address and user name
        # kept, the password not shown back, nothing saved.
        page.get_by_label("Server address").fill(f"{radicale.url}/")
        page.get_by_label("User name").fill("alice")
        page.get_by_label("App password").fill("not-the-password")
        page.get_by_role("button", name="Connect", exact=True).click()
        expect(page.locator("#connect-error")).to_have_text(
            "The server refused this user name or app password. Check them, or create a new "
            "app password at your provider and try again."
        )
        expect(page.get_by_label("Server address")).to_have_value(f"{radicale.url}/")
        expect(page.get_by_label("User name")).to_have_value("alice")
        expect(page.get_by_label("App password")).to_have_value("")
        shoot(page, "calendar-caldav-connect")
        assert not CalendarConnection.objects.exists()

        # The right one: on to choosing the calendars.
        page.get_by_label("App password").fill(PASSWORD)
        page.get_by_role("button", name="Connect", exact=True).click()
        expect(page.get_by_role("heading", name="Choose calendars")).to_be_visible()
        expect(
            page.get_by_text("Connected. Now choose the calendars Mentorship should use.")
        ).to_be_visible()
        expect(page.locator("main")).to_contain_text("CalDAV · alice at 127.0.0.1")
        connection = CalendarConnection.objects.get(mentor=mentor)
        assert connection.last_synced_at is None
        # The shared Radicale may hold other tests' calendars of alice: only
        # this one counts as busy and receives sessions.
        choices = page.locator("#calendar-choices")
        for box in choices.locator('input[name="busy"]').all():
            box.set_checked(box.get_attribute("value") == radicale_calendar)
        choices.locator(f'input[name="target"][value="{radicale_calendar}"]').check()
        expect(choices.locator(f'input[name="busy"][value="{radicale_calendar}"]')).to_be_checked()
        row = choices.locator("tr", has=page.locator(f'input[value="{radicale_calendar}"]'))
        expect(row.locator("th")).to_have_text("Work")
        shoot(page, "calendar-choose")
        page.get_by_role("button", name="Save").click()

        # Back on /calendars/: saved, connected, and synced already (Celery
        # is eager in tests, so the sync ran on save).
        expect(page).to_have_url(re.compile(r"/calendars/$"))
        expect(
            page.get_by_text(
                "Saved. Busy times are being read now, and sessions already booked are added "
                "to your calendar within a few minutes."
            )
        ).to_be_visible()
        card = page.locator("section", has=page.get_by_role("heading", name="CalDAV"))
        expect(card.locator("[data-status]")).to_have_text("Connected")
        expect(card).to_contain_text("alice at 127.0.0.1")
        expect(card).to_contain_text("Last synced 1 June 2026, 08:00 EDT.")
        expect(card).to_contain_text(
            "1 calendar counts as busy; new sessions are added to the one you chose."
        )
        expect(page.get_by_role("link", name="Connect a CalDAV calendar")).to_have_count(0)
        shoot(page, "calendar-settings-connected")
        connection.refresh_from_db()
        assert connection.busy_calendars == [radicale_calendar]
        assert connection.target_calendar == radicale_calendar
        assert connection.last_synced_at == NOW
        assert list(
            BusyInterval.objects.filter(connection=connection).values_list("start", "end")
        ) == [(datetime(2026, 6, 2, 14, tzinfo=UTC), datetime(2026, 6, 2, 15, tzinfo=UTC))]

        # A visitor sees Tuesday without the dentist's hour. (The mentor's page
        # first: its script stores the browser's zone in the tz cookie.)
        visitor.goto(f"/mentors/{mentor.slug}/")
        visitor.goto(f"/mentors/{mentor.slug}/book/?week=2026-06-01")
        tuesday = visitor.locator("#picker-days")
        expect(tuesday.locator("#picker-zone")).to_contain_text("America/New_York")
        expect(tuesday.locator(f'time[datetime="{NINE}"]')).to_have_text("09:00")
        expect(tuesday.locator(f'time[datetime="{ELEVEN}"]')).to_have_text("11:00")
        expect(tuesday.locator(f'time[datetime="{TEN}"]')).to_have_count(0)
        expect(tuesday.locator(f'time[datetime="{HALF_TEN}"]')).to_have_count(0)

        # The visitor signs in as a mentee and books Tuesday 09:00.
        log_in(visitor, mentee_user.email)
        visitor.goto(f"/mentors/{mentor.slug}/book/?week=2026-06-01")
        visitor.locator("#picker-days a", has=visitor.locator(f'time[datetime="{NINE}"]')).click()
        visitor.locator("#picker-chosen").wait_for()
        visitor.locator("#picker-topic").fill("Moving into management")
        visitor.get_by_role("button", name="Book this time").click()
        expect(visitor.get_by_text("Your session is booked.")).to_be_visible()
        session = Session.objects.get(mentee__user=mentee_user)
        assert session.start == datetime(2026, 6, 2, 13, tzinfo=UTC)

        # The push ran on commit: the session is in the Radicale calendar.
        event_url = f"{radicale_calendar}{session.ical_uid}.ics"
        response = requests.get(event_url, auth=("alice", PASSWORD), timeout=10)
        assert response.status_code == 200, response.status_code
        [event] = Calendar.from_ical(response.content).walk("VEVENT")
        assert str(event["UID"]) == f"{session.ical_uid}@{UID_DOMAIN}"
        assert event.decoded("DTSTART") == session.start
        assert event.decoded("DTEND") == session.end

        # The mentor disconnects: the message, then the empty page with the
        # ways to connect (Google is not set up in tests, and says so).
        page.reload()
        page.get_by_role("button", name="Disconnect").click()
        expect(
            page.get_by_text(
                "CalDAV is disconnected and its access was deleted. Events already in that "
                "calendar stay there; reconnecting updates them instead of adding copies."
            )
        ).to_be_visible()
        expect(page.locator("#calendars-empty")).to_have_text("No calendar connected yet.")
        expect(page.get_by_role("link", name="Connect a CalDAV calendar")).to_be_visible()
        expect(page.locator("#google-unavailable")).to_be_visible()
        assert not CalendarConnection.objects.exists()
        assert not BusyInterval.objects.filter(mentor=mentor).exists()
        # As the message says, the session's event stays in the calendar.
        assert requests.get(event_url, auth=("alice", PASSWORD), timeout=10).status_code == 200

        # Without the calendar the dentist's hour is bookable again.
        visitor.goto(f"/mentors/{mentor.slug}/book/?week=2026-06-01")
        expect(visitor.locator(f'#picker-days time[datetime="{TEN}"]')).to_have_text("10:00")
        expect(visitor.locator(f'#picker-days time[datetime="{NINE}"]')).to_have_count(0)
        assert problems == visitor_problems == []
    finally:
        visitor_context.close()
        mentor_context.close()


def test_without_google_on_the_site_the_page_offers_caldav_and_an_old_link_comes_back(
    browser, live_server, settings
):
    settings.GOOGLE_CLIENT_ID = ""
    mentor = new_york_mentor(starting=date(2026, 6, 1))
    context, page = new_page(browser, live_server, "America/New_York")
    problems = watch_browser_problems(page)
    log_in(page, mentor.user.email)
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/calendars/")
        expect(page.locator("#google-unavailable")).to_have_text(
            "Google Calendar is not set up on this site; ask the site's staff, "
            "or connect any CalDAV calendar below."
        )
        expect(page.get_by_role("link", name="Connect Google Calendar")).to_have_count(0)
        # A bookmarked connect link comes back here with a message, not an error page.
        page.goto("/calendars/google/connect/")
        expect(page).to_have_url(re.compile(r"/calendars/$"))
        expect(page.get_by_role("status")).to_contain_text("Google Calendar is not set up")
        shoot(page, f"calendars-without-google-{width}")
    assert problems == []
    context.close()
