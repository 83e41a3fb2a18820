"""The availability editor in Chromium: weekly hours copied across days, a day
off, and the live preview without that day."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from conftest import log_in
from mentorship.services import become_mentor, update_mentor_profile


@pytest.mark.browser
def test_mentor_sets_weekly_hours_and_a_day_off(
    page, screenshot, browser_problems, browser, live_server
):
    user = UserFactory(name="Maya Mentor", timezone="Europe/Berlin")
    mentor = become_mentor(user=user)
    update_mentor_profile(mentor=mentor, changes={"minimum_notice_minutes": 0}, tags=[], links={})
    today = timezone.now().astimezone(ZoneInfo("Europe/Berlin")).date()
    wednesday = today + timedelta(days=(2 - today.weekday()) % 7 or 7)

    log_in(page, user.email)
    page.goto(f"/mentors/{mentor.slug}/availability/")
    expect(page.get_by_role("heading", name="Your availability")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Europe/Berlin")
    preview = page.locator("#availability-preview")
    expect(preview).to_contain_text("No bookable times in the next 14 days")

    page.get_by_role("switch", name="Monday available").click()
    page.get_by_label("Monday, range 1: end").select_option("12:00")
    # Copy Monday to the four other weekdays: the menu ticks nothing by itself.
    page.locator("#copy-0").click()
    menu = page.locator("#copy-menu-0")
    for day in ("Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        expect(menu.get_by_role("checkbox", name=day, exact=True)).not_to_be_checked()
    for day in ("Tuesday", "Wednesday", "Thursday", "Friday"):
        menu.get_by_role("checkbox", name=day, exact=True).check()
    menu.get_by_role("button", name="Copy", exact=True).click()
    expect(page.locator("#weekly-hours")).to_contain_text("Copied Monday's hours")
    for day in ("Tuesday", "Wednesday", "Thursday", "Friday"):
        expect(page.get_by_label(f"{day}, range 1: start")).to_have_value("09:00")
        expect(page.get_by_label(f"{day}, range 1: end")).to_have_value("12:00")
    expect(page.get_by_label("Saturday, range 1: start")).to_have_count(0)

    page.get_by_role("button", name="Save weekly hours").click()
    expect(page.locator("#weekly-hours")).to_contain_text("Your weekly hours were saved.")
    expect(preview.locator(f'[data-day="{wednesday:%Y-%m-%d}"]')).to_have_count(1)
    expect(preview).to_contain_text("09:00")

    page.locator("#id_date").fill(f"{wednesday:%Y-%m-%d}")
    page.get_by_label("The whole day off").check()
    page.get_by_role("button", name="Save override").click()
    expect(page.locator("#date-overrides")).to_contain_text("is now a day off")
    expect(page.locator(f'[data-override="{wednesday:%Y-%m-%d}"]')).to_contain_text("Day off")

    # The preview comes back through htmx on Refresh, still without that Wednesday.
    with page.expect_response(lambda response: "/availability/preview/" in response.url):
        preview.get_by_role("link", name="Refresh").click()
    preview = page.locator("#availability-preview")
    expect(preview.locator(f'[data-day="{wednesday:%Y-%m-%d}"]')).to_have_count(0)
    expect(preview.locator(".preview-day").first).to_be_visible()
    weekdays = preview.locator(".preview-day h3").all_inner_texts()
    assert weekdays and all(not text.startswith(("Saturday", "Sunday")) for text in weekdays)
    assert page.url.endswith("/availability/")  # htmx swapped in place

    screenshot("availability-editor")
    assert browser_problems == []

    # A visitor whose browser is in Asia/Kolkata sees those hours in their own
    # zone in the slot picker, and nothing on the day off.
    # A British browser: its clock is 24-hour (the site follows the browser's locale).
    visitor = browser.new_context(
        base_url=live_server.url, timezone_id="Asia/Kolkata", locale="en-GB"
    )
    try:
        visit = visitor.new_page()
        visit.goto("/")  # lets static/js/timezone.js store the browser's zone
        monday = wednesday - timedelta(days=2)
        visit.goto(f"/mentors/{mentor.slug}/book/?week={monday:%Y-%m-%d}")
        expect(visit.locator("main")).to_contain_text("Times are in Asia/Kolkata")
        berlin, kolkata = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Kolkata")
        thursday = wednesday + timedelta(days=1)
        expected = datetime.combine(thursday, time(9), tzinfo=berlin).astimezone(kolkata)
        name = f"{expected:%H:%M} IST on {expected:%A} {expected.day} {expected:%B}"
        expect(visit.get_by_role("link", name=name, exact=True)).to_be_visible()
        day_off = f"IST on {wednesday:%A} {wednesday.day} {wednesday:%B}"
        expect(visit.get_by_role("link", name=re.compile(re.escape(day_off)))).to_have_count(0)
    finally:
        visitor.close()
