"""The calendar feed page in Chromium: create the link, copy it with the
button (static/js/copy.js under the site's CSP), fetch it as a calendar app
would, reset it and see the old link die."""

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from conftest import log_in, shoot, watch_browser_problems
from mentorship.tests.factories import MenteeProfileFactory, MentorProfileFactory
from scheduling.models import CalendarFeed
from scheduling.tests.factories import SessionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday


def test_create_copy_fetch_and_reset_the_feed_link(page, live_server, settings, time_machine):
    time_machine.move_to(NOW, tick=False)  # in every thread, the live server's too
    # The page builds the link from SITE_URL: make it the live server's.
    settings.SITE_URL = live_server.url
    mentee_user = UserFactory(name="Theo Mentee", timezone="Europe/Berlin")
    session = SessionFactory(
        mentor=MentorProfileFactory(user=UserFactory(name="Maya Mentor")),
        mentee=MenteeProfileFactory(user=mentee_user),
        title="Intro call",
        start=NOW + timedelta(days=4, hours=2),
        meeting_url="https://meet.example.com/theo-and-maya",
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    problems = watch_browser_problems(page)

    log_in(page, mentee_user.email)
    page.goto("/calendar/feed/")
    expect(page.get_by_role("heading", name="Calendar feed")).to_be_visible()
    page.get_by_role("button", name="Create my feed link").click()
    expect(page.get_by_text("Your calendar feed link is ready")).to_be_visible()

    token = CalendarFeed.objects.get(user=mentee_user).token
    url = f"{live_server.url}/calendar/{token}.ics"
    expect(page.locator("#feed-url")).to_have_value(url)
    webcal = page.get_by_role("link", name="Open in my calendar app")
    expect(webcal).to_have_attribute("href", "webcal://" + url.split("://", 1)[1])

    # The button is shown only once copy.js runs (the CSP allows no inline script).
    copy = page.get_by_role("button", name="Copy link")
    copy.click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    expect(page.locator("#feed-url-status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == url
    shoot(page, "calendar-feed")

    # Fetched as a calendar app would (the view reads no sign-in: the token is the key).
    response = page.request.get(url)
    assert response.status == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    events = Calendar.from_ical(response.body()).walk("VEVENT")
    assert [str(event["SUMMARY"]) for event in events] == ["Intro call: Maya Mentor & Theo Mentee"]
    assert str(events[0]["UID"]).startswith(session.ical_uid + "@")

    page.get_by_role("button", name="Reset link").click()
    expect(page.get_by_text("The old link no longer works")).to_be_visible()
    new_token = CalendarFeed.objects.get(user=mentee_user).token
    assert new_token != token
    expect(page.locator("#feed-url")).to_have_value(f"{live_server.url}/calendar/{new_token}.ics")
    assert page.request.get(url).status == 404
    assert page.request.get(f"{live_server.url}/calendar/{new_token}.ics").status == 200
    shoot(page, "calendar-feed-reset")

    page.get_by_role("button", name="Turn off").click()
    expect(page.get_by_text("Your calendar feed is turned off")).to_be_visible()
    expect(page.get_by_role("button", name="Create my feed link")).to_be_visible()
    assert page.request.get(f"{live_server.url}/calendar/{new_token}.ics").status == 404
    shoot(page, "calendar-feed-off")
    assert problems == []
