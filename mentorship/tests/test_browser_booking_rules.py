"""Booking rules in human units, in Chromium (issue 17, item 4): the mentor
reads 12 hours (not 720), types 2 days and 15 minutes, watches each example
follow (``static/js/duration.js``), saves, and the database holds 2880 and 15;
a refused value says why next to its field. The browser's examples are the
server's sentences, on either clock.
"""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from conftest import log_in, new_page, shoot, watch_browser_problems
from core import timeformat
from mentorship.forms import buffer_example, cutoff_example, horizon_example, notice_example
from mentorship.models import MentorProfile

from .factories import MentorProfileFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # Thursday 26 November, 09:00 in Berlin
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    """Frozen in every thread, the live server's too (the horizon's example
    counts from the server's today)."""
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def mentor(db):
    """Maya, with the default rules but a 10-minute buffer kept: 12 hours'
    notice, 60 days ahead, 12 hours to cancel."""
    return MentorProfileFactory(
        user=UserFactory(name="Maya Mentor", timezone="Europe/Berlin"), slug="maya-mentor"
    )


def example(page, field: str):
    return page.locator(f"#id_{field}_example")


def test_the_mentor_sets_rules_in_hours_days_and_minutes(browser, live_server, mentor):
    assert (mentor.minimum_notice_minutes, mentor.buffer_minutes) == (720, 10)
    context, page = new_page(browser, live_server, "Europe/Berlin", viewport=DESKTOP)
    problems = watch_browser_problems(page)
    try:
        log_in(page, mentor.user.email)
        page.goto(f"/mentors/{mentor.slug}/edit/")
        notice = page.get_by_label("Minimum notice", exact=True)
        notice_unit = page.get_by_label("Minimum notice: unit")
        buffer = page.get_by_label("Buffer between sessions", exact=True)
        buffer_unit = page.get_by_label("Buffer between sessions: unit")

        # Stored as 720 minutes, shown as 12 hours, with its example.
        expect(notice).to_have_value("12")
        expect(notice_unit).to_have_value("hours")
        expect(page.locator("main")).not_to_contain_text("720")
        expect(example(page, "minimum_notice_minutes")).to_have_text(
            "With 12 hours' notice, at 09:00 today the first bookable time is 21:00 today."
        )
        expect(page.get_by_label("How far ahead people can book", exact=True)).to_have_value("60")
        expect(example(page, "booking_horizon_days")).to_have_text(horizon_example(60))
        expect(example(page, "cancellation_cutoff_hours")).to_have_text(cutoff_example(12))

        # The examples follow the values as they are typed and chosen.
        notice.fill("2")
        expect(example(page, "minimum_notice_minutes")).to_have_text(
            "With 2 hours' notice, at 09:00 today the first bookable time is 11:00 today."
        )
        notice_unit.select_option("days")
        expect(example(page, "minimum_notice_minutes")).to_have_text(
            "With 2 days' notice, at 09:00 today the first bookable time is 09:00 in 2 days."
        )
        buffer.fill("15")
        expect(buffer_unit).to_have_value("minutes")
        expect(example(page, "buffer_minutes")).to_have_text(buffer_example(15))
        # The browser writes what the server writes, on the 12-hour clock too.
        for minutes in (0, 45, 20 * 60):
            notice_unit.select_option("minutes")
            notice.fill(str(minutes))
            expect(example(page, "minimum_notice_minutes")).to_have_text(notice_example(minutes))
        page.locator("[data-booking-rules]").evaluate("rules => { rules.dataset.clock = '12'; }")
        notice.fill("720")
        with timeformat.override(timeformat.TWELVE):
            expect(example(page, "minimum_notice_minutes")).to_have_text(notice_example(720))
        page.locator("[data-booking-rules]").evaluate("rules => { rules.dataset.clock = '24'; }")
        notice.fill("2")
        notice_unit.select_option("days")
        # A value the form refuses has no example until it is corrected.
        page.get_by_label("Mentees can cancel or move up to", exact=True).fill("8")
        page.get_by_label("Mentees can cancel or move up to: unit").select_option("days")
        expect(example(page, "cancellation_cutoff_hours")).to_have_text("")
        page.get_by_label("Mentees can cancel or move up to", exact=True).fill("2")
        expect(example(page, "cancellation_cutoff_hours")).to_have_text(cutoff_example(48))

        page.locator(".booking-rule").first.scroll_into_view_if_needed()
        shoot(page, "booking-rules-desktop")
        page.set_viewport_size(PHONE)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.locator(".booking-rule").first.scroll_into_view_if_needed()
        shoot(page, "booking-rules-phone")
        page.set_viewport_size(DESKTOP)

        page.get_by_role("button", name="Save profile").last.click()
        expect(page.get_by_text("Your mentor profile was saved.")).to_be_visible()
        stored = MentorProfile.objects.get(pk=mentor.pk)
        assert (stored.minimum_notice_minutes, stored.buffer_minutes) == (2880, 15)
        assert stored.cancellation_cutoff_hours == 48
        # Back from the server in the same words.
        expect(notice).to_have_value("2")
        expect(notice_unit).to_have_value("days")
        expect(example(page, "minimum_notice_minutes")).to_have_text(notice_example(2880))
        expect(buffer).to_have_value("15")
        expect(buffer_unit).to_have_value("minutes")

        # Too long a buffer: refused, and the reason is next to the field.
        buffer.fill("3")
        buffer_unit.select_option("hours")
        page.get_by_role("button", name="Save profile").last.click()
        error = page.locator("#id_buffer_minutes_error")
        expect(error).to_have_text("Choose at most 2 hours (you chose 3 hours).")
        expect(buffer).to_have_attribute("aria-invalid", "true")
        expect(buffer).to_have_accessible_description(
            "Free time kept before and after each session and each busy time in your "
            "connected calendars. Choose at most 2 hours (you chose 3 hours)."
        )
        assert MentorProfile.objects.get(pk=mentor.pk).buffer_minutes == 15
        page.set_viewport_size(PHONE)
        error.scroll_into_view_if_needed()
        shoot(page, "booking-rules-refused-phone")
    finally:
        context.close()
    assert problems == []
