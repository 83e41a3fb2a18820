"""The stored ratings stay honest whatever happens (hypothesis, stateful).

A random sequence of submits, edits, hides, restores and deletes (allowed or
not: bad ratings, late edits, the wrong user) runs over a few sessions of one
or two mentors. After every step each mentor's stored ``rating_avg``/
``rating_count`` and per-star ``rating_<n>_count`` must equal a fresh
recomputation from the database *and* the visible ratings this test keeps
itself (the mean rounded here by separate code); and every step must have
been allowed or refused exactly as the rules say.
"""

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from math import floor

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from accounts.tests.factories import UserFactory
from mentorship.models import MentorProfile
from mentorship.tests.factories import MentorProfileFactory
from reviews.models import Review
from reviews.selectors import rating_drift
from reviews.services import (
    ReviewRefused,
    delete_review,
    edit_review,
    hide_review,
    restore_review,
    submit_review,
)
from scheduling.models import Session
from scheduling.tests.factories import SessionFactory

pytestmark = pytest.mark.django_db

MAX_SESSIONS = 6
# What a session can be: only "completed" (ended, by the clock) may be reviewed.
KINDS = ["completed", "completed", "ended_upcoming", "cancelled", "no_show", "future"]
RATINGS = st.one_of(st.integers(1, 5), st.sampled_from([0, 6, -3, True, "4", None, 4.0]))


def is_valid_rating(rating) -> bool:
    return type(rating) is int and 1 <= rating <= 5


def expected_average(ratings: list[int]) -> tuple[Decimal, int]:
    """The mean to two places, half up, by exact fractions: not the code under test."""
    if not ratings:
        return Decimal("0.00"), 0
    hundredths = floor(Fraction(sum(ratings), len(ratings)) * 100 + Fraction(1, 2))
    return Decimal(hundredths) / 100, len(ratings)


class ReviewsMachine(RuleBasedStateMachine):
    """The model: each session's review (rating, hidden) as the rules say it
    should be; the database must agree after every step."""

    def __init__(self):
        super().__init__()
        # Each run of the machine rolls back what it wrote.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.staff = UserFactory(is_staff=True)
        self.sessions: list[Session] = []
        self.kinds: list[str] = []
        self.reviews: dict = {}  # session pk -> Review
        self.model: dict = {}  # session pk -> {"rating": int, "hidden": bool}

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @initialize(
        mentor_count=st.integers(1, 2),
        plan=st.lists(
            st.tuples(st.integers(0, 1), st.sampled_from(KINDS)), min_size=1, max_size=MAX_SESSIONS
        ),
    )
    def make_sessions(self, mentor_count, plan):
        self.mentors = MentorProfileFactory.create_batch(mentor_count)
        now = timezone.now().replace(second=0, microsecond=0)
        for number, (owner, kind) in enumerate(plan):
            mentor = self.mentors[owner % mentor_count]
            start = {
                "completed": now - timedelta(days=3, hours=number),
                "ended_upcoming": now - timedelta(days=2, hours=number),
                "cancelled": now - timedelta(days=1, hours=number),
                "no_show": now - timedelta(hours=10 + number),
                "future": now + timedelta(days=1, hours=number),
            }[kind]
            status = {"completed": "completed", "cancelled": "cancelled", "no_show": "no_show"}
            self.sessions.append(
                SessionFactory(mentor=mentor, start=start, status=status.get(kind, "upcoming"))
            )
            self.kinds.append(kind)

    def _pick(self, index: int) -> tuple[Session, str]:
        index %= len(self.sessions)
        return self.sessions[index], self.kinds[index]

    @rule(index=st.integers(0, MAX_SESSIONS - 1), rating=RATINGS, by_mentor=st.booleans())
    def submit(self, index, rating, by_mentor):
        session, kind = self._pick(index)
        by = session.mentor.user if by_mentor else session.mentee.user
        allowed = (
            not by_mentor
            and kind in ("completed", "ended_upcoming")
            and session.pk not in self.model
            and is_valid_rating(rating)
        )
        try:
            review = submit_review(session=session, by=by, rating=rating, feedback="ok")
        except ReviewRefused:
            assert not allowed
        else:
            assert allowed
            self.reviews[session.pk] = review
            self.model[session.pk] = {"rating": rating, "hidden": False}

    @rule(
        index=st.integers(0, MAX_SESSIONS - 1),
        rating=RATINGS,
        days_later=st.sampled_from([0, 3, 7, 8]),
        by_author=st.booleans(),
    )
    def edit(self, index, rating, days_later, by_author):
        session, _kind = self._pick(index)
        review = self.reviews.get(session.pk)
        if review is None:
            return
        state = self.model[session.pk]
        by = session.mentee.user if by_author else session.mentor.user
        allowed = by_author and not state["hidden"] and days_later <= 7 and is_valid_rating(rating)
        try:
            edit_review(
                review=review,
                by=by,
                rating=rating,
                feedback="changed",
                now=review.created_at + timedelta(days=days_later),
            )
        except ReviewRefused:
            assert not allowed
        else:
            assert allowed
            state["rating"] = rating

    @rule(index=st.integers(0, MAX_SESSIONS - 1), by_staff=st.booleans())
    def hide(self, index, by_staff):
        session, _kind = self._pick(index)
        review = self.reviews.get(session.pk)
        if review is None:
            return
        try:
            hide_review(review=review, by=self.staff if by_staff else session.mentor.user)
        except ReviewRefused:
            assert not by_staff
        else:
            assert by_staff
            self.model[session.pk]["hidden"] = True

    @rule(index=st.integers(0, MAX_SESSIONS - 1), by_staff=st.booleans())
    def restore(self, index, by_staff):
        session, _kind = self._pick(index)
        review = self.reviews.get(session.pk)
        if review is None:
            return
        try:
            restore_review(review=review, by=self.staff if by_staff else session.mentee.user)
        except ReviewRefused:
            assert not by_staff
        else:
            assert by_staff
            self.model[session.pk]["hidden"] = False

    @rule(index=st.integers(0, MAX_SESSIONS - 1), by_staff=st.booleans())
    def delete(self, index, by_staff):
        session, _kind = self._pick(index)
        review = self.reviews.get(session.pk)
        if review is None:
            return
        try:
            deleted = delete_review(
                review=review, by=self.staff if by_staff else session.mentee.user
            )
        except ReviewRefused:
            assert not by_staff
        else:
            assert by_staff and deleted
            # The session may be reviewed again.
            del self.reviews[session.pk], self.model[session.pk]

    @invariant()
    def database_agrees_with_the_model(self):
        if not self.sessions:
            return
        star_fields = [f"rating_{stars}_count" for stars in range(1, 6)]
        profiles = MentorProfile.objects.filter(pk__in=[m.pk for m in self.mentors]).values(
            "pk", "rating_avg", "rating_count", *star_fields
        )
        stored = {row["pk"]: (row["rating_avg"], row["rating_count"]) for row in profiles}
        stored_stars = {row["pk"]: [row[field] for field in star_fields] for row in profiles}
        # A fresh recomputation from the rows finds nothing to fix.
        assert rating_drift(mentors=self.mentors) == []
        for mentor in self.mentors:
            visible = [
                state["rating"]
                for session in self.sessions
                if session.mentor_id == mentor.pk
                and (state := self.model.get(session.pk))
                and not state["hidden"]
            ]
            assert stored[mentor.pk] == expected_average(visible), (mentor, visible)
            assert stored_stars[mentor.pk] == [visible.count(stars) for stars in range(1, 6)]
        # Each review row is what the model says.
        rows = dict(
            Review.objects.filter(session__in=self.sessions).values_list("session_id", "rating")
        )
        assert rows == {pk: state["rating"] for pk, state in self.model.items()}


def test_stored_ratings_equal_a_fresh_recomputation_after_any_sequence():
    run_state_machine_as_test(
        ReviewsMachine,
        settings=settings(
            max_examples=60,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [([], "0.00"), ([5, 4], "4.50"), ([5, 4, 4], "4.33"), ([5] * 5 + [4, 2, 2], "4.13")],
)
def test_the_reference_rounding(ratings, expected):
    assert expected_average(ratings) == (Decimal(expected), len(ratings))
