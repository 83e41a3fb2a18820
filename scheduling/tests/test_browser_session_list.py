"""``/sessions/`` in Chromium with a long history: "Show earlier" appends the
next page of a list in place and puts the keyboard on its first new row;
without JavaScript the same button opens the list on its own page."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from conftest import axe_violations, log_in, new_page, shoot, watch_browser_problems
from mentorship.tests.factories import MenteeProfileFactory, MentorProfileFactory
from scheduling.models import Session
from scheduling.session_lists import MORE_SIZE, PAGE_SIZES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def a_long_history(user, count: int) -> None:
    """``count`` completed sessions of ``user`` as mentor, one a day back from
    yesterday, each with its own mentee; and three upcoming ones."""
    mentor = MentorProfileFactory(user=user)
    rows = []
    for number in range(count + 3):
        days = number - count + 1 if number >= count else -(number + 1)
        start = NOW + timedelta(days=days)
        rows.append(
            Session(
                mentor=mentor,
                mentee=MenteeProfileFactory(user=UserFactory(name=f"Mentee {number:02d}")),
                title=f"Session {number:02d}",
                duration_minutes=60,
                start=start,
                end=start + timedelta(hours=1),
                status=Session.Status.UPCOMING if start > NOW else Session.Status.COMPLETED,
            )
        )
    Session.objects.bulk_create(rows)


def past_rows(page):
    return page.locator("#past-list > li.list-group-item:not(#past-more)")


def test_show_earlier_appends_the_next_page_and_moves_the_focus(browser, live_server, time_machine):
    time_machine.move_to(NOW, tick=False)
    user = UserFactory(name="Maya Mentor", timezone="Europe/Berlin")
    a_long_history(user, 40)
    size = PAGE_SIZES["past"]
    for width, height, label in ((1280, 900, "desktop"), (390, 844, "phone")):
        context, page = new_page(
            browser,
            live_server,
            "Europe/Berlin",
            bypass_csp=True,
        )
        problems = watch_browser_problems(page)
        try:
            log_in(page, user.email)  # at the default width: the menu shows there
            page.set_viewport_size({"width": width, "height": height})
            page.goto("/sessions/")
            expect(past_rows(page)).to_have_count(size)
            expect(past_rows(page).first).to_contain_text("Session 00")
            assert axe_violations(page) == []
            shoot(page, f"sessions-long-history-{label}")

            more = page.get_by_role("link", name="Show earlier").first
            more.focus()
            page.keyboard.press("Enter")

            expect(past_rows(page)).to_have_count(size + MORE_SIZE)
            # The keyboard lands on the first row that came in.
            expect(page.get_by_role("link", name=f"Session {size:02d}", exact=True)).to_be_focused()
            page.get_by_role("link", name="Show earlier").first.click()
            expect(past_rows(page)).to_have_count(40)
            expect(page.locator("#past-more")).to_have_count(0)
            expect(past_rows(page).last).to_contain_text("Session 39")
            assert axe_violations(page) == []
            shoot(page, f"sessions-long-history-expanded-{label}")
            assert problems == []
        finally:
            context.close()


def test_without_javascript_show_earlier_opens_the_list_on_its_own_page(
    browser, live_server, time_machine
):
    time_machine.move_to(NOW, tick=False)
    user = UserFactory(name="Maya Mentor", timezone="Europe/Berlin")
    a_long_history(user, 40)
    context, page = new_page(browser, live_server, "Europe/Berlin", bypass_csp=True)
    try:
        log_in(page, user.email)
        page.route("**/htmx.min.js", lambda route: route.abort())
        page.goto("/sessions/")
        page.get_by_role("link", name="Show earlier").first.click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Past")
        expect(past_rows(page)).to_have_count(MORE_SIZE)
        expect(past_rows(page).first).to_contain_text(f"Session {PAGE_SIZES['past']:02d}")
        assert axe_violations(page) == []
        shoot(page, "sessions-past-page")
        page.get_by_role("link", name="← All my sessions").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("My sessions")
    finally:
        context.close()
