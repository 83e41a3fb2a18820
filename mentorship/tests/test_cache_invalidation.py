"""Each change marks stale only the cached pages that show it (``core/cache.py``).

A review, a reply, a profile edit or a new tag shows at once on every page
that shows it (never a stale page), while the cached pages that do not show
it stay cached: an anonymous visit to them runs no query at all. The clock is
frozen so that the bookable times on the mentor pages (keyed by the minute)
stay cached too.
"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from mentorship.services import create_expertise_tag, update_mentor_profile
from reviews.services import edit_review, hide_review, reply_to_review, submit_review
from reviews.tests.factories import CompletedSessionFactory, ReviewFactory

from .factories import ExpertiseTagFactory, MentorProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(timezone.now(), tick=False)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run a write and its on-commit bumps, as a committed request would."""

    def run(write):
        with django_capture_on_commit_callbacks(execute=True):
            return write()

    return run


@pytest.fixture
def visitor():
    return Client()


@pytest.fixture
def ada():
    return MentorProfileFactory(
        slug="ada", user=UserFactory(name="Ada Lovelace"), headline="Analytical engines"
    )


@pytest.fixture
def grace():
    return MentorProfileFactory(
        slug="grace", user=UserFactory(name="Grace Hopper"), headline="Compilers"
    )


def page(client, url: str) -> tuple[str, int]:
    """The page's text and how many queries it ran."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.text, len(queries)


def cached(client, url: str) -> bool:
    return page(client, url)[1] == 0


def warm(client, *urls):
    for url in urls:
        page(client, url)
        assert cached(client, url), url


def test_a_review_shows_on_its_mentor_page_and_card_and_other_pages_stay_cached(
    visitor, ada, grace, on_commit
):
    session = CompletedSessionFactory(mentor=ada)
    warm(visitor, "/mentors/", "/mentors/ada/", "/mentors/grace/", "/mentors/grace/reviews/")

    on_commit(
        lambda: submit_review(
            session=session, by=session.mentee.user, rating=4, feedback="Clear and patient."
        )
    )

    text, _queries = page(visitor, "/mentors/ada/")
    assert "Clear and patient." in text
    directory, _queries = page(visitor, "/mentors/")
    assert "(1 review)" in directory  # the card's rating changed: the directory too
    assert cached(visitor, "/mentors/grace/")
    assert cached(visitor, "/mentors/grace/reviews/")


def test_an_edit_that_keeps_the_rating_leaves_the_directory_cached(visitor, ada, grace, on_commit):
    review = ReviewFactory(session__mentor=ada, rating=5, feedback="Good.")
    warm(visitor, "/mentors/", "/mentors/ada/", "/mentors/grace/")

    on_commit(
        lambda: edit_review(
            review=review, by=review.mentee.user, rating=5, feedback="Very good indeed."
        )
    )

    assert "Very good indeed." in page(visitor, "/mentors/ada/")[0]
    assert cached(visitor, "/mentors/")
    assert cached(visitor, "/mentors/grace/")


def test_hiding_a_review_updates_the_card(visitor, ada, on_commit):
    review = ReviewFactory(session__mentor=ada, rating=1, feedback="Rude words.")
    ReviewFactory(session__mentor=ada, rating=5)
    warm(visitor, "/mentors/", "/mentors/ada/")
    assert "(2 reviews)" in page(visitor, "/mentors/")[0]

    on_commit(lambda: hide_review(review=review, by=UserFactory(is_staff=True)))

    assert "(1 review)" in page(visitor, "/mentors/")[0]
    assert "Rude words." not in page(visitor, "/mentors/ada/")[0]


def test_a_reply_shows_on_its_mentor_page_only(visitor, ada, grace, on_commit):
    review = ReviewFactory(session__mentor=ada)
    warm(visitor, "/mentors/", "/mentors/ada/", "/mentors/grace/")

    on_commit(lambda: reply_to_review(review=review, by=ada.user, body="Thank you, Bob."))

    assert "Thank you, Bob." in page(visitor, "/mentors/ada/")[0]
    assert cached(visitor, "/mentors/")
    assert cached(visitor, "/mentors/grace/")


def test_a_headline_edit_shows_in_the_directory_and_on_that_page_only(
    visitor, ada, grace, on_commit
):
    warm(visitor, "/mentors/", "/mentors/?q=engines", "/mentors/ada/", "/mentors/grace/")

    on_commit(
        lambda: update_mentor_profile(
            mentor=ada, changes={"headline": "Poetical science"}, tags=[], links={}
        )
    )

    assert "Poetical science" in page(visitor, "/mentors/")[0]
    assert "Poetical science" in page(visitor, "/mentors/ada/")[0]
    assert "No mentors match" in page(visitor, "/mentors/?q=engines")[0]  # search follows
    assert cached(visitor, "/mentors/grace/")


def test_a_tag_change_shows_in_the_directory_and_on_that_page(visitor, ada, grace, on_commit):
    tag = ExpertiseTagFactory(name="Mathematics", slug="mathematics")
    warm(visitor, "/mentors/?tag=mathematics", "/mentors/ada/", "/mentors/grace/")

    on_commit(lambda: update_mentor_profile(mentor=ada, changes={}, tags=[tag], links={}))

    assert "/mentors/ada/" in page(visitor, "/mentors/?tag=mathematics")[0]
    assert "?tag=mathematics" in page(visitor, "/mentors/ada/")[0]
    assert cached(visitor, "/mentors/grace/")


def test_a_links_edit_shows_on_that_page_and_leaves_the_directory_cached(
    visitor, ada, grace, on_commit
):
    warm(visitor, "/mentors/", "/mentors/ada/", "/mentors/grace/")

    on_commit(
        lambda: update_mentor_profile(
            mentor=ada, changes={}, tags=[], links={"github": "https://github.com/ada"}
        )
    )

    assert "https://github.com/ada" in page(visitor, "/mentors/ada/")[0]
    assert cached(visitor, "/mentors/")
    assert cached(visitor, "/mentors/grace/")


def test_a_new_tag_shows_in_the_filters_and_leaves_mentor_pages_cached(
    visitor, ada, grace, on_commit
):
    warm(visitor, "/mentors/", "/mentors/ada/", "/mentors/grace/")

    on_commit(lambda: create_expertise_tag(name="Quantum computing"))

    assert "Quantum computing" in page(visitor, "/mentors/")[0]
    assert cached(visitor, "/mentors/ada/")
    assert cached(visitor, "/mentors/grace/")


def test_a_booking_rule_change_makes_everything_stale(visitor, ada, grace, on_commit):
    # The rules change bookable times and the picker: every cached page goes.
    warm(visitor, "/mentors/", "/mentors/ada/", "/mentors/grace/")

    on_commit(
        lambda: update_mentor_profile(mentor=ada, changes={"buffer_minutes": 30}, tags=[], links={})
    )

    assert not cached(visitor, "/mentors/grace/")
    assert not cached(visitor, "/mentors/")
