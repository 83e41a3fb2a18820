"""Reviews in Chromium: a mentee whose session ended finds the prompt in My
sessions, picks 4 stars with the keyboard alone, writes feedback and sees the
review and the new rating on the mentor's page; the mentor replies there, and
another member reports the review through the inline (htmx) form."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from conftest import log_in, new_page, shoot, watch_browser_problems
from mentorship.services import become_mentor
from mentorship.tests.factories import MenteeProfileFactory
from reviews.models import Review, ReviewReport
from scheduling.tests.factories import SessionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday
ENDED = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday's intro call, long over
LIT, UNLIT = "rgb(228, 155, 15)", "rgb(201, 206, 214)"  # static/css/reviews.css


def test_a_mentee_reviews_with_the_keyboard_and_the_mentor_replies(
    browser, live_server, time_machine
):
    time_machine.move_to(NOW, tick=False)  # in every thread, the live server's too
    mentor = become_mentor(user=UserFactory(name="Maya Mentor", timezone="America/New_York"))
    intro = mentor.session_types.get(slug="intro-call")
    mentee_user = UserFactory(name="Theo Mitchell", timezone="Asia/Kolkata")
    session = SessionFactory(
        mentor=mentor,
        mentee=MenteeProfileFactory(user=mentee_user),
        session_type=intro,
        title=intro.name,
        duration_minutes=intro.duration_minutes,
        start=ENDED,
    )
    reporter = UserFactory(name="Rita Reader")

    context, page = new_page(browser, live_server, "Asia/Kolkata")
    mentor_context, mentor_page = new_page(browser, live_server, "America/New_York")
    reporter_context, reporter_page = new_page(browser, live_server, "Europe/Berlin")
    problems = [watch_browser_problems(p) for p in (page, mentor_page, reporter_page)]
    try:
        # 1. My sessions prompts for a review of the ended session.
        log_in(page, mentee_user.email)
        page.get_by_role("link", name="My sessions").click()
        past = page.locator("section", has=page.get_by_role("heading", name="Past"))
        shoot(page, "session-list-review-prompt")
        past.get_by_role("link", name=re.compile(r"^Review your Intro call with Maya")).click()
        expect(page.get_by_role("heading", name="How was your session?")).to_be_visible()

        # Publishing without a rating keeps the page, with the reason.
        page.get_by_role("button", name="Publish review").click()
        expect(page.get_by_text("Please choose a rating from 1 to 5 stars.")).to_be_visible()
        expect(page.locator("#rating-1")).to_have_attribute("aria-invalid", "true")
        shoot(page, "review-form-error")
        assert not Review.objects.exists()
        # Chromium logs the intended 400 as a console error; nothing else may appear.
        assert len(problems[0]) == 1 and "status of 400 (Bad Request)" in problems[0][0]
        problems[0].clear()
        page.goto(f"/sessions/{session.pk}/review/")  # a fresh form for the screenshot

        # 2. Keyboard only: Tab from the link before the stars into the radio
        # group, arrow keys to the fourth star, Tab to the feedback.
        page.get_by_role("link", name="← Back to the session").focus()
        page.keyboard.press("Tab")
        expect(page.locator("#rating-1")).to_be_focused()
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        expect(page.locator("#rating-4")).to_be_checked()
        expect(page.locator("#rating-4")).to_be_focused()
        # The chosen star's words show under the stars; the others stay
        # visually hidden (1px, for screen readers).
        shown = page.get_by_text("4 stars — very good").bounding_box()
        hidden = page.get_by_text("3 stars — good").bounding_box()
        assert shown["width"] > 50 and hidden["width"] <= 1, (shown, hidden)
        # The focused star has a visible ring, and stars 1-4 are lit, 5 is not.
        ring = page.eval_on_selector(
            'label[for="rating-4"]', "label => getComputedStyle(label).outlineStyle"
        )
        assert ring == "solid"
        for star in range(1, 6):
            colour = LIT if star <= 4 else UNLIT
            expect(page.locator(f'label[for="rating-{star}"]')).to_have_css("color", colour)
        # The accessible names are the words, not the star glyphs.
        expect(page.get_by_role("radio", name="4 stars — very good")).to_be_checked()

        page.keyboard.press("Tab")
        expect(page.locator("#id_feedback")).to_be_focused()
        page.keyboard.type("Clear next steps for my move into data engineering.")
        shoot(page, "review-form")
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Publish review")).to_be_focused()
        page.keyboard.press("Enter")

        expect(page.get_by_text("Thanks — your review is on Maya Mentor's page.")).to_be_visible()
        expect(page.locator("#your-review")).to_contain_text("Clear next steps")
        review = Review.objects.get(session=session)
        assert review.rating == 4
        shoot(page, "session-your-review")

        # 3. The mentor's page has the review and the new rating.
        page.locator("#your-review").get_by_role("link", name="Maya Mentor's page").click()
        expect(page.locator("main")).to_contain_text("★ 4.0 · 1 review")
        reviews = page.locator("#reviews")
        expect(reviews).to_contain_text("Theo M.")
        expect(reviews).not_to_contain_text("Mitchell")
        expect(reviews).to_contain_text("Intro call · November 2026")
        expect(reviews.get_by_role("img", name="Rated 4 out of 5 stars")).to_be_visible()
        expect(reviews).to_contain_text("Clear next steps for my move into data engineering.")

        # 4. The mentor replies from their own page.
        log_in(mentor_page, mentor.user.email)
        mentor_page.goto(f"/mentors/{mentor.slug}/")
        mentor_reviews = mentor_page.locator("#reviews")
        mentor_reviews.get_by_text("Reply publicly").click()
        mentor_reviews.get_by_label("Your public reply to Theo M.").fill(
            "Thank you, Theo. Good luck with the move!"
        )
        mentor_reviews.get_by_role("button", name="Publish reply").click()
        expect(mentor_page.get_by_text("Your reply is published.")).to_be_visible()
        expect(mentor_reviews).to_contain_text("Reply from Maya Mentor")
        expect(mentor_reviews).to_contain_text("Thank you, Theo. Good luck with the move!")
        shoot(mentor_page, "mentor-reviews")

        page.reload()
        expect(page.locator("#reviews")).to_contain_text("Good luck with the move!")

        # 5. Another member reports the review without leaving the page (htmx).
        log_in(reporter_page, reporter.email)
        reporter_page.goto(f"/mentors/{mentor.slug}/")
        reporter_reviews = reporter_page.locator("#reviews")
        reporter_reviews.get_by_role("link", name="Report the review by Theo M.").click()
        reporter_reviews.get_by_label("What is wrong with this review?").fill("Testing reports.")
        shoot(reporter_page, "review-report-form")
        reporter_reviews.get_by_role("button", name="Send report").click()
        expect(reporter_reviews).to_contain_text(
            "Thank you — our moderators will look at this review."
        )
        assert reporter_page.url.endswith(f"/mentors/{mentor.slug}/")
        assert ReviewReport.objects.get().reporter == reporter

        assert problems == [[], [], []]
    finally:
        reporter_context.close()
        mentor_context.close()
        context.close()
