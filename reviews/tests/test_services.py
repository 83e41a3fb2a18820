"""The review rules (DESIGN §4), one test each, through ``reviews.services``.

Only the session's mentee reviews, once, after the session ended and was not
cancelled or a no-show; the author edits for 7 days; staff hide and restore;
staff delete (which frees the session to be reviewed again); the mentor
replies; anyone else signed in reports. Every refusal changes
nothing, and the mentor's stored rating follows every change.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.cache import mentor_page_versions
from mentorship.models import MentorProfile
from mentorship.tests.factories import MenteeProfileFactory, MentorProfileFactory
from reviews import services
from reviews.models import Review, ReviewReply, ReviewReport
from reviews.selectors import average_rating, rating_summary, visible_reviews
from reviews.services import (
    REVIEW_EDIT_WINDOW,
    ReviewRefused,
    delete_reply,
    delete_review,
    edit_refusal,
    edit_review,
    hide_review,
    reply_to_review,
    report_review,
    resolve_reports,
    restore_review,
    review_refusal,
    submit_review,
)
from scheduling.models import Session
from scheduling.tests.factories import SessionFactory

from .factories import (
    CompletedSessionFactory,
    ReviewFactory,
    ReviewReplyFactory,
    ReviewReportFactory,
)

pytestmark = pytest.mark.django_db


def page_versions() -> list[str]:
    """The cache versions of every mentor's page: a review service bumps its
    mentor's (``core.cache.mentor_changed``), no longer every page's."""
    return [
        mentor_page_versions(slug).fragments
        for slug in MentorProfile.objects.order_by("slug").values_list("slug", flat=True)
    ]


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def stored_rating(mentor) -> tuple[Decimal, int]:
    row = MentorProfile.objects.filter(pk=mentor.pk).values("rating_avg", "rating_count").get()
    return row["rating_avg"], row["rating_count"]


def review_row(review) -> dict:
    return Review.objects.filter(pk=review.pk).values().get()


@pytest.fixture
def session(db):
    return CompletedSessionFactory()


@pytest.fixture
def mentee(session):
    return session.mentee.user


@pytest.fixture
def mentor(session):
    return session.mentor.user


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, name="Sam Staff")


def hours_ago(hours: float):
    return timezone.now() - timedelta(hours=hours)


# --- Who may review what, and when ---------------------------------------------------------


def test_the_mentee_reviews_an_ended_session(session, mentee, django_capture_on_commit_callbacks):
    version = page_versions()
    with django_capture_on_commit_callbacks(execute=True):
        review = submit_review(session=session, by=mentee, rating=4, feedback="  Very helpful.  ")

    review.refresh_from_db()
    assert (review.session_id, review.mentor_id, review.mentee_id) == (
        session.pk,
        session.mentor_id,
        session.mentee_id,
    )
    assert (review.rating, review.feedback, review.is_hidden) == (4, "Very helpful.", False)
    assert stored_rating(session.mentor) == (Decimal("4.00"), 1)
    # The returned review's mentor carries the new aggregates.
    assert (review.mentor.rating_avg, review.mentor.rating_count) == (Decimal("4.00"), 1)
    # The cached mentor page and directory are stale from the commit on.
    assert page_versions() != version


def test_feedback_is_optional(session, mentee):
    review = submit_review(session=session, by=mentee, rating=5)
    assert review.feedback == ""


def test_an_upcoming_session_past_its_end_counts_as_ended(mentee):
    """Pages never wait for the periodic task that marks sessions completed."""
    session = SessionFactory(start=hours_ago(3), status=Session.Status.UPCOMING)
    assert submit_review(session=session, by=session.mentee.user, rating=5)


def test_another_user_cannot_review(session):
    with pytest.raises(ReviewRefused, match=exactly("Only the session's mentee can review it.")):
        submit_review(session=session, by=UserFactory(), rating=5)
    assert not Review.objects.exists()


def test_another_mentee_of_the_same_mentor_cannot_review(session):
    other = MenteeProfileFactory()
    SessionFactory(mentor=session.mentor, mentee=other, start=hours_ago(50), status="completed")
    with pytest.raises(ReviewRefused, match="mentee"):
        submit_review(session=session, by=other.user, rating=5)
    assert not Review.objects.exists()


def test_the_mentor_cannot_review_their_own_session(session, mentor):
    with pytest.raises(ReviewRefused, match=exactly("Mentors cannot review their own sessions.")):
        submit_review(session=session, by=mentor, rating=5)
    assert not Review.objects.exists()
    assert stored_rating(session.mentor) == (Decimal("0.00"), 0)


@pytest.mark.parametrize("user", [None, AnonymousUser()], ids=["none", "anonymous"])
def test_signed_out_visitors_cannot_review(session, user):
    with pytest.raises(ReviewRefused, match="sign in"):
        submit_review(session=session, by=user, rating=5)
    assert not Review.objects.exists()


def test_a_deactivated_mentee_cannot_review(session, mentee):
    mentee.is_active = False
    mentee.save()
    with pytest.raises(ReviewRefused, match="sign in"):
        submit_review(session=session, by=mentee, rating=5)
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    ("status", "start_hours_ago", "message"),
    [
        ("cancelled", 48, "^A cancelled session cannot be reviewed.$"),
        ("no_show", 48, "^A session marked as a no-show cannot be reviewed.$"),
        ("upcoming", -24, "^You can review this session once it has ended.$"),  # future
        ("upcoming", 0.25, "once it has ended"),  # started 15 minutes ago: in progress
        ("active", 0.25, "once it has ended"),
        ("cancelled", -24, "cancelled"),  # a future session that was called off
    ],
    ids=["cancelled", "no-show", "future", "started", "active", "cancelled-future"],
)
def test_sessions_that_did_not_take_place_or_have_not_ended_cannot_be_reviewed(
    status, start_hours_ago, message
):
    session = SessionFactory(start=hours_ago(start_hours_ago), status=status)  # 30 minutes
    with pytest.raises(ReviewRefused, match=message):
        submit_review(session=session, by=session.mentee.user, rating=5)
    assert not Review.objects.exists()


def test_the_clock_decides_when_a_session_has_ended():
    """``now`` is the service's clock: before the end, refused; after, allowed."""
    session = SessionFactory(start=hours_ago(3), status=Session.Status.UPCOMING)
    mentee = session.mentee.user
    with pytest.raises(ReviewRefused, match="once it has ended"):
        submit_review(session=session, by=mentee, rating=5, now=session.end - timedelta(seconds=1))
    assert submit_review(session=session, by=mentee, rating=5, now=session.end)


def test_a_session_is_reviewed_once(session, mentee):
    first = submit_review(session=session, by=mentee, rating=5)
    with pytest.raises(ReviewRefused, match=exactly("You have already reviewed this session.")):
        submit_review(session=session, by=mentee, rating=1)
    assert list(Review.objects.values_list("pk", "rating")) == [(first.pk, 5)]
    assert stored_rating(session.mentor) == (Decimal("5.00"), 1)


def test_a_hidden_review_still_counts_as_the_one_review(session, mentee, staff):
    hide_review(review=submit_review(session=session, by=mentee, rating=1), by=staff)
    with pytest.raises(ReviewRefused, match="already reviewed"):
        submit_review(session=session, by=mentee, rating=5)


def test_the_database_constraint_is_the_backstop_for_a_second_review(session, mentee, monkeypatch):
    """If the check were ever missed (a race it did not see), the one-review-
    per-session constraint refuses the insert, and the caller gets the same
    clear refusal, not an IntegrityError; nothing else is written."""
    submit_review(session=session, by=mentee, rating=5)
    monkeypatch.setattr(services, "_session_has_review", lambda session: False)
    with pytest.raises(ReviewRefused, match=exactly("You have already reviewed this session.")):
        submit_review(session=session, by=mentee, rating=1)
    assert Review.objects.count() == 1
    assert stored_rating(session.mentor) == (Decimal("5.00"), 1)


def test_a_stale_session_object_is_re_read(session, mentee):
    """The service decides on the row as it is now, not on the caller's copy."""
    stale = Session.objects.get(pk=session.pk)
    Session.objects.filter(pk=session.pk).update(status=Session.Status.NO_SHOW)
    with pytest.raises(ReviewRefused, match="no-show"):
        submit_review(session=stale, by=mentee, rating=5)


# --- What a review may hold -----------------------------------------------------------------


@pytest.mark.parametrize(
    "rating",
    [0, 6, -1, 10, "4", "abc", "", None, True, False, 4.0, 4.5, Decimal("4"), [4]],
    ids=repr,
)
def test_ratings_must_be_a_whole_number_from_1_to_5(session, mentee, rating):
    with pytest.raises(ReviewRefused, match=r"^Choose a rating from 1 to 5 stars\.$"):
        submit_review(session=session, by=mentee, rating=rating)
    assert not Review.objects.exists()


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
def test_every_rating_from_1_to_5_is_accepted(session, mentee, rating):
    assert submit_review(session=session, by=mentee, rating=rating).rating == rating


def test_feedback_may_be_2000_characters(session, mentee):
    review = submit_review(session=session, by=mentee, rating=5, feedback="x" * 2000)
    assert len(review.feedback) == 2000


def test_feedback_over_2000_characters_is_refused(session, mentee):
    with pytest.raises(
        ReviewRefused, match=exactly("Keep the feedback to 2000 characters or fewer.")
    ):
        submit_review(session=session, by=mentee, rating=5, feedback="x" * 2001)
    assert not Review.objects.exists()


def test_feedback_is_measured_after_stripping(session, mentee):
    review = submit_review(session=session, by=mentee, rating=5, feedback=" " + "x" * 2000 + "\n")
    assert review.feedback == "x" * 2000


@pytest.mark.parametrize(
    ("feedback", "message"),
    [("Great\x00session", "null characters"), (42, "must be text")],
    ids=["nul", "not-text"],
)
def test_feedback_must_be_storable_text(session, mentee, feedback, message):
    with pytest.raises(ReviewRefused, match=message):
        submit_review(session=session, by=mentee, rating=5, feedback=feedback)
    assert not Review.objects.exists()


# --- Eligibility, for pages that offer the form ---------------------------------------------


def test_eligibility_says_yes_only_to_the_mentee_of_an_ended_session(session, mentee, mentor):
    assert review_refusal(session=session, user=mentee, now=timezone.now()) is None
    assert review_refusal(session=session, user=mentor, now=timezone.now()) == (
        "Mentors cannot review their own sessions."
    )
    assert review_refusal(session=session, user=UserFactory(), now=timezone.now()) == (
        "Only the session's mentee can review it."
    )
    assert "sign in" in review_refusal(session, AnonymousUser(), timezone.now())
    future = SessionFactory(start=hours_ago(-24))
    assert "once it has ended" in review_refusal(future, future.mentee.user, timezone.now())
    submit_review(session=session, by=mentee, rating=5)
    session = Session.objects.get(pk=session.pk)
    assert review_refusal(session=session, user=mentee, now=timezone.now()) == (
        "You have already reviewed this session."
    )


def test_eligibility_costs_no_query_on_a_loaded_session(session, mentee, django_assert_num_queries):
    """A sessions page loads ``mentor``, ``mentee`` and ``review`` with its list."""
    loaded = Session.objects.select_related("mentor", "mentee", "review").get(pk=session.pk)
    with django_assert_num_queries(0):
        assert review_refusal(session=loaded, user=mentee, now=timezone.now()) is None


# --- Editing --------------------------------------------------------------------------------


@pytest.fixture
def review(session, mentee):
    return submit_review(session=session, by=mentee, rating=3, feedback="Fine.")


def test_the_author_edits_within_7_days(review, mentee, django_capture_on_commit_callbacks):
    version = page_versions()
    six_days_later = review.created_at + timedelta(days=6)
    with django_capture_on_commit_callbacks(execute=True):
        edited = edit_review(
            review=review,
            by=mentee,
            rating=5,
            feedback=" Better than I thought. ",
            now=six_days_later,
        )
    assert (edited.rating, edited.feedback) == (5, "Better than I thought.")
    assert review_row(review)["rating"] == 5
    assert stored_rating(review.mentor) == (Decimal("5.00"), 1)
    assert page_versions() != version


def test_the_edit_window_closes_after_7_days(review, mentee):
    assert timedelta(days=7) == REVIEW_EDIT_WINDOW
    last_moment = review.created_at + REVIEW_EDIT_WINDOW
    assert edit_review(review=review, by=mentee, rating=4, feedback="", now=last_moment)
    before = review_row(review)
    with pytest.raises(
        ReviewRefused, match=exactly("Reviews can be edited for 7 days after they are written.")
    ):
        edit_review(
            review=review,
            by=mentee,
            rating=1,
            feedback="Changed my mind.",
            now=last_moment + timedelta(seconds=1),
        )
    assert review_row(review) == before
    assert stored_rating(review.mentor) == (Decimal("4.00"), 1)


def test_the_edit_window_uses_the_real_clock_by_default(review, mentee):
    Review.objects.filter(pk=review.pk).update(created_at=timezone.now() - timedelta(days=8))
    review.refresh_from_db()
    with pytest.raises(ReviewRefused, match="7 days"):
        edit_review(review=review, by=mentee, rating=5, feedback="")
    assert "7 days" in edit_refusal(review=review, user=mentee, now=timezone.now())


@pytest.mark.parametrize("who", ["mentor", "other", "staff", "anonymous"])
def test_only_the_author_edits(review, mentor, staff, who):
    user = {
        "mentor": mentor,
        "other": UserFactory(),
        "staff": staff,
        "anonymous": AnonymousUser(),
    }[who]
    before = review_row(review)
    with pytest.raises(ReviewRefused, match=exactly("Only the review's author can edit it.")):
        edit_review(review=review, by=user, rating=5, feedback="Changed.")
    assert review_row(review) == before
    assert stored_rating(review.mentor) == (Decimal("3.00"), 1)
    assert edit_refusal(review, user, timezone.now()) == "Only the review's author can edit it."


def test_edits_follow_the_same_rules_for_rating_and_feedback(review, mentee):
    before = review_row(review)
    for rating in (0, 6, "5", True, None):
        with pytest.raises(ReviewRefused, match="rating"):
            edit_review(review=review, by=mentee, rating=rating, feedback="")
    with pytest.raises(ReviewRefused, match="2000"):
        edit_review(review=review, by=mentee, rating=5, feedback="x" * 2001)
    assert review_row(review) == before


def test_a_hidden_review_cannot_be_edited(review, mentee, staff):
    hide_review(review=review, by=staff)
    with pytest.raises(ReviewRefused, match="hidden"):
        edit_review(review=review, by=mentee, rating=5, feedback="Please put it back.")
    assert review_row(review)["rating"] == 3


def test_eligibility_to_edit(review, mentee):
    assert edit_refusal(review=review, user=mentee, now=timezone.now()) is None


# --- Moderation -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["mentor", "mentee", "other", "anonymous"])
def test_only_staff_hide_and_restore(review, mentor, mentee, staff, who):
    user = {"mentor": mentor, "mentee": mentee, "other": UserFactory(), "anonymous": None}[who]
    with pytest.raises(ReviewRefused, match=exactly("Only staff can hide reviews.")):
        hide_review(review=review, by=user)
    assert review_row(review)["is_hidden"] is False

    hide_review(review=review, by=staff)
    with pytest.raises(ReviewRefused, match=exactly("Only staff can restore reviews.")):
        restore_review(review=review, by=user)
    assert review_row(review)["is_hidden"] is True


def test_a_deactivated_staff_account_cannot_moderate(review):
    former = UserFactory(is_staff=True, is_active=False)
    with pytest.raises(ReviewRefused, match="staff"):
        hide_review(review=review, by=former)


def test_hiding_takes_the_rating_out_and_restoring_puts_it_back(
    session, mentee, staff, django_capture_on_commit_callbacks
):
    mentor = session.mentor
    low = submit_review(session=session, by=mentee, rating=1)
    ReviewFactory(session__mentor=mentor, rating=5, recompute=False)
    ReviewFactory(session__mentor=mentor, rating=4)
    assert stored_rating(mentor) == (Decimal("3.33"), 3)

    version = page_versions()
    with django_capture_on_commit_callbacks(execute=True):
        hidden = hide_review(review=low, by=staff, reason="Abusive language.")
    assert (hidden.is_hidden, hidden.hidden_by, hidden.hidden_at is not None) == (True, staff, True)
    assert stored_rating(mentor) == (Decimal("4.50"), 2)
    assert page_versions() != version
    assert low.pk not in {review.pk for review in visible_reviews(mentor)}

    restored = restore_review(review=low, by=staff)
    assert (restored.is_hidden, restored.hidden_by, restored.hidden_at) == (False, None, None)
    assert stored_rating(mentor) == (Decimal("3.33"), 3)

    # Who did what, and why, is in the review's admin history.
    history = list(
        LogEntry.objects.filter(object_id=str(low.pk))
        .order_by("action_time", "pk")
        .values_list("user_id", "change_message")
    )
    assert history == [(staff.pk, "Hidden. Reason: Abusive language."), (staff.pk, "Restored.")]


def test_hiding_twice_or_restoring_a_visible_review_changes_nothing(review, staff):
    hide_review(review=review, by=staff)
    hidden_at = review_row(review)["hidden_at"]
    hide_review(review=review, by=staff)
    assert review_row(review)["hidden_at"] == hidden_at
    restore_review(review=review, by=staff)
    restore_review(review=review, by=staff)
    assert review_row(review)["is_hidden"] is False
    assert LogEntry.objects.count() == 2


def test_hiding_resolves_the_open_reports(review, staff):
    reports = ReviewReportFactory.create_batch(2, review=review)
    other = ReviewReportFactory()  # on another review
    hide_review(review=review, by=staff)
    for report in reports:
        report.refresh_from_db()
        assert (report.status, report.resolved_by) == ("resolved", staff)
        assert report.resolved_at is not None
    other.refresh_from_db()
    assert other.status == "open"


def test_a_hide_reason_must_be_storable(review, staff):
    with pytest.raises(ReviewRefused, match="1000"):
        hide_review(review=review, by=staff, reason="x" * 1001)
    assert review_row(review)["is_hidden"] is False


def test_staff_can_resolve_reports_without_hiding(review, staff):
    reports = ReviewReportFactory.create_batch(2, review=review)
    with pytest.raises(ReviewRefused, match="staff"):
        resolve_reports(reports=reports, by=review.mentor.user)
    assert resolve_reports(reports=reports, by=staff) == 2
    assert resolve_reports(reports=reports, by=staff) == 0
    assert review_row(review)["is_hidden"] is False


# --- Deleting -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["mentor", "mentee", "other", "anonymous", "former staff"])
def test_only_staff_delete_reviews(review, mentor, mentee, who):
    ReviewReplyFactory(review=review)
    ReviewReportFactory(review=review)
    user = {
        "mentor": mentor,
        "mentee": mentee,
        "other": UserFactory(),
        "anonymous": None,
        "former staff": UserFactory(is_staff=True, is_active=False),
    }[who]
    before = review_row(review)
    with pytest.raises(ReviewRefused, match=exactly("Only staff can delete reviews.")):
        delete_review(review=review, by=user)
    assert review_row(review) == before
    assert ReviewReply.objects.filter(review=review).exists()
    assert ReviewReport.objects.filter(review=review).exists()
    assert stored_rating(review.mentor) == (Decimal("3.00"), 1)


def test_staff_delete_a_review_with_its_reply_and_reports(
    session, mentee, staff, django_capture_on_commit_callbacks
):
    mentor = session.mentor
    low = submit_review(session=session, by=mentee, rating=1)
    ReviewReplyFactory(review=low)
    ReviewReportFactory.create_batch(2, review=low)
    other = ReviewFactory(session__mentor=mentor, rating=5, recompute=False)
    other_report = ReviewReportFactory(review=other)
    ReviewFactory(session__mentor=mentor, rating=4)
    assert stored_rating(mentor) == (Decimal("3.33"), 3)

    version = page_versions()
    with django_capture_on_commit_callbacks(execute=True):
        assert delete_review(review=low, by=staff) is True

    assert not Review.objects.filter(pk=low.pk).exists()
    assert not ReviewReply.objects.exists()
    assert list(ReviewReport.objects.all()) == [other_report]
    assert stored_rating(mentor) == (Decimal("4.50"), 2)
    assert page_versions() != version
    assert low.pk not in {review.pk for review in visible_reviews(mentor)}
    assert Session.objects.filter(pk=session.pk).exists()  # the session stays
    assert not LogEntry.objects.exists()  # the admin logs its own deletions


def test_deleting_a_hidden_review_leaves_the_rating_as_it_was(session, mentee, staff):
    low = submit_review(session=session, by=mentee, rating=1)
    ReviewFactory(session__mentor=session.mentor, rating=5)
    hide_review(review=low, by=staff)
    assert stored_rating(session.mentor) == (Decimal("5.00"), 1)
    assert delete_review(review=low, by=staff) is True
    assert stored_rating(session.mentor) == (Decimal("5.00"), 1)


def test_deleting_a_deleted_review_is_a_no_op(review, staff, django_capture_on_commit_callbacks):
    assert delete_review(review=review, by=staff) is True
    version = page_versions()
    with django_capture_on_commit_callbacks(execute=True):
        assert delete_review(review=review, by=staff) is False  # the stale object
    assert page_versions() == version
    assert stored_rating(review.mentor) == (Decimal("0.00"), 0)


def test_after_deletion_the_mentee_may_review_the_session_again(staff):
    session = SessionFactory(start=hours_ago(3), status=Session.Status.UPCOMING)
    mentee = session.mentee.user
    ended = session.end
    first = submit_review(session=session, by=mentee, rating=1, feedback="Angry.", now=ended)
    loaded = Session.objects.select_related("mentor", "mentee", "review").get(pk=session.pk)
    assert review_refusal(session=loaded, user=mentee, now=ended) == (
        "You have already reviewed this session."
    )

    delete_review(review=first, by=staff)

    loaded = Session.objects.select_related("mentor", "mentee", "review").get(pk=session.pk)
    an_hour_later = ended + timedelta(hours=1)
    assert review_refusal(session=loaded, user=mentee, now=an_hour_later) is None
    # Even with the stale session object: the service re-reads under the lock.
    second = submit_review(session=session, by=mentee, rating=4, now=an_hour_later)
    assert second.pk != first.pk
    assert stored_rating(session.mentor) == (Decimal("4.00"), 1)
    # Only the mentee, as before.
    assert "mentee" in review_refusal(session=loaded, user=UserFactory(), now=an_hour_later)


def is_rating_aggregate(sql: str) -> bool:
    """The per-star counts of a mentor's visible reviews (the rating's aggregate)."""
    return 'COUNT("reviews_review"."id") FILTER' in sql


def test_deleting_locks_the_mentor_row(review, staff):
    """Like every rating change: under the mentor's lock, then the aggregate."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks (its write transaction serializes instead)")
    with CaptureQueriesContext(connection) as queries:
        delete_review(review=review, by=staff)
    statements = [query["sql"] for query in queries.captured_queries]
    lock = next(i for i, sql in enumerate(statements) if "FOR UPDATE" in sql)
    assert '"mentorship_mentorprofile"' in statements[lock]
    delete = next(i for i, sql in enumerate(statements) if 'DELETE FROM "reviews_review"' in sql)
    aggregate = next(i for i, sql in enumerate(statements) if is_rating_aggregate(sql))
    assert lock < delete < aggregate


# --- Aggregates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [
        ([], (Decimal("0.00"), 0)),
        ([4], (Decimal("4.00"), 1)),
        ([5, 4], (Decimal("4.50"), 2)),
        ([5, 4, 4], (Decimal("4.33"), 3)),
        ([5, 5, 4], (Decimal("4.67"), 3)),
        ([5, 5, 5, 5, 5, 4, 2, 2], (Decimal("4.13"), 8)),  # 4.125: half up
        ([1, 1, 2], (Decimal("1.33"), 3)),
    ],
)
def test_the_stored_average_is_the_mean_to_two_places(ratings, expected):
    mentor = MentorProfileFactory()
    for rating in ratings:
        session = CompletedSessionFactory(mentor=mentor)
        submit_review(session=session, by=session.mentee.user, rating=rating)
    assert stored_rating(mentor) == expected
    assert average_rating(sum(ratings), len(ratings)) == expected[0]


def test_reviews_of_one_mentor_leave_the_others_alone(session, mentee):
    other = ReviewFactory(rating=2).mentor
    submit_review(session=session, by=mentee, rating=5)
    assert stored_rating(other) == (Decimal("2.00"), 1)
    assert stored_rating(session.mentor) == (Decimal("5.00"), 1)


def test_submitting_locks_the_mentor_row(session, mentee):
    """The aggregate is computed under the lock ``book_session`` also takes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks (its write transaction serializes instead)")
    with CaptureQueriesContext(connection) as queries:
        submit_review(session=session, by=mentee, rating=5)
    statements = [query["sql"] for query in queries.captured_queries]
    lock = next(i for i, sql in enumerate(statements) if "FOR UPDATE" in sql)
    assert '"mentorship_mentorprofile"' in statements[lock]
    aggregate = next(i for i, sql in enumerate(statements) if is_rating_aggregate(sql))
    assert lock < aggregate


# --- Replies --------------------------------------------------------------------------------


def test_the_mentor_replies_once_and_may_change_the_reply(
    review, mentor, django_capture_on_commit_callbacks
):
    version = page_versions()
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_to_review(review=review, by=mentor, body="  Thanks for coming!  ")
    assert reply.body == "Thanks for coming!"
    assert page_versions() != version
    again = reply_to_review(review=review, by=mentor, body="Thanks, see you again.")
    assert again.pk == reply.pk
    assert list(ReviewReply.objects.values_list("body", flat=True)) == ["Thanks, see you again."]


@pytest.mark.parametrize("who", ["mentee", "other", "staff", "anonymous"])
def test_only_the_mentor_replies(review, mentee, staff, who):
    user = {"mentee": mentee, "other": UserFactory(), "staff": staff, "anonymous": None}[who]
    with pytest.raises(ReviewRefused, match=exactly("Only the mentor can reply to this review.")):
        reply_to_review(review=review, by=user, body="Hello")
    assert not ReviewReply.objects.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [("   ", "Please write the reply."), ("x" * 2001, "2000"), ("a\x00b", "null")],
    ids=["blank", "too-long", "nul"],
)
def test_a_reply_must_say_something_storable(review, mentor, body, message):
    with pytest.raises(ReviewRefused, match=message):
        reply_to_review(review=review, by=mentor, body=body)
    assert not ReviewReply.objects.exists()


def test_a_hidden_review_gets_no_reply(review, mentor, staff):
    hide_review(review=review, by=staff)
    with pytest.raises(ReviewRefused, match="hidden"):
        reply_to_review(review=review, by=mentor, body="But…")
    assert not ReviewReply.objects.exists()


def test_the_mentor_deletes_their_reply(review, mentor, mentee, staff):
    reply = reply_to_review(review=review, by=mentor, body="Thanks!")
    for user in (mentee, staff, UserFactory(), None):
        with pytest.raises(ReviewRefused, match=exactly("Only the mentor can delete this reply.")):
            delete_reply(reply=reply, by=user)
    assert ReviewReply.objects.exists()
    delete_reply(reply=reply, by=mentor)
    assert not ReviewReply.objects.exists()
    delete_reply(reply=reply, by=mentor)  # twice: nothing more to do
    assert reply_to_review(review=review, by=mentor, body="Thanks again!")


# --- Reports --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["other", "mentor", "staff"])
def test_any_signed_in_user_but_the_author_reports(review, mentor, staff, who):
    user = {"other": UserFactory(), "mentor": mentor, "staff": staff}[who]
    report = report_review(review=review, by=user, reason="  Not about the session.  ")
    assert (report.review_id, report.reporter, report.reason, report.status) == (
        review.pk,
        user,
        "Not about the session.",
        "open",
    )
    # A report changes nothing public.
    assert review_row(review)["is_hidden"] is False


def test_a_second_report_by_the_same_user_is_refused(review):
    reporter = UserFactory()
    report_review(review=review, by=reporter, reason="Spam.")
    with pytest.raises(ReviewRefused, match=exactly("You have already reported this review.")):
        report_review(review=review, by=reporter, reason="Really, spam.")
    assert ReviewReport.objects.count() == 1
    # Others may still report it.
    report_review(review=review, by=UserFactory(), reason="Spam.")
    assert ReviewReport.objects.count() == 2


def test_the_unique_constraint_backs_up_the_second_report_check(review, monkeypatch):
    """A double submit racing itself: the check passes twice, the constraint
    refuses the second row, the caller gets the same clear refusal."""
    reporter = UserFactory()
    report_review(review=review, by=reporter, reason="Spam.")
    monkeypatch.setattr(services, "_already_reported", lambda review, user: False)
    with pytest.raises(ReviewRefused, match=exactly("You have already reported this review.")):
        report_review(review=review, by=reporter, reason="Spam again.")
    assert ReviewReport.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "reason", "message"),
    [
        ("author", "Oops.", "^You cannot report your own review.$"),
        ("anonymous", "Spam.", "sign in"),
        ("inactive", "Spam.", "sign in"),
        ("other", "  ", "Please write the reason."),
        ("other", "x" * 1001, "1000"),
    ],
)
def test_refused_reports(review, mentee, who, reason, message):
    user = {
        "author": mentee,
        "anonymous": AnonymousUser(),
        "inactive": UserFactory(is_active=False),
        "other": UserFactory(),
    }[who]
    with pytest.raises(ReviewRefused, match=message):
        report_review(review=review, by=user, reason=reason)
    assert not ReviewReport.objects.exists()


def test_a_hidden_review_cannot_be_reported(review, staff):
    hide_review(review=review, by=staff)
    with pytest.raises(ReviewRefused, match="already been hidden"):
        report_review(review=review, by=UserFactory(), reason="Spam.")


# --- Selectors ------------------------------------------------------------------------------


def test_rating_summary_reads_the_stored_counts_without_a_query(django_assert_num_queries, staff):
    mentor = MentorProfileFactory()
    for rating in (5, 5, 5, 4, 2, 1):
        ReviewFactory(session__mentor=mentor, rating=rating)
    hide_review(review=ReviewFactory(session__mentor=mentor, rating=1), by=staff)
    ReviewFactory(rating=3)  # another mentor's
    mentor.refresh_from_db()

    # The per-star counts stored on the profile: the page scans no reviews,
    # however many the mentor has.
    with django_assert_num_queries(0):
        summary = rating_summary(mentor)

    assert summary.count == 6
    assert summary.average == Decimal("3.67")  # 22 / 6
    # 50, 16.7, 0, 16.7, 16.7 percent: whole numbers adding up to 100.
    assert summary.distribution == [(5, 3, 50), (4, 1, 17), (3, 0, 0), (2, 1, 17), (1, 1, 16)]
    assert sum(percent for _stars, _count, percent in summary.distribution) == 100


def test_rating_summary_without_reviews():
    summary = rating_summary(MentorProfileFactory())
    assert (summary.average, summary.count) == (None, 0)
    assert summary.distribution == [(stars, 0, 0) for stars in (5, 4, 3, 2, 1)]


def test_visible_reviews_newest_first_with_what_the_page_shows(django_assert_num_queries, staff):
    mentor = MentorProfileFactory()
    reviews = [ReviewFactory(session__mentor=mentor, rating=5, recompute=False) for _ in range(3)]
    for age, review in enumerate(reviews):  # the first is the newest
        Review.objects.filter(pk=review.pk).update(created_at=hours_ago(age + 1))
    ReviewReplyFactory(review=reviews[1], body="Thanks!")
    hide_review(review=ReviewFactory(session__mentor=mentor), by=staff)
    ReviewFactory()  # another mentor's

    with django_assert_num_queries(1):
        shown = list(visible_reviews(mentor))
        details = [
            (
                review.session.session_type.name,
                review.mentee.user.name,
                getattr(review, "reply", None) and review.reply.body,
            )
            for review in shown
        ]
    assert [review.pk for review in shown] == [review.pk for review in reviews]
    assert [body for _type, _name, body in details] == [None, "Thanks!", None]
