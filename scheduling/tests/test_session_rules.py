"""The session page offers an action exactly when its service accepts it.

Session states × users × actions (cancel, reschedule, mark no-show, review),
one test per cell: the cell's session is built fresh, its page
(``/sessions/<uuid>/``) is read as the user, then the real service is called
as them. The page and the services share one rule per action
(``scheduling.rules``, ``reviews.services.review_refusal``); this table is
what keeps them from drifting apart again (a mentor was offered "Mark as
no-show" on a session its mentee had reviewed, and the service refused).

A page that is a 404 (someone else's session) offers nothing. Staff read
every session page but act in the admin: the page offers them nothing, even
the cancellation the service accepts from them (the admin's "Cancel selected
sessions" calls the same service).

The clock is frozen at NOW (time-machine) and every time is built from it.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from mentorship.models import MentorProfile
from mentorship.tests.factories import MenteeProfileFactory, MentorProfileFactory
from reviews.services import ReviewRefused, submit_review
from reviews.tests.factories import ReviewFactory
from scheduling.booking import BookingRefused, cancel_session, reschedule_session
from scheduling.lifecycle import mark_no_show
from scheduling.models import Session
from scheduling.tests.factories import AvailabilityFactory, SessionFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 3, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# Where a move is asked to: inside the mentor's hours and free.
NEW_START = NOW + 5 * DAY


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    time_machine.move_to(NOW, tick=False)


@dataclass
class People:
    mentor: MentorProfile
    mentee_user: User
    users: dict[str, User]


@pytest.fixture
def people() -> People:
    """A mentor with three free hours from NEW_START (no notice needed beyond
    the default 12 hours, which NEW_START is past), their mentee, a staff
    member who takes no part in the session and another signed-in person."""
    mentor = MentorProfileFactory()
    AvailabilityFactory(mentor=mentor, start=NEW_START, end=NEW_START + 3 * HOUR)
    mentee = MenteeProfileFactory()
    return People(
        mentor=mentor,
        mentee_user=mentee.user,
        users={
            "mentor": mentor.user,
            "mentee": mentee.user,
            "staff": UserFactory(is_staff=True),
            "other": UserFactory(),
        },
    )


def session_of(people: People, start, **fields) -> Session:
    return SessionFactory(
        mentor=people.mentor, mentee=people.mentee_user.mentee_profile, start=start, **fields
    )


def upcoming_well_before_the_cutoff(people):
    return session_of(people, NOW + 3 * DAY)


def upcoming_inside_the_cutoff(people):
    # The mentor's cutoff is the default 12 hours.
    return session_of(people, NOW + 2 * HOUR)


def upcoming_with_bookings_paused(people):
    MentorProfile.objects.filter(pk=people.mentor.pk).update(is_accepting_bookings=False)
    return session_of(people, NOW + 3 * DAY)


def in_progress(people):
    return session_of(people, NOW - 10 * timedelta(minutes=1), status=Session.Status.ACTIVE)


def ended_before_the_task_ran(people):
    return session_of(people, NOW - 2 * HOUR, status=Session.Status.UPCOMING)


def ended_recently(people):
    return session_of(people, NOW - 3 * HOUR, status=Session.Status.COMPLETED)


def ended_and_reviewed(people):
    session = ended_recently(people)
    ReviewFactory(session=session)
    return session


def ended_more_than_7_days_ago(people):
    return session_of(people, NOW - 8 * DAY, status=Session.Status.COMPLETED)


def marked_no_show(people):
    return session_of(
        people, NOW - 2 * HOUR, status=Session.Status.NO_SHOW, no_show_marked_at=NOW - HOUR
    )


def cancelled(people):
    return session_of(
        people,
        NOW + 3 * DAY,
        status=Session.Status.CANCELLED,
        cancelled_at=NOW - HOUR,
        cancelled_by=people.mentee_user,
        cancellation_reason="Something came up.",
    )


def rescheduled_away(people):
    """The old row of a session its mentee moved (the new row is upcoming)."""
    old = session_of(
        people,
        NOW + 3 * DAY,
        status=Session.Status.CANCELLED,
        cancelled_at=NOW - HOUR,
        cancelled_by=people.mentee_user,
        cancellation_reason="Rescheduled by the mentee.",
    )
    session_of(people, NOW + 4 * DAY, rescheduled_from=old, ical_uid=old.ical_uid, ical_sequence=1)
    return old


STATES = {
    builder.__name__.replace("_", "-"): builder
    for builder in (
        upcoming_well_before_the_cutoff,
        upcoming_inside_the_cutoff,
        upcoming_with_bookings_paused,
        in_progress,
        ended_before_the_task_ran,
        ended_recently,
        ended_and_reviewed,
        ended_more_than_7_days_ago,
        marked_no_show,
        cancelled,
        rescheduled_away,
    )
}
USERS = ["mentor", "mentee", "staff", "other"]


def session_url(name: str, session: Session) -> str:
    return reverse(name, kwargs={"session_id": session.pk})


# How the session page offers each action: the URL of its form or link.
OFFERS = {
    "cancel": lambda session: f'href="{session_url("scheduling:session_cancel", session)}"',
    "reschedule": lambda session: f'href="{session_url("scheduling:session_reschedule", session)}"',
    "no-show": lambda session: f'action="{session_url("scheduling:session_no_show", session)}"',
    # The prompt; "Edit your review" links to the same page, and is not an offer to review.
    "review": lambda session: (
        f'href="{session_url("reviews:session_review", session)}">Leave a review</a>'
    ),
}

# The services, as the page's forms call them.
SERVICES = {
    "cancel": lambda session, user: cancel_session(
        session=session, by=user, reason="Something came up."
    ),
    "reschedule": lambda session, user: reschedule_session(
        session=session, by=user, start=NEW_START
    ),
    "no-show": lambda session, user: mark_no_show(session=session, by=user),
    "review": lambda session, user: submit_review(session=session, by=user, rating=4),
}

# Staff act on sessions in the admin, not on the session page.
NOT_ON_THE_PAGE = {("staff", "cancel")}


def refusal_of(action: str, session: Session, user: User) -> str | None:
    """The service's refusal, or None when it did what was asked."""
    try:
        SERVICES[action](session, user)
    except (BookingRefused, ReviewRefused) as refusal:
        return str(refusal)
    return None


@pytest.mark.parametrize("action", list(OFFERS))
@pytest.mark.parametrize("viewer", USERS)
@pytest.mark.parametrize("state", list(STATES))
def test_the_page_offers_an_action_exactly_when_the_service_accepts_it(
    client, people, state, viewer, action
):
    session = STATES[state](people)
    user = people.users[viewer]
    client.force_login(user)

    response = client.get(session_url("scheduling:session_detail", session))

    # Participants and staff see the page; anyone else gets a 404 (no offer).
    assert response.status_code == (404 if viewer == "other" else 200)
    offered = response.status_code == 200 and OFFERS[action](session) in response.text

    refusal = refusal_of(action, session, user)

    if (viewer, action) in NOT_ON_THE_PAGE:
        assert not offered
    elif offered:
        assert refusal is None, f"the page offers {action}, the service refuses: {refusal}"
    else:
        assert refusal is not None, f"the service accepts {action}, the page does not offer it"
