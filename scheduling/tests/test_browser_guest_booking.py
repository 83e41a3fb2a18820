"""Booking without an account, in Chromium (issue 16): a visitor books from a
mentor's page in one flow, confirms by the emailed link and lands on the
session; a second visitor cannot take the held time, which comes back when
the hold lapses; signing in from the picker keeps the choice; on a phone the
first time is visible without scrolling; a keyboard books in a few keys.

The clock (the live server's too) stands at the factories' ``NOW``: Monday
1 June 2026, 12:00 UTC, 08:00 in New York, where the mentor has weekday hours
09:00-12:00.
"""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, UserFactory
from conftest import confirmation_link, new_page, shoot, submit_login, watch_browser_problems
from scheduling.models import Session

from .factories import NOW, TUESDAY_9

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/book/confirm/[^\s]+/)")
TUESDAY_9_UTC = "2026-06-02T13:00:00Z"


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def confirm_path(mailoutbox, address: str) -> str:
    return confirmation_link(mailoutbox, address, CONFIRM_LINK)


def choose_tuesday_9(page, mentor) -> None:
    page.goto(f"/mentors/{mentor.slug}/book/?type=intro-call&week=2026-06-01")
    page.get_by_role("link", name="09:00 EDT on Tuesday 2 June").click()
    expect(page.locator("#picker-topic")).to_be_focused()


def test_a_visitor_books_confirms_by_email_and_lands_on_the_session(
    browser, live_server, mentor, mailoutbox
):
    context, page = new_page(browser, live_server, "America/New_York", viewport=DESKTOP)
    problems = watch_browser_problems(page)
    try:
        # From the mentor's page, a next time opens the picker with it chosen.
        page.goto(f"/mentors/{mentor.slug}/")
        page.locator(".next-times a").first.click()
        expect(page.locator("#picker-chosen")).to_contain_text("Monday 1 June 2026, 09:00")
        expect(page.locator("#picker-topic")).to_be_focused()
        page.locator("#picker-topic").fill("Moving from design to product")
        page.get_by_label("Your name").fill("Gia Guest")
        page.get_by_label("Email").fill("gia@example.com")
        page.get_by_label("Choose a password").fill("a long passphrase 42")
        shoot(page, "guest-form-desktop")
        page.get_by_role("button", name="Book this time").click()

        expect(page.get_by_role("heading", name="Check your email to confirm")).to_be_visible()
        expect(page.locator("main")).to_contain_text("gia@example.com")
        expect(page.locator("main")).to_contain_text("until 08:30 EDT")
        shoot(page, "guest-held-desktop")
        held = Session.objects.get(mentee__user__email="gia@example.com")
        assert held.status == Session.Status.PENDING

        # The link, maybe opened later: one button confirms everything.
        page.goto(confirm_path(mailoutbox, "gia@example.com"))
        expect(page.get_by_role("heading", name="Confirm your booking")).to_be_visible()
        shoot(page, "guest-confirm-desktop")
        page.get_by_role("button", name="Confirm my booking").click()

        expect(
            page.get_by_text("Your email is confirmed and your session is booked.")
        ).to_be_visible()
        expect(page.locator("main")).to_contain_text("Moving from design to product")
        expect(page.locator("#account-menu")).to_be_visible()  # signed in
        assert Session.objects.get(pk=held.pk).status == Session.Status.UPCOMING
        assert {tuple(message.to) for message in mailoutbox} >= {
            ("gia@example.com",),
            (mentor.user.email,),
        }
    finally:
        context.close()
    assert problems == []


def test_a_held_time_is_nobody_elses_until_the_hold_lapses(
    browser, live_server, mentor, time_machine, settings
):
    first, first_page = new_page(browser, live_server, "America/New_York", viewport=DESKTOP)
    second, second_page = new_page(browser, live_server, "America/New_York", viewport=DESKTOP)
    try:
        choose_tuesday_9(first_page, mentor)
        first_page.get_by_label("Your name").fill("Gia Guest")
        first_page.get_by_label("Email").fill("gia@example.com")
        first_page.get_by_label("Choose a password").fill("a long passphrase 42")
        first_page.get_by_role("button", name="Book this time").click()
        expect(
            first_page.get_by_role("heading", name="Check your email to confirm")
        ).to_be_visible()

        # The second visitor is not offered it; an old link to it says so.
        nine = f'#picker-days time[datetime="{TUESDAY_9_UTC}"]'
        second_page.goto(f"/mentors/{mentor.slug}/book/?type=intro-call&week=2026-06-01")
        expect(
            second_page.locator('#picker-days time[datetime="2026-06-02T13:30:00Z"]')
        ).to_be_visible()
        expect(second_page.locator(nine)).to_have_count(0)
        second_page.goto(f"/mentors/{mentor.slug}/book/?type=intro-call&start={TUESDAY_9_UTC}")
        expect(second_page.locator("main")).to_contain_text("That time is not available")

        # Half an hour later nobody confirmed it: the time is back.
        time_machine.move_to(NOW + timedelta(minutes=settings.BOOKING_HOLD_MINUTES), tick=False)
        second_page.goto(f"/mentors/{mentor.slug}/book/?type=intro-call&week=2026-06-01")
        expect(second_page.locator(nine)).to_be_visible()
        first_page.reload()
        expect(first_page.get_by_role("heading", name="This hold has lapsed")).to_be_visible()
    finally:
        first.close()
        second.close()


def test_signing_in_from_the_picker_keeps_the_time_and_the_topic(browser, live_server, mentor):
    member = UserFactory(email="member@example.com", name="Mo Member", timezone="America/New_York")
    context, page = new_page(browser, live_server, "America/New_York", viewport=DESKTOP)
    try:
        choose_tuesday_9(page, mentor)
        page.locator("#picker-topic").fill("Negotiating an offer")
        page.get_by_role("button", name="Sign in instead").click()

        expect(page.get_by_text("Your choice and what you wrote are kept.")).to_be_visible()
        page.locator("#id_login").fill(member.email)
        page.locator("#id_password").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()

        expect(page.locator("#picker-chosen")).to_contain_text("Tuesday 2 June 2026, 09:00")
        expect(page.locator("#picker-topic")).to_have_value("Negotiating an offer")
        page.get_by_role("button", name="Book this time").click()
        expect(page.get_by_text("Your session is booked.")).to_be_visible()
        assert Session.objects.get(mentee__user=member).topic == "Negotiating an offer"
    finally:
        context.close()


def test_on_a_phone_the_first_time_shows_without_scrolling(
    browser, live_server, mentor, time_machine
):
    # Wednesday 3 June, 13:00 in New York: Monday to Wednesday have no times left.
    time_machine.move_to(NOW + timedelta(days=2, hours=5), tick=False)
    context, page = new_page(browser, live_server, "America/New_York", viewport=PHONE)
    try:
        # The mentor's page: its booking card is below the reviews, one tap away.
        page.goto(f"/mentors/{mentor.slug}/")
        page.get_by_role("link", name="See times and book").click()
        expect(page.locator(".next-times a").first).to_be_in_viewport()
        page.goto(f"/mentors/{mentor.slug}/book/")
        first = page.locator("#picker-days .picker-times a").first
        expect(first).to_be_visible()
        box = first.bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"], box
        # The days without times are one line, not boxes.
        expect(page.locator("#picker-empty-days")).to_have_text(
            "No times on Mon 1, Tue 2, Wed 3, Sat 6 and Sun 7."
        )
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        full = shoot(page, "picker-phone-full")
        page.screenshot(path=str(full.with_name("picker-phone-first-screen.png")))

        first.click()
        expect(page.locator("#picker-topic")).to_be_focused()
        shoot(page, "guest-form-phone")
    finally:
        context.close()


def test_a_keyboard_books_from_the_mentor_page_in_at_most_25_keys(browser, live_server, mentor):
    mentee = UserFactory(name="Kim Keys")
    context, page = new_page(browser, live_server, "America/New_York", viewport=DESKTOP)
    try:
        submit_login(page, mentee.email)
        expect(page.locator("#account-menu")).to_be_visible()
        page.goto(f"/mentors/{mentor.slug}/")
        keys = 0

        def press(key: str) -> None:
            nonlocal keys
            keys += 1
            page.keyboard.press(key)

        def focused_matches(selector: str) -> bool:
            return page.evaluate(f"document.activeElement.matches({selector!r})")

        press("Tab")  # the skip link
        press("Enter")  # into the main content
        while not focused_matches(".next-times a") and keys < 25:
            press("Tab")
        press("Enter")  # the first next time: the picker, with it chosen
        expect(page.locator("#picker-topic")).to_be_focused()
        while not focused_matches("#picker-chosen button[type=submit]") and keys < 25:
            press("Tab")
        press("Enter")
        expect(page.get_by_text("Your session is booked.")).to_be_visible()
        print(f"keyboard booking: {keys} keys")
        assert keys <= 25, keys
        assert Session.objects.get(mentee__user=mentee).start == TUESDAY_9 - timedelta(days=1)
    finally:
        context.close()
