"""Booking in Chromium: a mentee books a time, finds it in My sessions and
cancels it; the mentor sees the session and then the cancellation."""

import re
from datetime import UTC, date, datetime, time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, UserFactory
from conftest import ARTIFACTS_DIR, watch_browser_problems
from mentorship.services import become_mentor, update_mentor_profile
from scheduling.models import Session
from scheduling.services import replace_weekly_hours

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday


def log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.locator("#account-menu")).to_be_visible()


def new_page(browser, live_server, zone: str):
    context = browser.new_context(base_url=live_server.url, timezone_id=zone)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def shoot(page, name: str) -> None:
    target = ARTIFACTS_DIR / "screenshots" / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True)


def test_mentee_books_sees_and_cancels_and_the_mentor_sees_it(browser, live_server, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    mentor_user = UserFactory(name="Maya Mentor", timezone="America/New_York")
    mentor = become_mentor(user=mentor_user)
    update_mentor_profile(mentor=mentor, changes={"minimum_notice_minutes": 0}, tags=[], links={})
    replace_weekly_hours(
        mentor=mentor,
        timezone="America/New_York",
        weekly={day: [(time(9), time(12))] for day in range(5)},
        starting=date(2026, 11, 23),
    )
    mentee_user = UserFactory(name="Theo Mentee", timezone="Asia/Kolkata")

    context, page = new_page(browser, live_server, "Asia/Kolkata")
    problems = watch_browser_problems(page)
    try:
        log_in(page, mentee_user.email)
        page.goto(f"/mentors/{mentor.slug}/book/?week=2026-11-30")
        page.get_by_role("link", name=re.compile(r"^Monday 30 November, 19:30 Asia")).click()
        page.locator("#picker-chosen").wait_for()
        page.locator("#picker-topic").fill("Becoming a tech lead")
        page.get_by_role("button", name="Book this time").click()

        expect(page.get_by_text("Your session is booked.")).to_be_visible()
        expect(page.locator("main")).to_contain_text("Monday 30 November 2026, 19:30–20:00 IST")
        expect(page.locator("main")).to_contain_text("Becoming a tech lead")
        expect(page.locator('a[href^="https://meet.jit.si/mentorship-"]')).to_be_visible()
        shoot(page, "session-detail")
        session = Session.objects.get(mentee__user=mentee_user)

        page.goto("/sessions/")
        upcoming = page.locator("section", has=page.get_by_role("heading", name="Upcoming"))
        expect(upcoming).to_contain_text("with Maya Mentor")
        expect(upcoming).to_contain_text("Mon 30 Nov 2026, 19:30–20:00 IST")
        shoot(page, "session-list")

        # The mentor, in New York, sees the session at 09:00 their time.
        mentor_context, mentor_page = new_page(browser, live_server, "America/New_York")
        try:
            log_in(mentor_page, mentor_user.email)
            mentor_page.goto("/sessions/")
            expect(mentor_page.locator("main")).to_contain_text("as mentor")
            expect(mentor_page.locator("main")).to_contain_text("Mon 30 Nov 2026, 09:00–09:30 EST")

            page.goto(f"/sessions/{session.pk}/")
            page.locator("#cancel-reason").fill("Travelling that week")
            page.get_by_role("button", name="Cancel session").click()
            expect(page.get_by_text("The session was cancelled.")).to_be_visible()

            mentor_page.goto(f"/sessions/{session.pk}/")
            expect(mentor_page.locator("main")).to_contain_text("Cancelled")
            expect(mentor_page.locator("main")).to_contain_text("Travelling that week")
            mentor_page.goto("/sessions/")
            cancelled = mentor_page.locator(
                "section", has=mentor_page.get_by_role("heading", name="Cancelled")
            )
            expect(cancelled).to_contain_text("with Theo Mentee")
        finally:
            mentor_context.close()
        assert problems == []
    finally:
        context.close()
