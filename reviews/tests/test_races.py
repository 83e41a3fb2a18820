"""Reviews under real concurrency.

Each call runs in its own thread, so on its own database connection, and all
threads are released together by a barrier. The check for an existing review
is slowed down (``slow_check``) so that every thread's check-then-insert
window overlaps the others'. ``submit_review`` locks the mentor's row before
that check, so on PostgreSQL the threads queue and each later one sees the
first one's review; the one-review-per-session constraint is the backstop.
On SQLite the write transaction (BEGIN IMMEDIATE on the file test database)
serializes them the same way. Either way: one review, every other caller a
clean ``ReviewRefused``, never a database error.
"""

import time as clock
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.tests.factories import UserFactory
from conftest import describe_outcomes, run_together, split_outcomes
from mentorship.models import MentorProfile
from mentorship.tests.factories import MentorProfileFactory
from reviews import services
from reviews.models import Review
from reviews.services import ReviewRefused, edit_review, hide_review, submit_review

from .factories import CompletedSessionFactory

THREAD_TIMEOUT = 60


@pytest.fixture
def slow_check(monkeypatch):
    """Widen the window between the existing-review check and the insert."""
    real = services._session_has_review

    def slow(session):
        found = real(session)
        clock.sleep(0.05)
        return found

    monkeypatch.setattr(services, "_session_has_review", slow)


def stored_rating(mentor) -> tuple[Decimal, int]:
    row = MentorProfile.objects.filter(pk=mentor.pk).values("rating_avg", "rating_count").get()
    return row["rating_avg"], row["rating_count"]


def on_postgresql() -> None:
    if connection.vendor != "postgresql":
        # Not a missing service: CI's PostgreSQL pass runs this test.
        pytest.skip("row locks and the constraint race are PostgreSQL's; this run is on SQLite")


def on_sqlite() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite variant; this run is on PostgreSQL")


def race_for_one_session(racers: int) -> None:
    session = CompletedSessionFactory()
    mentee = session.mentee.user

    outcomes = run_together(
        [
            lambda rating=rating: submit_review(
                session=session, by=mentee, rating=rating, feedback=f"Take {rating}"
            )
            for rating in [(number % 5) + 1 for number in range(racers)]
        ]
    )

    done, refused = split_outcomes(outcomes, ReviewRefused)
    assert len(done) == 1, describe_outcomes(outcomes)
    assert len(refused) == racers - 1
    assert all(str(error) == "You have already reviewed this session." for error in refused), (
        describe_outcomes(outcomes)
    )
    review = Review.objects.get()
    assert review.pk == done[0].pk
    assert stored_rating(session.mentor) == (Decimal(review.rating), 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("racers", [2, 8])
def test_racing_submissions_for_one_session_make_one_review_on_postgresql(slow_check, racers):
    on_postgresql()
    race_for_one_session(racers)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("racers", [2, 8])
def test_racing_submissions_for_one_session_make_one_review_on_sqlite(slow_check, racers):
    on_sqlite()
    race_for_one_session(racers)


@pytest.mark.django_db(transaction=True)
def test_racing_reviews_of_one_mentor_all_count(slow_check):
    """Six mentees reviewing six sessions of one mentor at once: all six are
    written and the stored count is six. Without the mentor's lock two
    transactions could each compute the aggregate without the other's row."""
    mentor = MentorProfileFactory()
    sessions = [CompletedSessionFactory(mentor=mentor) for _ in range(6)]
    ratings = [5, 4, 4, 3, 5, 2]

    outcomes = run_together(
        [
            lambda session=session, rating=rating: submit_review(
                session=session, by=session.mentee.user, rating=rating
            )
            for session, rating in zip(sessions, ratings, strict=True)
        ]
    )

    done, refused = split_outcomes(outcomes, ReviewRefused)
    assert not refused, describe_outcomes(outcomes)
    assert len(done) == 6
    assert stored_rating(mentor) == (Decimal("3.83"), 6)  # 23 / 6


@pytest.mark.django_db(transaction=True)
def test_an_edit_racing_a_hide_leaves_honest_aggregates():
    mentor = MentorProfileFactory()
    first, second = (CompletedSessionFactory(mentor=mentor) for _ in range(2))
    review = submit_review(session=first, by=first.mentee.user, rating=1)
    submit_review(session=second, by=second.mentee.user, rating=5)
    staff = UserFactory(is_staff=True)

    outcomes = run_together(
        [
            lambda: edit_review(review=review, by=first.mentee.user, rating=2, feedback=""),
            lambda: hide_review(review=review, by=staff),
        ]
    )

    _done, refused = split_outcomes(outcomes, ReviewRefused)
    review.refresh_from_db()
    assert review.is_hidden
    # Whichever came first, the hidden review does not count.
    assert stored_rating(mentor) == (Decimal("5.00"), 1)
    if refused:  # the hide came first: a hidden review cannot be edited
        assert "hidden" in str(refused[0])
        assert review.rating == 1
    else:
        assert review.rating == 2


# --- The database backstop -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_database_refuses_a_second_review_of_a_session():
    session = CompletedSessionFactory()
    Review.objects.create(session=session, mentor=session.mentor, mentee=session.mentee, rating=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(
            session=session, mentor=session.mentor, mentee=session.mentee, rating=5
        )


@pytest.mark.django_db
@pytest.mark.parametrize("rating", [0, 6])
def test_the_database_refuses_a_rating_outside_1_to_5(rating):
    session = CompletedSessionFactory()
    with pytest.raises(IntegrityError, match="review_rating_1_to_5"), transaction.atomic():
        Review.objects.create(
            session=session, mentor=session.mentor, mentee=session.mentee, rating=rating
        )
