"""The session page in Chromium, 5 minutes before the start: the mentee can
join, add it to Google Calendar and book again; the mentor reads what the
mentee wants from the session. On a desktop and on a phone."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from conftest import new_page, shoot, submit_login, watch_browser_problems
from mentorship.models import MenteeProfile

from .factories import NOW, TUESDAY_9, book, new_york_mentor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def sign_in(page, email: str) -> None:
    """``log_in`` without the account menu, which a phone's navbar folds away."""
    submit_login(page, email)
    expect(page.get_by_role("status")).to_contain_text("Successfully signed in")


def fits_the_width(page) -> bool:
    """Nothing sticks out sideways (no horizontal scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_five_minutes_before_the_start_both_sides_have_what_they_need(
    browser, live_server, time_machine
):
    # Booked at NOW (Monday 1 June 2026, 08:00 New York) for Tuesday 09:00
    # New York; then the clock, the live server's too, stands 5 minutes
    # before the start.
    time_machine.move_to(NOW, tick=False)
    mentor = new_york_mentor(starting=NOW.date())
    mentee_user = UserFactory(name="Theo Mentee", timezone="Asia/Kolkata")
    session = book(mentee_user, mentor, mentor.session_types.get(slug="intro-call"), TUESDAY_9)
    MenteeProfile.objects.filter(user=mentee_user).update(
        biography="Backend developer for four years.",
        goals="Become a tech lead.\nLearn to run design reviews.",
    )
    url = f"/sessions/{session.pk}/"

    # An hour before, Join is there but not yet a link.
    time_machine.move_to(session.start - timedelta(hours=1), tick=False)
    context, page = new_page(browser, live_server, "Asia/Kolkata", viewport=PHONE)
    try:
        sign_in(page, mentee_user.email)
        page.goto(url)
        waiting = page.get_by_role("button", name="Join opens at 18:20 IST")
        expect(waiting).to_be_disabled()
        expect(page.get_by_role("link", name="Join the meeting")).to_have_count(0)
        shoot(page, "session-page-join-later-phone")
    finally:
        context.close()

    time_machine.move_to(session.start - timedelta(minutes=5), tick=False)

    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context, page = new_page(browser, live_server, "Asia/Kolkata", viewport=viewport)
        problems = watch_browser_problems(page)
        try:
            sign_in(page, mentee_user.email)
            page.goto(url)

            join = page.get_by_role("link", name="Join the meeting")
            expect(join).to_be_visible()
            expect(join).to_have_attribute("href", session.meeting_url)
            expect(join).to_have_attribute("target", "_blank")
            google = page.get_by_role("link", name="Add to Google Calendar")
            expect(google).to_be_visible()
            expect(google).to_have_attribute("rel", "noopener")
            query = parse_qs(urlsplit(google.get_attribute("href")).query)
            assert query["dates"] == ["20260602T130000Z/20260602T133000Z"]
            assert query["text"] == ["Intro call with Maya Mentor"]
            book_again = page.get_by_role("link", name="Book again")
            expect(book_again).to_be_visible()
            expect(book_again).to_have_attribute(
                "href", f"/mentors/{mentor.slug}/book/?type=intro-call"
            )
            expect(page.get_by_role("link", name="Maya Mentor")).to_have_attribute(
                "href", f"/mentors/{mentor.slug}/"
            )
            # The mentee is not told about themselves.
            expect(page.locator("#about-mentee")).to_have_count(0)
            assert fits_the_width(page)
            shoot(page, f"session-page-mentee-{name}")
            assert problems == []
        finally:
            context.close()

        context, page = new_page(browser, live_server, "America/New_York", viewport=viewport)
        problems = watch_browser_problems(page)
        try:
            sign_in(page, mentor.user.email)
            page.goto(url)

            about = page.locator("#about-mentee")
            expect(about.get_by_role("heading", name="About Theo")).to_be_visible()
            expect(about).to_contain_text("Backend developer for four years.")
            expect(about).to_contain_text("Become a tech lead.")
            expect(about).to_contain_text("Learn to run design reviews.")
            expect(page.get_by_role("link", name="Join the meeting")).to_be_visible()
            expect(page.get_by_role("link", name="Book again")).to_have_count(0)
            assert fits_the_width(page)
            shoot(page, f"session-page-mentor-{name}")
            assert problems == []
        finally:
            context.close()
