"""“Why isn't a time bookable?” on the availability page, in Chromium: the
panel loads with htmx and answers in place for a booked time (the session,
linked) and for a time inside the buffer after it, at 1280 and 390 pixels
wide; without JavaScript the link opens the same form as a page.

The factories' booking week: the clock is frozen at Monday 1 June 2026,
08:00 in New York (the live server's too); weekday hours 09:00-12:00 there,
a 15-minute buffer, Kiran booked Tuesday 09:00-09:30."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from conftest import axe_violations, new_page, shoot, submit_login, watch_browser_problems
from scheduling.tests.factories import NOW, TUESDAY_9, book, new_york_mentor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    """Frozen in every thread, the live server's too."""
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def mentor(db):
    from datetime import timedelta

    return new_york_mentor(starting=NOW.date() - timedelta(weeks=1), buffer_minutes=15)


@pytest.fixture
def session(mentor, mentee_user):
    return book(mentee_user, mentor, mentor.session_types.get(slug="intro-call"), TUESDAY_9)


def open_editor(browser, live_server, mentor, viewport, **options):
    context, page = new_page(browser, live_server, "America/New_York", viewport=viewport, **options)
    submit_login(page, mentor.user.email)
    expect(page.get_by_role("status").first).to_contain_text("Successfully signed in")
    page.goto(f"/mentors/{mentor.slug}/availability/")
    expect(page.get_by_role("heading", name="Your availability")).to_be_visible()
    return context, page


def ask(page, day: str, at: str, session_type: str = "Intro call"):
    panel = page.locator("#explain-panel")
    panel.get_by_label("Date").fill(day)
    panel.get_by_label("Time").select_option(at)
    panel.get_by_label("Session type").select_option(label=session_type)
    with page.expect_response(lambda response: "/availability/explain/" in response.url):
        panel.get_by_role("button", name="Check this time").click()
    return page.locator("#explain-answer")


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_the_panel_explains_a_booked_time_and_the_buffer(
    browser, live_server, mentor, session, viewport, name
):
    # bypass_csp: axe-core is injected into the page.
    context, page = open_editor(browser, live_server, mentor, viewport, bypass_csp=True)
    problems = watch_browser_problems(page)
    loads: list[str] = []
    page.on(
        "framenavigated",
        lambda frame: loads.append(frame.url) if frame == page.main_frame else None,
    )
    try:
        heading = page.get_by_role("heading", name="Why isn’t a time bookable?")
        expect(heading).to_be_visible()
        expect(page.locator("#explain-panel")).to_be_visible()  # loaded by htmx

        answer = ask(page, "2026-06-02", "09:00")
        expect(answer).to_contain_text(
            "09:00 EDT on Tuesday 2 June 2026 cannot be booked for “Intro call”"
        )
        booked = answer.locator('[data-code="session"]')
        expect(booked).to_contain_text(
            "Booked: “Intro call” with Kiran Mentee, 09:00–09:30 EDT on Tuesday 2 June 2026."
        )
        session_url = reverse("scheduling:session_detail", kwargs={"session_id": session.pk})
        expect(booked.get_by_role("link", name="Open the session")).to_have_attribute(
            "href", session_url
        )
        heading.scroll_into_view_if_needed()
        shoot(page, f"availability-explain-booked-{name}")

        answer = ask(page, "2026-06-02", "09:30")
        buffer = answer.locator('[data-code="buffer"]')
        expect(buffer).to_contain_text(
            "Within the buffer of 15 minutes after “Intro call” with Kiran Mentee, "
            "09:00–09:30 EDT on Tuesday 2 June 2026."
        )
        expect(answer.locator("[data-code]")).to_have_count(1)
        expect(buffer.get_by_role("link", name="Open the session")).to_have_attribute(
            "href", session_url
        )
        shoot(page, f"availability-explain-buffer-{name}")
        assert axe_violations(page, context="#explain") == []

        answer = ask(page, "2026-06-02", "10:00")
        expect(answer).to_contain_text(
            "Mentees can book 10:00 EDT on Tuesday 2 June 2026 for “Intro call”."
        )
        assert loads == []  # every answer came in place
        assert page.url.endswith("/availability/")

        # The same form as a page of its own (where the link goes without
        # JavaScript), with an answer.
        explain_url = reverse("scheduling:availability_explain", kwargs={"slug": mentor.slug})
        page.goto(f"{explain_url}?format=html&date=2026-06-02&time=09:30&type=intro-call")
        expect(page.locator('[data-code="buffer"]')).to_be_visible()
        assert axe_violations(page) == []
        assert problems == []
    finally:
        context.close()


def test_without_javascript_the_link_opens_the_form_as_a_page(
    browser, live_server, mentor, session
):
    context, page = open_editor(browser, live_server, mentor, DESKTOP, java_script_enabled=False)
    try:
        page.get_by_role("link", name="Check a date and time").click()
        expect(page.get_by_role("heading", name="Why isn’t a time bookable?")).to_be_visible()
        page.get_by_label("Date", exact=True).fill("2026-06-02")
        page.get_by_label("Time", exact=True).select_option("09:30")
        page.get_by_role("button", name="Check this time").click()
        expect(page.locator('[data-code="buffer"]')).to_contain_text("Within the buffer")
        expect(page.get_by_label("Time", exact=True)).to_have_value("09:30")
        shoot(page, "availability-explain-no-javascript")
    finally:
        context.close()
