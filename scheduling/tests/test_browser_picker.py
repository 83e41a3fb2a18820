"""The slot picker in a real browser: a visitor in Asia/Kolkata books from a
mentor in New York, switching type and week with htmx."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from conftest import new_page, shoot, watch_browser_problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Thursday 26 November 2026, 12:00 UTC (the live server runs in this process).
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    """Frozen in every thread, the live server's too."""
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def page_zone():
    """The ``page`` fixture's browser is in Kolkata."""
    return "Asia/Kolkata"


def test_a_visitor_in_kolkata_picks_a_time(page, mentor):
    problems = watch_browser_problems(page)

    page.goto(f"/mentors/{mentor.slug}/")
    # The booking card's button (its label depends on the times it lists).
    page.locator(f'aside a[href="/mentors/{mentor.slug}/book/"]').first.click()
    page.wait_for_url(re.compile(rf"/mentors/{mentor.slug}/book/"))

    # The browser's zone (sent as the tz cookie) is the default. Chromium names
    # it by its legacy alias, Asia/Calcutta: the same zone.
    days = page.locator("#picker-days")
    assert re.search(r"Times are in Asia/(Kolkata|Calcutta) \(UTC\+05:30\)", days.inner_text())
    assert page.locator("#picker-tz").input_value() in ("Asia/Kolkata", "Asia/Calcutta")
    thursday_first = page.locator('time[datetime="2026-11-26T14:00:00Z"]')
    assert thursday_first.inner_text() == "19:30"
    assert page.locator("#picker-days time").count() == 12  # Thu + Fri, 6 half-hours each

    # htmx swaps only the days: a marker on the window survives.
    page.evaluate("window.pickerMarker = 'kept'")

    page.get_by_label("Mentoring session").check()
    page.wait_for_url(re.compile(r"type=mentoring-session"))
    days.get_by_text("Mentoring session · 60 min").wait_for()
    assert page.locator("#picker-days time").count() == 6  # hourly now

    page.get_by_role("link", name="Next week →").click()
    page.wait_for_url(re.compile(r"week=2026-11-30"))
    days.get_by_text("Week of 30 November – 6 December 2026").wait_for()
    assert page.locator("#picker-days time").count() == 15  # 5 days x 3 hours
    assert page.locator('time[datetime="2026-11-30T14:00:00Z"]').inner_text() == "19:30"
    assert "type=mentoring-session" in page.url

    # Choosing a time highlights it and shows the booking form.
    page.get_by_role("link", name="20:30 IST on Tuesday 1 December").click()
    page.wait_for_url(re.compile(r"start=2026-12-01T15%3A00%3A00Z"))
    chosen = page.locator("#picker-chosen")
    chosen.wait_for()
    assert "Tuesday 1 December 2026, 20:30–21:30 IST" in chosen.inner_text()
    assert page.get_by_role("button", name="Book this time").is_enabled()
    assert page.evaluate("window.pickerMarker") == "kept"
    # Focus is on the topic, and screen readers hear the choice (issue 16, item 5).
    expect(page.locator("#picker-topic")).to_be_focused()
    expect(page.locator("#picker-announce")).to_have_text(
        "Chosen: Tuesday 1 December, 20:30. Add a topic, then book."
    )

    # Changing the zone keeps the week and type.
    page.get_by_text("Time zone:").click()  # the zone field is folded away
    page.locator("#picker-tz").fill("Europe/London")
    page.locator("#picker-tz").press("Enter")
    page.wait_for_url(re.compile(r"tz=Europe%2FLondon"))
    days.get_by_text("Times are in Europe/London").wait_for()
    assert page.locator('time[datetime="2026-11-30T14:00:00Z"]').inner_text() == "14:00"
    assert "week=2026-11-30" in page.url

    # Back to Kolkata for the screenshot, with a time chosen.
    page.goto(
        f"/mentors/{mentor.slug}/book/?type=intro-call&tz=Asia%2FKolkata&week=2026-11-30"
        "&start=2026-12-01T15%3A00%3A00Z"
    )
    shoot(page, "slot-picker")
    assert problems == []


def test_the_picker_works_without_javascript(browser, live_server, mentor):
    context, page = new_page(browser, live_server, "Asia/Kolkata", java_script_enabled=False)
    try:
        page.goto(f"/mentors/{mentor.slug}/book/?tz=Asia%2FKolkata")
        page.get_by_label("Mentoring session").check()
        page.get_by_role("button", name="Show times").click()
        page.wait_for_url(re.compile(r"type=mentoring-session"))
        assert page.locator("#picker-days time").count() == 6
        page.get_by_role("link", name="Next week →").click()
        page.wait_for_url(re.compile(r"week=2026-11-30"))
        assert page.locator('time[datetime="2026-11-30T14:00:00Z"]').inner_text() == "19:30"
    finally:
        context.close()


def test_a_shared_booking_link_opened_first_shows_the_visitors_zone(page, mentor):
    """The very first page a browser asks for is rendered before the server
    knows its zone (UTC); timezone.js reloads it once in the visitor's zone,
    so the times offered are never in the wrong one."""
    problems = watch_browser_problems(page)

    page.goto(f"/mentors/{mentor.slug}/book/?week=2026-11-30")

    expect(page.locator("#picker-zone")).to_contain_text("Asia/Kolkata")
    expect(page.get_by_role("link", name="19:30 IST on Monday 30 November")).to_be_visible()
    assert page.evaluate("document.documentElement.dataset.timezoneSource") == "cookie"
    assert problems == []


def test_the_reload_happens_once_even_without_cookies(browser, live_server, mentor):
    """A browser that refuses cookies gets UTC, clearly labelled, and no reload loop."""
    context = browser.new_context(base_url=live_server.url, timezone_id="Asia/Kolkata")
    try:
        page = context.new_page()
        page.add_init_script(
            "Object.defineProperty(document, 'cookie', {get: () => '', set: () => {}})"
        )
        navigations = []
        page.on("framenavigated", lambda frame: navigations.append(frame.url))
        page.goto(f"/mentors/{mentor.slug}/book/?week=2026-11-30")
        page.wait_for_timeout(500)
        expect(page.locator("#picker-zone")).to_contain_text("UTC")
        assert len(navigations) == 1
    finally:
        context.close()
