"""Cancelling: who may, until when, what is recorded, and the slot freed at once."""

from datetime import timedelta

import pytest

from accounts.tests.factories import UserFactory
from scheduling.booking import BookingRefused, cancel_session
from scheduling.models import Session
from scheduling.slots import available_slots

from .factories import NOW, book, new_york_mentor, ny

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(time_machine):
    """The pages and the services read the clock: NOW (Monday 1 June 2026,
    08:00 in New York) for every test, as for the ``now`` passed explicitly."""
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def booked():
    mentor = new_york_mentor(starting=NOW.date())
    intro = mentor.session_types.get(slug="intro-call")
    # Tuesday 2 June 2026, 10:00 New York: 18 hours after NOW.
    return book(UserFactory(), mentor, intro, ny(2026, 6, 2, 10))


def test_mentee_cancels_before_the_cutoff_and_the_time_is_offered_again(booked):
    intro = booked.session_type
    session = cancel_session(
        session=booked, by=booked.mentee.user, reason="Something came up", now=NOW
    )
    assert session.status == Session.Status.CANCELLED
    assert session.cancelled_at == NOW
    assert session.cancelled_by == booked.mentee.user
    assert session.cancellation_reason == "Something came up"
    starts = [
        slot.start
        for slot in available_slots(
            booked.mentor, intro, booked.start, booked.start + timedelta(hours=1), now=NOW
        )
    ]
    assert booked.start in starts


def test_mentee_cannot_cancel_inside_the_cutoff(booked):
    late = booked.start - timedelta(hours=11)
    with pytest.raises(BookingRefused, match="up to 12 hours"):
        cancel_session(session=booked, by=booked.mentee.user, now=late)
    booked.refresh_from_db()
    assert booked.status == Session.Status.UPCOMING


def test_the_cutoff_is_the_mentors_setting(booked):
    booked.mentor.cancellation_cutoff_hours = 0
    booked.mentor.save()
    late = booked.start - timedelta(minutes=5)
    cancel_session(session=booked, by=booked.mentee.user, now=late)
    booked.refresh_from_db()
    assert booked.status == Session.Status.CANCELLED


def test_mentor_may_cancel_until_the_start(booked):
    cancel_session(session=booked, by=booked.mentor.user, now=booked.start - timedelta(minutes=1))
    booked.refresh_from_db()
    assert booked.cancelled_by == booked.mentor.user


def test_nobody_cancels_after_the_start_or_twice(booked):
    with pytest.raises(BookingRefused, match="no longer be cancelled"):
        cancel_session(session=booked, by=booked.mentor.user, now=booked.start)
    cancel_session(session=booked, by=booked.mentor.user, now=NOW)
    with pytest.raises(BookingRefused, match="no longer be cancelled"):
        cancel_session(session=booked, by=booked.mentor.user, now=NOW)


def test_an_outsider_cannot_cancel(booked):
    with pytest.raises(BookingRefused, match="Only the mentor or the mentee"):
        cancel_session(session=booked, by=UserFactory(), now=NOW)
    booked.refresh_from_db()
    assert booked.status == Session.Status.UPCOMING


def test_an_overlong_reason_is_refused(booked):
    with pytest.raises(BookingRefused, match="under 1000"):
        cancel_session(session=booked, by=booked.mentor.user, reason="x" * 1001, now=NOW)


def test_cancel_url_participants_only(client, booked):
    url = f"/sessions/{booked.pk}/cancel/"
    assert client.post(url)["Location"].startswith("/accounts/login/")
    client.force_login(UserFactory())
    assert client.post(url).status_code == 404
    client.force_login(UserFactory(is_staff=True))
    assert client.post(url).status_code == 404  # staff read sessions; they cancel in the admin
    booked.refresh_from_db()
    assert booked.status == Session.Status.UPCOMING
    assert client.get(url).status_code == 404  # the confirmation step too
    client.force_login(booked.mentee.user)
    # GET is the confirmation step: it asks, and changes nothing.
    step = client.get(url)
    assert step.status_code == 200
    assert "Cancel this session?" in step.text
    assert f'action="{url}"' in step.text and 'name="reason"' in step.text
    booked.refresh_from_db()
    assert booked.status == Session.Status.UPCOMING
    response = client.post(url, {"reason": "Ill"}, follow=True)
    assert "The session was cancelled." in response.text
    booked.refresh_from_db()
    assert booked.status == Session.Status.CANCELLED
    assert booked.cancellation_reason == "Ill"


def test_the_confirmation_step_is_refused_once_cancelling_is(client, booked, time_machine):
    """Past the cutoff the step sends the mentee back with the reason."""
    time_machine.move_to(booked.start - timedelta(hours=1), tick=False)
    client.force_login(booked.mentee.user)
    response = client.get(f"/sessions/{booked.pk}/cancel/", follow=True)
    assert response.redirect_chain[-1][0] == f"/sessions/{booked.pk}/"
    assert "Sessions can be cancelled up to" in response.text
    assert "Cancel this session?" not in response.text


def test_cancel_form_shown_only_while_allowed(client, booked):
    client.force_login(booked.mentee.user)
    page = client.get(f"/sessions/{booked.pk}/").text
    assert "Cancel session" in page
    cancel_session(session=booked, by=booked.mentor.user, now=NOW)
    page = client.get(f"/sessions/{booked.pk}/").text
    assert "Cancel session" not in page
    assert "Cancelled" in page
