"""Booking in Chromium: a mentee books a time, finds it in My sessions, moves
it to another day and cancels it; the mentor, in another time zone, sees each
change on their dashboard and in their sessions."""

from datetime import UTC, date, datetime, time

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from conftest import log_in, new_page, shoot, watch_browser_problems
from mentorship.services import become_mentor, update_mentor_profile
from scheduling.availability import replace_weekly_hours
from scheduling.models import Session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday


def test_mentee_books_reschedules_and_cancels_and_the_mentor_sees_each_change(
    browser, live_server, time_machine
):
    # Thursday 26 November, 12:00 UTC: the mentor's dashboard week runs to 2 December.
    # Frozen in every thread, the live server's too.
    time_machine.move_to(NOW, tick=False)
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
    mentor_context, mentor_page = new_page(browser, live_server, "America/New_York")
    problems, mentor_problems = watch_browser_problems(page), watch_browser_problems(mentor_page)
    try:
        # 1. The mentee books Monday 30 November, 19:30 in Kolkata.
        log_in(page, mentee_user.email)
        page.goto(f"/mentors/{mentor.slug}/book/?week=2026-11-30")
        page.get_by_role("link", name="19:30 IST on Monday 30 November").click()
        page.locator("#picker-chosen").wait_for()
        page.locator("#picker-topic").fill("Becoming a tech lead")
        page.get_by_role("button", name="Book this time").click()

        expect(page.get_by_text("Your session is booked.")).to_be_visible()
        expect(page.locator("main")).to_contain_text("Monday 30 November 2026, 19:30–20:00 IST")
        expect(page.locator("main")).to_contain_text("Becoming a tech lead")
        expect(page.locator('a[href^="https://meet.jit.si/mentorship-"]')).to_be_visible()
        shoot(page, "session-detail")
        booked = Session.objects.get(mentee__user=mentee_user)

        page.goto("/sessions/")
        upcoming = page.locator("section", has=page.get_by_role("heading", name="Upcoming"))
        expect(upcoming).to_contain_text("with Maya Mentor")
        expect(upcoming).to_contain_text("Mon 30 Nov 2026, 19:30–20:00 IST")
        shoot(page, "session-list")

        # The mentor, in New York, sees it at 09:00 their time on the dashboard.
        log_in(mentor_page, mentor_user.email)
        mentor_page.get_by_role("link", name="Dashboard").click()
        week = mentor_page.locator("#dashboard-week")
        expect(week).to_contain_text("Monday 30 November")
        expect(week).to_contain_text("09:00 Intro call with Theo Mentee")
        shoot(mentor_page, "mentor-dashboard")

        # 2. The mentee moves it to Tuesday 1 December, 20:30 in Kolkata.
        page.goto(f"/sessions/{booked.pk}/")
        page.get_by_role("link", name="Pick a new time").click()
        expect(page.get_by_role("heading", name="Pick a new time with Maya Mentor")).to_be_visible()
        page.get_by_role("link", name="Next week →").click()
        page.get_by_role("link", name="20:30 IST on Tuesday 1 December").click()
        page.locator("#picker-chosen").wait_for()
        expect(page.locator("#picker-chosen")).to_contain_text("Instead of Monday 30 November")
        shoot(page, "session-reschedule")
        page.get_by_role("button", name="Move to this time").click()

        expect(page.get_by_text("Your session was moved.")).to_be_visible()
        expect(page.locator("main")).to_contain_text("Tuesday 1 December 2026, 20:30–21:00 IST")
        expect(page.locator("main")).to_contain_text("Moved from")
        expect(page.locator("main")).to_contain_text("Becoming a tech lead")
        shoot(page, "session-detail-moved")
        moved = Session.objects.get(rescheduled_from=booked)
        assert moved.meeting_url == booked.meeting_url

        mentor_page.reload()
        expect(week).to_contain_text("Tuesday 1 December")
        expect(week).to_contain_text("10:00 Intro call with Theo Mentee")
        expect(week).not_to_contain_text("Monday 30 November")
        mentor_page.goto("/sessions/")
        mentor_upcoming = mentor_page.locator(
            "section", has=mentor_page.get_by_role("heading", name="Upcoming")
        )
        expect(mentor_upcoming).to_contain_text("Tue 1 Dec 2026, 10:00–10:30 EST")
        mentor_cancelled = mentor_page.locator(
            "section", has=mentor_page.get_by_role("heading", name="Cancelled and moved")
        )
        # The old time reads "Moved", linked to the new one, not "Cancelled".
        expect(mentor_cancelled).to_contain_text("Mon 30 Nov 2026, 09:00–09:30 EST")
        expect(mentor_cancelled.locator("[data-status=moved]")).to_have_text("Moved")
        expect(
            mentor_cancelled.get_by_role("link", name="Moved to Tue 1 Dec, 10:00")
        ).to_be_visible()

        # 3. The mentee cancels the moved session, on its own confirmation step.
        page.get_by_role("link", name="Cancel session…").click()
        expect(page.get_by_role("heading", name="Cancel this session?")).to_be_visible()
        shoot(page, "session-cancel-step")
        page.set_viewport_size({"width": 390, "height": 844})
        shoot(page, "session-cancel-step-390")
        page.set_viewport_size({"width": 1280, "height": 900})
        page.locator("#cancel-reason").fill("Travelling that week")
        page.get_by_role("button", name="Cancel session").click()
        expect(page.get_by_text("The session was cancelled.")).to_be_visible()

        mentor_page.goto(f"/sessions/{moved.pk}/")
        expect(mentor_page.locator("main")).to_contain_text("Cancelled")
        expect(mentor_page.locator("main")).to_contain_text("Travelling that week")
        mentor_page.goto("/dashboard/")
        expect(mentor_page.get_by_text("Nothing booked for the coming week yet.")).to_be_visible()
        mentor_page.goto("/sessions/")
        expect(mentor_upcoming).to_contain_text("No upcoming sessions.")
        expect(mentor_cancelled).to_contain_text("Tue 1 Dec 2026, 10:00–10:30 EST")
        assert problems == mentor_problems == []
    finally:
        mentor_context.close()
        context.close()
