"""Deleting a review in the admin, in Chromium: a superuser opens the review
from the reviews list, clicks Delete, reads Django's confirmation (the reply
and the reports go with the review) and confirms; the list says so and the
mentor's rating no longer counts the review."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from conftest import log_in, shoot
from mentorship.models import MentorProfile
from mentorship.tests.factories import MenteeProfileFactory, MentorProfileFactory
from reviews.models import Review, ReviewReply, ReviewReport

from .factories import ReviewFactory, ReviewReplyFactory, ReviewReportFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_superuser_deletes_a_review_in_the_admin(page, browser_problems):
    admin = UserFactory(name="Sam Staff", is_staff=True, is_superuser=True)
    ada = MentorProfileFactory(user=UserFactory(name="Ada Lovelace"))
    ReviewFactory(
        session__mentor=ada,
        session__mentee=MenteeProfileFactory(user=UserFactory(name="Mia Mentee")),
        rating=5,
        feedback="Kind and clear.",
    )
    rude = ReviewFactory(
        session__mentor=ada,
        session__mentee=MenteeProfileFactory(user=UserFactory(name="Noor Learner")),
        rating=1,
        feedback="Useless, a scam.",
    )
    ReviewReplyFactory(review=rude, body="I am sorry you felt that way.")
    ReviewReportFactory.create_batch(2, review=rude)

    # Django's admin pages link no icon, so Chromium asks for /favicon.ico,
    # which the site does not serve: a 404 in the console that is not ours.
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    log_in(page, admin.email)
    page.goto("/admin/reviews/review/")
    page.locator("#result_list tbody tr", has_text="Noor Learner").locator("a").first.click()
    expect(page).to_have_url(re.compile(rf"/admin/reviews/review/{rude.pk}/change/"))
    expect(page.locator("main, #content").first).to_contain_text("Useless, a scam.")

    page.get_by_role("link", name="Delete").click()
    expect(page).to_have_url(re.compile(rf"/admin/reviews/review/{rude.pk}/delete/"))
    expect(page.get_by_text("Are you sure you want to delete the review")).to_be_visible()
    deleted = page.locator("#deleted-objects")
    expect(deleted).to_contain_text(f"Review reply: reply to {rude.pk}")
    expect(deleted.get_by_text("Review report:")).to_have_count(2)
    shoot(page, "admin-review-delete-confirmation")

    page.get_by_role("button", name="Yes, I’m sure").click()
    expect(page).to_have_url(re.compile(r"/admin/reviews/review/(\?.*)?$"))
    expect(page.locator(".messagelist")).to_contain_text(
        f"The review “{rude}” was deleted successfully."
    )
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    shoot(page, "admin-review-deleted")

    assert not Review.objects.filter(pk=rude.pk).exists()
    assert not ReviewReply.objects.exists()
    assert not ReviewReport.objects.exists()
    ada = MentorProfile.objects.get(pk=ada.pk)
    assert (ada.rating_avg, ada.rating_count) == (Decimal("5.00"), 1)
    assert browser_problems == []
