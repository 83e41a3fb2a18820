"""The lifecycle after booking: the clock's moves (the periodic task), status
by the clock on every page, and no-shows."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from accounts.tests.factories import UserFactory
from scheduling.booking import BookingRefused
from scheduling.lifecycle import advance_statuses, mark_no_show
from scheduling.models import Session
from scheduling.rules import no_show_checks, no_show_refusal
from scheduling.tasks import advance_session_statuses
from scheduling.tests.factories import SessionFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    """NOW for what reads the clock (the task, rows written on the way) as for
    the ``now`` the services are given."""
    time_machine.move_to(NOW, tick=False)


def session_at(start, status=Session.Status.UPCOMING, **fields):
    return SessionFactory(start=start, end=start + HOUR, status=status, **fields)


def statuses(*sessions):
    return [Session.objects.get(pk=session.pk).status for session in sessions]


def test_moves_sessions_forward_by_the_clock():
    future = session_at(NOW + HOUR)
    running = session_at(NOW - timedelta(minutes=30))
    ended = session_at(NOW - 2 * HOUR)
    active_ended = session_at(NOW - 2 * HOUR, status=Session.Status.ACTIVE)
    cancelled = session_at(NOW - 2 * HOUR, status=Session.Status.CANCELLED)
    no_show = session_at(NOW - 30 * timedelta(minutes=1), status=Session.Status.NO_SHOW)

    moved = advance_statuses(now=NOW)

    assert (moved.started, moved.completed) == (1, 2)
    assert statuses(future, running, ended, active_ended, cancelled, no_show) == [
        "upcoming",
        "active",
        "completed",
        "completed",
        "cancelled",
        "no_show",
    ]


def test_running_it_again_changes_nothing_and_never_moves_back():
    running = session_at(NOW - timedelta(minutes=30))
    advance_statuses(now=NOW)
    assert advance_statuses(now=NOW) == advance_statuses(now=NOW - 3 * HOUR)
    assert advance_statuses(now=NOW - 3 * HOUR).started == 0
    assert statuses(running) == ["active"]


def test_a_session_that_starts_and_ends_between_two_runs_becomes_completed():
    missed = session_at(NOW - 3 * HOUR)
    advance_statuses(now=NOW)
    assert statuses(missed) == ["completed"]


def test_boundaries_start_is_active_end_is_completed():
    starting = session_at(NOW)
    ending = session_at(NOW - HOUR)
    advance_statuses(now=NOW)
    assert statuses(starting, ending) == ["active", "completed"]


@pytest.mark.parametrize(
    ("offset", "stored", "expected"),
    [
        (HOUR, "upcoming", "upcoming"),
        (-timedelta(minutes=30), "upcoming", "active"),
        (-2 * HOUR, "upcoming", "completed"),
        (-2 * HOUR, "active", "completed"),
        (-2 * HOUR, "cancelled", "cancelled"),
        (-timedelta(minutes=30), "no_show", "no_show"),
        (HOUR, "cancelled", "cancelled"),
    ],
)
def test_status_at_reads_the_clock_without_the_task(offset, stored, expected):
    session = session_at(NOW + offset, status=stored)
    assert session.status_at(NOW) == expected
    assert session.status_label_at(NOW) == Session.Status(expected).label


def test_the_task_runs_the_service():
    running = session_at(NOW - timedelta(minutes=30))
    assert advance_session_statuses.delay().get() == {"started": 1, "completed": 0}
    assert statuses(running) == ["active"]


def test_the_task_is_on_the_beat_schedule_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["advance-session-statuses"]
    assert entry["task"] == advance_session_statuses.name
    assert entry["schedule"] <= 60


# --- No-shows ------------------------------------------------------------------------------


def test_the_mentor_marks_a_no_show_after_the_start():
    session = session_at(NOW - timedelta(minutes=10))
    marked = mark_no_show(session=session, by=session.mentor.user, now=NOW)
    assert marked.status == Session.Status.NO_SHOW
    assert marked.no_show_marked_at == NOW
    assert statuses(session) == ["no_show"]
    # The clock does not move it on.
    advance_statuses(now=NOW + 3 * HOUR)
    assert statuses(session) == ["no_show"]


@pytest.mark.parametrize("stored", ["active", "completed"])
def test_a_no_show_can_follow_active_or_completed(stored):
    session = session_at(NOW - 2 * HOUR, status=stored)
    assert mark_no_show(session=session, by=session.mentor.user, now=NOW).status == "no_show"


def assert_no_show_refused(session, by, match, now=NOW):
    before = statuses(session)
    with pytest.raises(BookingRefused, match=match):
        mark_no_show(session=session, by=by, now=now)
    assert statuses(session) == before
    assert Session.objects.get(pk=session.pk).no_show_marked_at is None


def test_no_show_refused_before_the_start():
    session = session_at(NOW + HOUR)
    assert_no_show_refused(session, session.mentor.user, "once the session has started")


def test_no_show_refused_for_the_mentee_and_outsiders():
    session = session_at(NOW - HOUR)
    assert_no_show_refused(session, session.mentee.user, "Only the mentor")
    assert_no_show_refused(session, UserFactory(), "Only the mentor")


def test_no_show_refused_for_a_cancelled_or_already_marked_session():
    cancelled = session_at(NOW - HOUR, status=Session.Status.CANCELLED)
    assert_no_show_refused(cancelled, cancelled.mentor.user, "cannot be marked")
    marked = session_at(NOW - HOUR, status=Session.Status.NO_SHOW)
    assert_no_show_refused(marked, marked.mentor.user, "cannot be marked")


def test_no_show_refused_more_than_seven_days_after_the_end():
    session = session_at(NOW - timedelta(days=8))
    assert_no_show_refused(session, session.mentor.user, "up to 7 days")
    earlier = NOW - timedelta(days=2)
    assert mark_no_show(session=session, by=session.mentor.user, now=earlier).status == "no_show"


def test_no_show_refused_once_the_mentee_reviewed_the_session():
    from reviews.tests.factories import ReviewFactory

    session = session_at(NOW - 2 * HOUR, status=Session.Status.COMPLETED)
    ReviewFactory(session=session)
    assert_no_show_refused(session, session.mentor.user, "has reviewed this session")


def test_the_reviews_app_registers_its_no_show_check_once_the_apps_are_ready():
    """Scheduling never reaches up into reviews: reviews registers how it
    knows a session took place (``ReviewsConfig.ready``), once."""
    from django.apps import apps

    from reviews.services import no_show_refusal_of_reviewed

    assert apps.ready
    assert no_show_checks.functions.count(no_show_refusal_of_reviewed) == 1
    apps.get_app_config("reviews").ready()  # ready() may run again: still once
    assert no_show_checks.functions.count(no_show_refusal_of_reviewed) == 1


def test_the_no_show_rule_costs_no_query_on_a_session_loaded_with_its_review(
    django_assert_num_queries,
):
    """The session page loads the review with the session: asking whether
    the mentor may mark a no-show adds nothing to its queries."""
    from reviews.tests.factories import ReviewFactory

    reviewed = session_at(NOW - 2 * HOUR, status=Session.Status.COMPLETED)
    ReviewFactory(session=reviewed)
    not_reviewed = session_at(NOW - 4 * HOUR, status=Session.Status.COMPLETED)
    loaded = {
        session.pk: session
        for session in Session.objects.select_related("mentor", "review").filter(
            pk__in=[reviewed.pk, not_reviewed.pk]
        )
    }
    mentor = reviewed.mentor.user
    with django_assert_num_queries(0):
        assert no_show_refusal(loaded[reviewed.pk], mentor, NOW) == (
            "The mentee has reviewed this session, so it took place."
        )
        assert no_show_refusal(loaded[not_reviewed.pk], not_reviewed.mentor.user, NOW) is None
