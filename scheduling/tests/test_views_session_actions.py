"""A session's actions over HTTP: reschedule, cancel, no-show, the calendar file;
who reaches each session URL; statuses read from the clock; the mentor dashboard.

The clock is frozen (time-machine) at Thursday 26 November 2026,
12:00 UTC unless a test moves it with ``clock.move_to(...)``. The mentor is in New York
with weekday hours 09:00-12:00 (14:00-17:00 UTC) and no minimum notice or
buffer; the mentee reads times in Kolkata (UTC+05:30). The booked session is
Monday 30 November 2026, 09:00-09:30 New York (14:00 UTC, 19:30 in Kolkata).
"""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from conftest import login_required_url, messages_of
from mentorship.models import MentorProfile
from mentorship.tests.factories import MenteeProfileFactory, MentorProfileFactory
from scheduling.booking import book_session, cancel_session
from scheduling.models import Session
from scheduling.session_lists import PAGE_SIZES
from scheduling.tests.factories import (
    MEETING_URL,
    AvailabilityFactory,
    SessionFactory,
    SessionTypeFactory,
)

# Thursday 26 November 2026, 12:00 UTC: 07:00 in New York, 17:30 in Kolkata.
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
# Monday 30 November 2026, 09:00 New York, 19:30 Kolkata.
MONDAY_9 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
MONDAY_9_ISO = "2026-11-30T14:00:00Z"
# Tuesday 1 December 2026, 10:00 New York, 20:30 Kolkata: free, bookable.
TUESDAY_10 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
TUESDAY_10_ISO = "2026-12-01T15:00:00Z"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(time_machine):
    """Freezes the clock at NOW; ``clock.move_to(moment)`` moves it (still frozen)."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def booked(mentor, intro, mentee_user) -> Session:
    """Monday 09:00 New York, booked through the real service."""
    return book_session(
        mentee_user=mentee_user,
        mentor=mentor,
        session_type=intro,
        start=MONDAY_9,
        topic="Career change",
    )


def url(name: str, session) -> str:
    session_id = session if isinstance(session, uuid.UUID) else session.pk
    return reverse(f"scheduling:{name}", kwargs={"session_id": session_id})


def detail_url(session) -> str:
    return url("session_detail", session)


def reschedule_url(session) -> str:
    return url("session_reschedule", session)


def no_show_url(session) -> str:
    return url("session_no_show", session)


def sent_back(response, session, message: str) -> None:
    """Redirected to the session's page with ``message`` (and nothing else)."""
    assert response.status_code == 302
    assert response["Location"] == detail_url(session)
    assert set(messages_of(response)) == {message}


def row(session) -> dict:
    """The session's stored columns, read fresh: to assert nothing changed."""
    return Session.objects.filter(pk=session.pk).values().get()


def time_tag(iso: str) -> str:
    """How the picker marks an offered time (``<time datetime="…Z">``)."""
    return f'<time datetime="{iso}">'


# --- Reschedule: the picker (GET) -------------------------------------------------------------


def test_the_mentee_gets_the_picker_in_reschedule_mode(client, booked, mentee_user):
    client.force_login(mentee_user)

    response = client.get(reschedule_url(booked), {"week": "2026-11-30"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "Pick a new time with Maya Mentor" in body
    # The session's current time, in the mentee's zone.
    assert "is now on <strong>Monday 30 November 2026, 19:30 IST</strong>" in body
    assert "Week of 30 November – 6 December 2026" in body
    # Its own start is not a new time; the next one is.
    assert time_tag(MONDAY_9_ISO) not in body
    assert time_tag("2026-11-30T14:30:00Z") in body
    assert time_tag(TUESDAY_10_ISO) in body
    # The type/zone form and the time links stay on the reschedule URL.
    assert f'action="{reschedule_url(booked)}"' in body
    assert f'href="{reschedule_url(booked)}?' in body
    assert f'href="/mentors/{booked.mentor.slug}/book/' not in body
    # The length is the session's own; no type to choose, no topic to write.
    assert '<input type="hidden" name="type" value="intro-call">' in body
    assert 'type="radio"' not in body
    assert "Move to this time" not in body
    assert 'name="topic"' not in body


def test_a_chosen_time_offers_to_move_there(client, booked, mentee_user):
    client.force_login(mentee_user)

    response = client.get(reschedule_url(booked), {"start": TUESDAY_10_ISO})

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="picker-chosen"' in body
    assert "Tuesday 1 December 2026, 20:30–21:00 IST" in body
    assert f'<form method="post" action="{reschedule_url(booked)}">' in body
    assert f'<input type="hidden" name="start" value="{TUESDAY_10_ISO}">' in body
    assert "Move to this time</button>" in body
    assert "Book this time" not in body
    assert "Instead of Monday 30 November, 19:30 IST. The meeting link stays the same." in body
    assert 'name="topic"' not in body


def test_the_sessions_own_time_cannot_be_chosen(client, booked, mentee_user):
    client.force_login(mentee_user)

    response = client.get(reschedule_url(booked), {"start": MONDAY_9_ISO})

    assert response.status_code == 200
    body = response.content.decode()
    assert "That time is not available: please pick another." in body
    assert "Move to this time" not in body


def test_times_overlapping_the_sessions_own_time_are_offered_when_free(client, mentor, mentee_user):
    """A 60-minute session at 09:30-10:30 New York: the hour grid's 09:00 and
    10:00 overlap it. 09:00 is free once the session moves; 10:00 also overlaps
    another mentee's 10:30 session, so it stays taken."""
    mentoring = mentor.session_types.get(slug="mentoring-session")
    session = SessionFactory(
        mentor=mentor,
        mentee=MenteeProfileFactory(user=mentee_user),
        session_type=mentoring,
        start=datetime(2026, 11, 30, 14, 30, tzinfo=UTC),
        meeting_url=MEETING_URL,
    )
    assert session.end == datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
    SessionFactory(
        mentor=mentor,
        session_type=mentor.session_types.get(slug="intro-call"),
        start=datetime(2026, 11, 30, 15, 30, tzinfo=UTC),
    )
    week = {"week": "2026-11-30"}

    # For anyone else booking an hour, 09:00 is taken by the session.
    client.force_login(UserFactory())
    booking = client.get(
        reverse("scheduling:book", kwargs={"slug": mentor.slug}),
        {"type": "mentoring-session", **week},
    ).content.decode()
    assert time_tag("2026-11-30T14:00:00Z") not in booking
    assert time_tag("2026-11-30T16:00:00Z") in booking

    client.force_login(mentee_user)
    body = client.get(reschedule_url(session), week).content.decode()

    assert time_tag("2026-11-30T14:00:00Z") in body  # overlaps its own time only
    assert time_tag("2026-11-30T15:00:00Z") not in body  # overlaps the other session
    assert time_tag("2026-11-30T16:00:00Z") in body
    assert "Mentoring session · 60 min" in body

    response = client.post(reschedule_url(session), {"start": "2026-11-30T14:00:00Z"})

    assert response.status_code == 302
    moved = Session.objects.get(rescheduled_from=session)
    assert (moved.start, moved.end) == (
        datetime(2026, 11, 30, 14, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 15, 0, tzinfo=UTC),
    )
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED


def test_an_htmx_request_gets_only_the_days(client, booked, mentee_user):
    client.force_login(mentee_user)

    response = client.get(
        reschedule_url(booked), {"week": "2026-11-30"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and "<body" not in body
    assert "Pick a new time with" not in body
    assert 'id="picker-week-title"' in body
    assert time_tag(MONDAY_9_ISO) not in body
    assert time_tag("2026-11-30T14:30:00Z") in body
    assert f'href="{reschedule_url(booked)}?' in body
    assert "HX-Request" in response["Vary"]


def test_a_session_whose_type_was_deleted_keeps_its_length_and_title(client, mentor, mentee_user):
    session = SessionFactory(
        mentor=mentor,
        mentee=MenteeProfileFactory(user=mentee_user),
        session_type=None,
        title="Portfolio review",
        duration_minutes=45,
        start=MONDAY_9,
    )
    client.force_login(mentee_user)

    body = client.get(reschedule_url(session), {"week": "2026-11-30"}).content.decode()

    assert "Portfolio review · 45 min" in body
    # The 45-minute grid from 09:00 New York: 09:45 is the next time.
    assert time_tag("2026-11-30T14:45:00Z") in body
    response = client.post(reschedule_url(session), {"start": "2026-11-30T14:45:00Z"})
    assert response.status_code == 302
    moved = Session.objects.get(rescheduled_from=session)
    assert moved.duration_minutes == 45
    assert moved.title == "Portfolio review"
    assert moved.end == moved.start + timedelta(minutes=45)


# --- Reschedule: moving (POST) ----------------------------------------------------------------


def test_moving_creates_a_new_session_and_links_both_ways(client, booked, mentee_user):
    old_row = row(booked)
    client.force_login(mentee_user)

    response = client.post(reschedule_url(booked), {"start": TUESDAY_10_ISO})

    moved = Session.objects.get(rescheduled_from=booked)
    assert response.status_code == 302
    assert response["Location"] == detail_url(moved)
    assert Session.objects.count() == 2

    booked.refresh_from_db()
    assert booked.status == Session.Status.CANCELLED
    assert booked.cancelled_by == mentee_user
    assert booked.cancelled_at == NOW
    assert booked.cancellation_reason == "Rescheduled by the mentee."
    assert booked.start == MONDAY_9  # the old row keeps its time

    assert moved.status == Session.Status.UPCOMING
    assert (moved.start, moved.end) == (TUESDAY_10, TUESDAY_10 + timedelta(minutes=30))
    assert (moved.mentor_id, moved.mentee_id) == (booked.mentor_id, booked.mentee_id)
    assert moved.session_type_id == booked.session_type_id
    assert (moved.title, moved.duration_minutes) == ("Intro call", 30)
    assert moved.topic == "Career change"
    assert moved.meeting_url == old_row["meeting_url"] and moved.meeting_url
    assert moved.meeting_id == old_row["meeting_id"]
    assert moved.ical_uid == old_row["ical_uid"]
    assert moved.ical_sequence == old_row["ical_sequence"] + 1

    new_page = client.get(response["Location"])
    body = new_page.content.decode()
    assert "Your session was moved. The details are below." in body
    assert "Tuesday 1 December 2026, 20:30–21:00 IST" in body
    assert "Moved from" in body
    assert f'<a href="{detail_url(booked)}">Monday 30 November 2026, 19:30 IST</a>' in body
    assert f'href="{moved.meeting_url}"' in body
    assert 'data-status="upcoming"' in body

    old_page = client.get(detail_url(booked)).content.decode()
    assert "Moved to" in old_page
    assert f'<a href="{detail_url(moved)}">Tuesday 1 December 2026, 20:30 IST</a>' in old_page
    # The old time reads "Moved" (linked above), not "Cancelled".
    assert 'data-status="moved"' in old_page
    assert 'data-status="cancelled"' not in old_page


def test_a_start_with_an_offset_is_read_as_that_instant(client, booked, mentee_user):
    client.force_login(mentee_user)
    response = client.post(reschedule_url(booked), {"start": "2026-12-01T20:30:00+05:30"})
    assert response.status_code == 302
    assert Session.objects.get(rescheduled_from=booked).start == TUESDAY_10


def test_a_moved_session_can_be_moved_again_as_one_calendar_event(client, booked, mentee_user):
    client.force_login(mentee_user)
    client.post(reschedule_url(booked), {"start": TUESDAY_10_ISO})
    second = Session.objects.get(rescheduled_from=booked)

    response = client.post(reschedule_url(second), {"start": "2026-12-02T15:00:00Z"})

    third = Session.objects.get(rescheduled_from=second)
    assert response["Location"] == detail_url(third)
    assert third.ical_uid == booked.ical_uid
    assert [booked.ical_sequence, second.ical_sequence, third.ical_sequence] == [0, 1, 2]
    page = client.get(detail_url(second)).content.decode()
    assert "Moved from" in page and "Moved to" in page
    # The cancelled middle link cannot be moved again.
    again = client.post(reschedule_url(second), {"start": "2026-12-03T15:00:00Z"})
    assert again["Location"] == detail_url(second)
    assert "This session can no longer be rescheduled." in messages_of(again)
    assert Session.objects.count() == 3


def test_a_taken_time_is_409_with_the_picker_and_changes_nothing(
    client, booked, mentor, intro, mentee_user
):
    client.force_login(mentee_user)
    # The mentee sees the time free...
    chosen = client.get(reschedule_url(booked), {"start": TUESDAY_10_ISO}).content.decode()
    assert "Move to this time" in chosen
    # ...then someone else books it.
    book_session(mentee_user=UserFactory(), mentor=mentor, session_type=intro, start=TUESDAY_10)
    before = row(booked)

    response = client.post(reschedule_url(booked), {"start": TUESDAY_10_ISO})

    assert response.status_code == 409
    body = response.content.decode()
    assert "That time is not available. Please pick one of the times shown." in body
    # The picker again, still moving this session, on the refused time's week.
    assert "Pick a new time with Maya Mentor" in body
    assert "Week of 30 November – 6 December 2026" in body
    assert time_tag(TUESDAY_10_ISO) not in body
    assert time_tag("2026-12-01T15:30:00Z") in body
    assert f'action="{reschedule_url(booked)}"' in body
    assert row(booked) == before
    assert not Session.objects.filter(rescheduled_from=booked).exists()
    assert Session.objects.count() == 2


def test_the_mentees_own_session_elsewhere_is_refused(client, booked, mentee_user):
    other_mentor = MentorProfileFactory()
    SessionFactory(
        mentor=other_mentor,
        mentee=booked.mentee,
        start=TUESDAY_10 - timedelta(minutes=15),
    )
    before = row(booked)
    client.force_login(mentee_user)

    response = client.post(reschedule_url(booked), {"start": TUESDAY_10_ISO})

    assert response.status_code == 400
    assert "You already have a session at that time." in response.content.decode()
    assert row(booked) == before
    assert not Session.objects.filter(rescheduled_from=booked).exists()


def test_a_mentee_at_the_limit_with_this_mentor_can_still_move_a_session(
    client, booked, mentor, intro, mentee_user, settings
):
    """The session being moved does not count against the limits."""
    for start in (datetime(2026, 12, 2, 15, tzinfo=UTC), datetime(2026, 12, 3, 15, tzinfo=UTC)):
        book_session(mentee_user=mentee_user, mentor=mentor, session_type=intro, start=start)
    assert settings.MAX_UPCOMING_SESSIONS_WITH_ONE_MENTOR == 3
    client.force_login(mentee_user)

    response = client.post(reschedule_url(booked), {"start": TUESDAY_10_ISO})

    assert response.status_code == 302
    assert Session.objects.filter(rescheduled_from=booked, start=TUESDAY_10).exists()


def test_a_mentor_who_paused_bookings_cannot_be_moved_to(client, booked, mentee_user):
    MentorProfile.objects.filter(pk=booked.mentor_id).update(is_accepting_bookings=False)
    before = row(booked)
    client.force_login(mentee_user)

    for response in (
        client.get(reschedule_url(booked), follow=True),
        client.post(reschedule_url(booked), {"start": TUESDAY_10_ISO}, follow=True),
    ):
        assert response.redirect_chain[-1][0] == detail_url(booked)
        assert "This mentor is not taking bookings right now." in response.text
        assert "Pick a new time" not in response.text
    assert row(booked) == before
    assert Session.objects.count() == 1


@pytest.fixture
def hour_inside_a_short_window(mentee_user):
    """A mentor whose only hours are Monday 30 November 09:00-11:00 New York,
    and the mentee's 60-minute session at 09:30-10:30: both hour slots (09:00
    and 10:00) overlap it, so both are free only for moving this session."""
    mentor = MentorProfileFactory(
        user=UserFactory(name="Maya Mentor", timezone="America/New_York"),
        minimum_notice_minutes=0,
        buffer_minutes=0,
    )
    hour = SessionTypeFactory(mentor=mentor, name="Hour", slug="hour", duration_minutes=60)
    AvailabilityFactory(
        mentor=mentor,
        start=datetime(2026, 11, 30, 14, tzinfo=UTC),
        end=datetime(2026, 11, 30, 16, tzinfo=UTC),
    )
    return SessionFactory(
        mentor=mentor,
        mentee=MenteeProfileFactory(user=mentee_user),
        session_type=hour,
        start=datetime(2026, 11, 30, 14, 30, tzinfo=UTC),
    )


def test_the_week_of_a_short_window_offers_the_overlapping_times(
    client, hour_inside_a_short_window, mentee_user
):
    client.force_login(mentee_user)
    body = client.get(
        reschedule_url(hour_inside_a_short_window), {"week": "2026-11-30"}
    ).content.decode()
    assert time_tag("2026-11-30T14:00:00Z") in body
    assert time_tag("2026-11-30T15:00:00Z") in body


def test_an_empty_week_points_to_the_next_date_the_session_can_move_to(
    client, hour_inside_a_short_window, mentee_user
):
    client.force_login(mentee_user)

    # The current week (23-29 November) has no hours at all.
    body = client.get(
        reschedule_url(hour_inside_a_short_window), {"week": "2026-11-23"}
    ).content.decode()

    assert "No free times in this week." in body
    assert "The next date with availability is <strong>Monday 30 November 2026</strong>" in body
    assert "no bookable times in the next" not in body
    # Without a week asked for, the picker starts at that week.
    body = client.get(reschedule_url(hour_inside_a_short_window)).content.decode()
    assert "Week of 30 November" in body
    assert time_tag("2026-11-30T14:00:00Z") in body


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"start": "tomorrow"}, 400, "That start time is not valid."),
        ({"start": ""}, 400, "That start time is not valid."),
        ({}, 400, "That start time is not valid."),
        ({"start": "2026-12-01T15:00:00"}, 400, "That start time is not valid."),  # naive
        ({"start": "2026-12-01"}, 400, "That start time is not valid."),
        ({"start": "9999-12-31T23:59:59Z"}, 400, "That start time is not valid."),
        ({"start": "0001-01-01T00:00:00+14:00"}, 400, "That start time is not valid."),
        ({"start": "1" * 5000}, 400, "That start time is not valid."),
        ({"start": "2026-11-25T14:00:00Z"}, 400, "That time has already passed."),
        ({"start": MONDAY_9_ISO}, 400, "That is the session's current time."),
        ({"start": "2026-12-01T15:07:00Z"}, 409, "That time is not available."),  # off the grid
        ({"start": "2026-12-01T03:00:00Z"}, 409, "That time is not available."),  # night
        ({"start": "2026-11-28T15:00:00Z"}, 409, "That time is not available."),  # Saturday
        ({"start": "2027-06-01T14:00:00Z"}, 409, "That time is not available."),  # horizon
    ],
)
def test_bad_starts_are_refused_and_change_nothing(
    client, booked, mentee_user, data, status, message
):
    before = row(booked)
    client.force_login(mentee_user)

    response = client.post(reschedule_url(booked), data)

    assert response.status_code == status
    body = response.content.decode()
    assert message in body.replace("&#x27;", "'")
    assert "Pick a new time with Maya Mentor" in body  # the picker, to choose again
    assert row(booked) == before
    assert Session.objects.count() == 1


def test_the_mentor_is_sent_back_to_the_session(client, booked):
    before = row(booked)
    client.force_login(booked.mentor.user)

    for response in (
        client.get(reschedule_url(booked)),
        client.post(reschedule_url(booked), {"start": TUESDAY_10_ISO}),
    ):
        sent_back(
            response,
            booked,
            "Only the mentee can pick a new time. You can cancel the session with a note.",
        )

    assert row(booked) == before
    assert Session.objects.count() == 1


def test_past_the_cutoff_the_mentee_is_sent_back_with_the_rule(client, booked, mentee_user, clock):
    clock.move_to(MONDAY_9 - timedelta(hours=12) + timedelta(seconds=1))
    before = row(booked)
    client.force_login(mentee_user)

    for response in (
        client.get(reschedule_url(booked)),
        client.post(reschedule_url(booked), {"start": TUESDAY_10_ISO}),
    ):
        sent_back(
            response,
            booked,
            "Sessions can be moved up to 12 hours before they start. "
            "Please contact your mentor instead.",
        )
    assert row(booked) == before

    page = client.get(detail_url(booked)).content.decode()
    assert (
        "Sessions can be cancelled up to 12 hours before they start. "
        "Please contact your mentor instead."
    ) in page


def test_the_cutoff_is_the_mentors_setting_and_exactly_at_it_moving_is_allowed(
    client, booked, mentee_user, clock
):
    MentorProfile.objects.filter(pk=booked.mentor_id).update(cancellation_cutoff_hours=120)
    client.force_login(mentee_user)
    response = client.get(reschedule_url(booked))
    assert response.status_code == 302
    assert "Sessions can be moved up to 120 hours" in messages_of(response)[0]

    MentorProfile.objects.filter(pk=booked.mentor_id).update(cancellation_cutoff_hours=12)
    clock.move_to(MONDAY_9 - timedelta(hours=12))
    client.force_login(mentee_user)  # sessions last 12 hours: sign in again at the new time
    assert client.get(reschedule_url(booked)).status_code == 200
    response = client.post(reschedule_url(booked), {"start": TUESDAY_10_ISO})
    assert response.status_code == 302
    assert Session.objects.filter(rescheduled_from=booked).exists()


@pytest.mark.parametrize("state", ["cancelled", "started", "ended", "no_show"])
def test_a_session_that_is_over_or_cancelled_can_no_longer_be_rescheduled(
    client, booked, mentee_user, clock, state
):
    if state == "cancelled":
        cancel_session(session=booked, by=booked.mentor.user)
    elif state == "started":
        clock.move_to(MONDAY_9 + timedelta(minutes=5))
    elif state == "ended":
        clock.move_to(MONDAY_9 + timedelta(hours=1))
    else:
        Session.objects.filter(pk=booked.pk).update(status=Session.Status.NO_SHOW)
    before = row(booked)
    client.force_login(mentee_user)

    for response in (
        client.get(reschedule_url(booked)),
        client.post(reschedule_url(booked), {"start": TUESDAY_10_ISO}),
    ):
        sent_back(response, booked, "This session can no longer be rescheduled.")
    assert row(booked) == before
    assert Session.objects.count() == 1


# The Django session, the user, the session with its people and type, three for the
# week's slots (availability, sessions, busy intervals), the navigation's profiles.
RESCHEDULE_PICKER_QUERIES = 7


@pytest.mark.parametrize("count", [1, 50])
def test_the_reschedule_picker_costs_the_same_for_1_or_50_sessions_that_week(
    client, booked, mentor, count, django_assert_max_num_queries
):
    # Other sessions of the mentor that week, on the weekend (outside the
    # hours, so the week keeps free times and no further week is searched).
    for number in range(count):
        SessionFactory(
            mentor=mentor,
            session_type=booked.session_type,
            start=datetime(2026, 12, 5, 0, 0, tzinfo=UTC) + timedelta(minutes=30 * number),
        )
    client.force_login(booked.mentee.user)

    with django_assert_max_num_queries(RESCHEDULE_PICKER_QUERIES):
        response = client.get(reschedule_url(booked), {"week": "2026-11-30"})

    assert response.status_code == 200
    assert time_tag(TUESDAY_10_ISO) in response.content.decode()


# --- Every session URL from the outside ---------------------------------------------------------

# route: (URL name, method, POST data, status for the mentee, mentor and staff).
# Staff read sessions (page and calendar file) but act on them in the admin.
ROUTES = {
    "detail": ("session_detail", "get", {}, {"mentee": 200, "mentor": 200, "staff": 200}),
    "invite.ics": ("session_invite", "get", {}, {"mentee": 200, "mentor": 200, "staff": 200}),
    "cancel": (
        "session_cancel",
        "post",
        {"reason": "Ill"},
        {"mentee": 302, "mentor": 302, "staff": 404},
    ),
    "reschedule-get": (
        "session_reschedule",
        "get",
        {},
        {"mentee": 200, "mentor": 302, "staff": 404},
    ),
    "reschedule-post": (
        "session_reschedule",
        "post",
        {"start": TUESDAY_10_ISO},
        {"mentee": 302, "mentor": 302, "staff": 404},
    ),
    "no-show": ("session_no_show", "post", {}, {"mentee": 302, "mentor": 302, "staff": 404}),
}
VIEWERS = ["mentee", "mentor", "staff", "outsider", "anonymous"]


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("route", list(ROUTES))
def test_who_reaches_each_session_url(client, booked, route, viewer):
    name, method, data, statuses = ROUTES[route]
    path = url(name, booked)
    users = {
        "mentee": booked.mentee.user,
        "mentor": booked.mentor.user,
        "staff": UserFactory(is_staff=True),
        "outsider": UserFactory(),
    }
    if viewer in users:
        client.force_login(users[viewer])
    before = row(booked)

    response = getattr(client, method)(path, data)

    if viewer == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == login_required_url(path)
    elif viewer == "outsider":
        assert response.status_code == 404
    else:
        assert response.status_code == statuses[viewer]
        if statuses[viewer] == 302:
            # Back to a session page of theirs (the moved one after a reschedule).
            assert response["Location"].startswith("/sessions/")
            assert response["Location"] != login_required_url(path)
    if response.status_code != 302 or viewer == "anonymous" or method == "get":
        assert row(booked) == before
        assert Session.objects.count() == 1


def test_outsiders_and_staff_change_nothing_and_learn_nothing(client, booked):
    """The 404 for a real session is the same as for an unknown one."""
    before = row(booked)
    unknown = uuid.uuid4()
    for user in (UserFactory(), UserFactory(is_staff=True)):
        client.force_login(user)
        for name in ("session_cancel", "session_reschedule", "session_no_show"):
            real = client.post(url(name, booked), {"start": TUESDAY_10_ISO, "reason": "x"})
            fake = client.post(url(name, unknown), {"start": TUESDAY_10_ISO, "reason": "x"})
            assert real.status_code == fake.status_code == 404
    assert row(booked) == before


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("session_detail", "get"),
        ("session_invite", "get"),
        ("session_cancel", "post"),
        ("session_reschedule", "get"),
        ("session_reschedule", "post"),
        ("session_no_show", "post"),
    ],
)
@pytest.mark.parametrize("viewer", ["mentee", "staff"])
def test_an_unknown_session_is_404_on_every_url(client, booked, name, method, viewer):
    user = booked.mentee.user if viewer == "mentee" else UserFactory(is_staff=True)
    client.force_login(user)
    response = getattr(client, method)(url(name, uuid.uuid4()), {"start": TUESDAY_10_ISO})
    assert response.status_code == 404
    not_a_uuid = url(name, booked).replace(str(booked.pk), "not-a-uuid")
    assert getattr(client, method)(not_a_uuid).status_code == 404


@pytest.mark.parametrize(
    ("name", "wrong_method"),
    [("session_cancel", "put"), ("session_no_show", "get"), ("session_reschedule", "put")],
)
def test_actions_refuse_other_methods(client, booked, name, wrong_method):
    before = row(booked)
    client.force_login(booked.mentor.user)
    assert getattr(client, wrong_method)(url(name, booked)).status_code == 405
    assert row(booked) == before


# --- No-show ------------------------------------------------------------------------------------


@pytest.fixture
def session(mentee_user):
    """Monday 09:00-09:30 New York, written directly (no availability needed)."""
    return SessionFactory(
        mentor=MentorProfileFactory(user=UserFactory(name="Maya Mentor")),
        mentee=MenteeProfileFactory(user=mentee_user),
        title="Intro call",
        start=MONDAY_9,
        meeting_url=MEETING_URL,
    )


@pytest.mark.parametrize(
    ("moment", "stored_status"),
    [
        (MONDAY_9, Session.Status.UPCOMING),  # right at the start
        (MONDAY_9 + timedelta(minutes=10), Session.Status.UPCOMING),  # task not run yet
        (MONDAY_9 + timedelta(minutes=10), Session.Status.ACTIVE),
        (MONDAY_9 + timedelta(days=2), Session.Status.COMPLETED),
        (MONDAY_9 + timedelta(minutes=30, days=7), Session.Status.COMPLETED),  # the last moment
    ],
)
def test_the_mentor_marks_a_no_show_after_the_start(client, session, clock, moment, stored_status):
    Session.objects.filter(pk=session.pk).update(status=stored_status)
    clock.move_to(moment)
    client.force_login(session.mentor.user)
    assert f'action="{no_show_url(session)}"' in client.get(detail_url(session)).text

    response = client.post(no_show_url(session))

    assert response.status_code == 302
    assert response["Location"] == detail_url(session)
    assert messages_of(response) == ["Marked as a no-show."]
    session.refresh_from_db()
    assert session.status == Session.Status.NO_SHOW
    assert session.no_show_marked_at == moment
    page = client.get(detail_url(session)).text
    assert 'data-status="no_show"' in page
    assert "Marked by the mentor on" in page
    assert no_show_url(session) not in page  # not twice


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("before the start", "A no-show can be marked once the session has started."),
        ("by the mentee", "Only the mentor can mark a no-show."),
        ("8 days after", "A no-show can be marked up to 7 days after the session."),
        ("just past 7 days", "A no-show can be marked up to 7 days after the session."),
        ("cancelled", "This session cannot be marked as a no-show."),
        ("already marked", "This session cannot be marked as a no-show."),
    ],
)
def test_a_no_show_is_refused_with_a_message(client, session, clock, case, message):
    user = session.mentor.user
    clock.move_to(MONDAY_9 + timedelta(minutes=10))
    if case == "before the start":
        clock.move_to(MONDAY_9 - timedelta(seconds=1))
    elif case == "by the mentee":
        user = session.mentee.user
    elif case == "8 days after":
        clock.move_to(session.end + timedelta(days=8))
    elif case == "just past 7 days":
        clock.move_to(session.end + timedelta(days=7, seconds=1))
    elif case == "cancelled":
        clock.move_to(NOW)
        cancel_session(session=session, by=session.mentor.user)
        clock.move_to(MONDAY_9 + timedelta(minutes=10))
    else:
        Session.objects.filter(pk=session.pk).update(
            status=Session.Status.NO_SHOW, no_show_marked_at=MONDAY_9
        )
    before = row(session)
    client.force_login(user)
    # The page offers no button the service would refuse.
    assert no_show_url(session) not in client.get(detail_url(session)).text

    response = client.post(no_show_url(session))

    assert response.status_code == 302
    assert response["Location"] == detail_url(session)
    assert messages_of(response) == [message]
    assert row(session) == before


def test_a_reviewed_session_is_not_offered_as_a_no_show_and_is_refused(client, session, clock):
    """The mentee reviewed it, so it took place: the page used to offer the
    mentor "Mark as no-show" anyway, and the service then refused."""
    from reviews.tests.factories import ReviewFactory

    clock.move_to(session.end + timedelta(hours=2))
    Session.objects.filter(pk=session.pk).update(status=Session.Status.COMPLETED)
    client.force_login(session.mentor.user)
    assert f'action="{no_show_url(session)}"' in client.get(detail_url(session)).text
    ReviewFactory(session=session)
    before = row(session)

    page = client.get(detail_url(session)).text
    response = client.post(no_show_url(session))

    assert no_show_url(session) not in page
    assert "Did Kiran not come?" not in page
    assert response.status_code == 302
    assert messages_of(response) == ["The mentee has reviewed this session, so it took place."]
    assert row(session) == before


# --- Statuses by the clock and the action buttons ------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "stored_status", "shown", "label", "list_section"),
    [
        (NOW, "upcoming", "upcoming", "Upcoming", "upcoming"),
        (MONDAY_9, "upcoming", "active", "In progress", "upcoming"),
        (MONDAY_9 + timedelta(minutes=29), "upcoming", "active", "In progress", "upcoming"),
        (MONDAY_9 + timedelta(minutes=30), "upcoming", "completed", "Completed", "past"),
        (MONDAY_9 + timedelta(days=3), "upcoming", "completed", "Completed", "past"),
        (MONDAY_9 + timedelta(days=3), "active", "completed", "Completed", "past"),
        (MONDAY_9 + timedelta(days=3), "no_show", "no_show", "No-show", "past"),
        (MONDAY_9 + timedelta(minutes=10), "no_show", "no_show", "No-show", "past"),
        (MONDAY_9 + timedelta(days=3), "cancelled", "cancelled", "Cancelled", "cancelled"),
    ],
)
def test_pages_show_the_status_by_the_clock_without_the_periodic_task(
    client, session, clock, moment, stored_status, shown, label, list_section
):
    Session.objects.filter(pk=session.pk).update(status=stored_status)
    clock.move_to(moment)
    client.force_login(session.mentee.user)
    badge = f'data-status="{shown}">{label}</span>'

    detail = client.get(detail_url(session)).text
    listing = client.get(reverse("scheduling:session_list")).text

    assert badge in detail
    start = listing.index(f'aria-labelledby="{list_section}-title"')
    section = listing[start : listing.index("</section>", start)]
    assert detail_url(session) in section and badge in section
    # Once (its review link, /sessions/<uuid>/review/, is another address).
    assert listing.count(f'href="{detail_url(session)}"') == 1
    assert Session.objects.get(pk=session.pk).status == stored_status  # nothing was written


# What a participant's session page may offer, found by the URL each control uses.
CONTROLS = {
    "reschedule": lambda session: f'href="{reschedule_url(session)}"',
    "cancel": lambda session: f'href="{url("session_cancel", session)}"',
    "no-show": lambda session: f'action="{no_show_url(session)}"',
    "ics": lambda session: f'href="{url("session_invite", session)}"',
    "past-cutoff notice": lambda session: "Sessions can be cancelled up to 12 hours before",
}


@pytest.mark.parametrize(
    ("viewer", "moment", "expected"),
    [
        ("mentee", NOW, {"reschedule", "cancel", "ics"}),
        ("mentee", MONDAY_9 - timedelta(hours=12), {"reschedule", "cancel", "ics"}),
        ("mentee", MONDAY_9 - timedelta(hours=11), {"past-cutoff notice", "ics"}),
        ("mentee", MONDAY_9 - timedelta(minutes=1), {"past-cutoff notice", "ics"}),
        ("mentee", MONDAY_9 + timedelta(minutes=10), {"ics"}),
        ("mentee", MONDAY_9 + timedelta(days=1), {"ics"}),
        ("mentor", NOW, {"cancel", "ics"}),
        ("mentor", MONDAY_9 - timedelta(hours=11), {"cancel", "ics"}),
        ("mentor", MONDAY_9 - timedelta(minutes=1), {"cancel", "ics"}),
        ("mentor", MONDAY_9 + timedelta(minutes=10), {"no-show", "ics"}),
        ("mentor", MONDAY_9 + timedelta(days=7, minutes=30), {"no-show", "ics"}),
        ("mentor", MONDAY_9 + timedelta(days=8), {"ics"}),
        ("staff", NOW, set()),
        ("staff", MONDAY_9 + timedelta(minutes=10), set()),
    ],
)
def test_the_session_page_offers_only_what_the_viewer_may_do(
    client, session, clock, viewer, moment, expected
):
    clock.move_to(moment)
    users = {
        "mentee": session.mentee.user,
        "mentor": session.mentor.user,
        "staff": UserFactory(is_staff=True),
    }
    client.force_login(users[viewer])

    page = client.get(detail_url(session)).text

    shown = {control for control, marker in CONTROLS.items() if marker(session) in page}
    assert shown == expected
    if "cancel" in expected:
        assert ("Possible up to 12 hours before it starts." in page) == (viewer == "mentee")


@pytest.mark.parametrize("viewer", ["mentee", "mentor"])
def test_a_cancelled_session_offers_nothing(client, session, viewer):
    cancel_session(session=session, by=session.mentor.user, reason="Ill")
    client.force_login(getattr(session, viewer).user)
    page = client.get(detail_url(session)).text
    assert {control for control, marker in CONTROLS.items() if marker(session) in page} == set()
    assert MEETING_URL not in page


# --- The mentor dashboard -----------------------------------------------------------------------


def dashboard(client):
    return client.get(reverse("scheduling:mentor_dashboard"))


def between(body: str, start_marker: str, end_marker: str) -> str:
    start = body.index(start_marker)
    return body[start : body.index(end_marker, start)]


def today_part(body: str) -> str:
    return between(body, 'id="today-title"', "</section>")


def week_part(body: str) -> str:
    return between(body, 'id="week-title"', "</section>")


def test_the_dashboard_needs_a_sign_in(client):
    response = dashboard(client)
    assert response.status_code == 302
    assert response["Location"] == login_required_url("/dashboard/")


def test_a_non_mentor_is_sent_to_their_sessions(client, mentee_user):
    client.force_login(mentee_user)

    response = dashboard(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:session_list")
    assert messages_of(response) == [
        "The dashboard is for mentors. Here are your sessions instead."
    ]


def test_the_dashboard_is_empty_when_nothing_is_booked(client):
    mentor = MentorProfileFactory(user=UserFactory(timezone="America/New_York"))
    SessionFactory(start=NOW + timedelta(hours=3))  # another mentor's
    SessionFactory(mentor=mentor, start=NOW + timedelta(hours=5), status=Session.Status.CANCELLED)
    client.force_login(mentor.user)

    response = dashboard(client)

    assert response.status_code == 200
    body = response.content.decode()
    assert "No sessions today." in body
    assert "Nothing booked for the coming week yet." in body
    assert "Coming week" in body and "0 sessions" in body
    assert "Times are in America/New_York." in body


# 03:00 UTC on Friday 27 November is still Thursday 26 November, 22:00, in New York.
NEW_YORK_EVENING = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def test_the_dashboard_days_are_the_mentors_local_days(client, clock):
    clock.move_to(NEW_YORK_EVENING)
    mentor = MentorProfileFactory(user=UserFactory(name="Maya", timezone="America/New_York"))
    ny_mentee = MenteeProfileFactory(user=UserFactory(name="Nadia Nightowl"))

    def make(title, start, **fields):
        return SessionFactory(
            mentor=mentor,
            mentee=fields.pop("mentee", ny_mentee),
            title=title,
            start=start,
            meeting_url=f"https://meet.example.com/{title.lower().replace(' ', '-')}",
            **fields,
        )

    # Thursday in New York (Friday in UTC): today.
    tonight = make("Tonight", datetime(2026, 11, 27, 4, 0, tzinfo=UTC))  # 23:00 EST
    # Earlier on Thursday, over: today, without a link to join.
    make("This afternoon", datetime(2026, 11, 26, 20, 0, tzinfo=UTC))  # 15:00 EST
    # Right now: today, joinable.
    make("Right now", datetime(2026, 11, 27, 2, 45, tzinfo=UTC))  # 21:45 EST
    # Friday 00:30 in New York: the same UTC date as now, but tomorrow there.
    make("After midnight", datetime(2026, 11, 27, 5, 30, tzinfo=UTC))
    # Wednesday 2 December 10:00 EST: the sixth day after today.
    make("Day six", datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    # Friday 4 December 10:00 EST: beyond the week, however it is counted.
    make("Day eight", datetime(2026, 12, 4, 15, 0, tzinfo=UTC))
    # Wednesday 25 November: yesterday.
    make("Yesterday", datetime(2026, 11, 25, 15, 0, tzinfo=UTC))
    make(
        "Cancelled tonight",
        datetime(2026, 11, 27, 4, 30, tzinfo=UTC),
        status=Session.Status.CANCELLED,
    )
    make(
        "Cancelled Saturday",
        datetime(2026, 11, 28, 15, 0, tzinfo=UTC),
        status=Session.Status.CANCELLED,
    )
    SessionFactory(title="Someone else's", start=datetime(2026, 11, 27, 4, 0, tzinfo=UTC))
    client.force_login(mentor.user)

    response = dashboard(client)

    assert response.status_code == 200
    body = response.content.decode()
    today, week = today_part(body), week_part(body)
    assert "Thursday 26 November" in today
    for title in ("Tonight", "This afternoon", "Right now"):
        assert f">{title}</a> with Nadia Nightowl" in today
    assert today.index("This afternoon") < today.index("Right now") < today.index("Tonight")
    assert "23:00–23:30 EST" in today
    # Join links only for what has not ended; the statuses by the clock.
    assert f'href="{tonight.meeting_url}"' in today
    assert 'href="https://meet.example.com/right-now"' in today
    assert "https://meet.example.com/this-afternoon" not in today
    assert today.count("Join the meeting") == 2
    assert 'data-status="completed"' in today and 'data-status="active"' in today

    assert "After midnight" not in today and "After midnight" in week
    assert "Friday 27 November" in week
    friday = between(week, "Friday 27 November", "</li>")
    assert "<strong>00:30</strong>" in friday and "After midnight" in friday
    assert "Wednesday 2 December" in week and "Day six" in week
    assert week.index("After midnight") < week.index("Day six")
    assert "2 sessions" in week

    for title in ("Day eight", "Yesterday", "Cancelled", "Someone else"):
        assert title not in body


def test_the_coming_week_is_the_seven_days_after_today(client):
    mentor = MentorProfileFactory(user=UserFactory(timezone="America/New_York"))
    # Today is Thursday 26 November in New York; Thursday 3 December is 7 days on.
    SessionFactory(mentor=mentor, title="Day seven", start=datetime(2026, 12, 3, 15, tzinfo=UTC))
    client.force_login(mentor.user)

    body = dashboard(client).content.decode()

    assert "Today and the next 7 days." in body
    assert "Thursday 3 December" in week_part(body) and "Day seven" in week_part(body)


# 20:00 UTC on Thursday 26 November is already Friday 27 November, 01:30, in Kolkata.
KOLKATA_NIGHT = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)


def test_a_kolkata_mentors_today_starts_at_their_midnight(client, clock):
    clock.move_to(KOLKATA_NIGHT)
    mentor = MentorProfileFactory(user=UserFactory(timezone="Asia/Kolkata"))
    mentee = MenteeProfileFactory(user=UserFactory(name="Omar Mentee"))
    # Kolkata midnight is 18:30 UTC.
    SessionFactory(
        mentor=mentor,
        mentee=mentee,
        title="Ended at midnight",
        start=datetime(2026, 11, 26, 18, 0, tzinfo=UTC),
        # Completed, so PostgreSQL's no-overlap constraint allows the next one.
        status="completed",
    )
    SessionFactory(
        mentor=mentor,
        mentee=mentee,
        title="Across midnight",
        start=datetime(2026, 11, 26, 18, 15, tzinfo=UTC),
        end=datetime(2026, 11, 26, 19, 15, tzinfo=UTC),
    )
    SessionFactory(
        mentor=mentor,
        mentee=mentee,
        title="Early today",
        start=datetime(2026, 11, 26, 21, 0, tzinfo=UTC),
        meeting_url=MEETING_URL,
    )
    # Friday 27 November 20:00 UTC is Saturday 01:30 in Kolkata: tomorrow.
    SessionFactory(
        mentor=mentor,
        mentee=mentee,
        title="Saturday night",
        start=datetime(2026, 11, 27, 20, 0, tzinfo=UTC),
    )
    client.force_login(mentor.user)

    body = dashboard(client).content.decode()

    today, week = today_part(body), week_part(body)
    assert "Friday 27 November" in today
    assert "Across midnight" in today
    assert "Early today</a> with Omar Mentee" in today
    assert "02:30–03:00 IST" in today
    assert f'href="{MEETING_URL}"' in today
    assert "Ended at midnight" not in body
    assert "Saturday 28 November" in week and "Saturday night" in week
    assert "<strong>01:30</strong>" in week


# The Django session, the user, the mentor profile, the week's sessions with their
# mentees, the navigation's profiles.
DASHBOARD_QUERIES = 5


@pytest.mark.parametrize("count", [1, 50])
def test_the_dashboard_costs_the_same_queries_for_1_or_50_sessions(
    client, count, django_assert_max_num_queries
):
    mentor = MentorProfileFactory(user=UserFactory(timezone="America/New_York"))
    for number in range(count):
        # From 08:00 today (New York) every two hours, over the next 4 days, each
        # with its own mentee; every fifth one cancelled (and not shown).
        SessionFactory(
            mentor=mentor,
            start=NOW + timedelta(hours=1 + 2 * number),
            status=Session.Status.CANCELLED if number % 5 == 4 else Session.Status.UPCOMING,
            meeting_url=MEETING_URL,
        )
    client.force_login(mentor.user)

    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        response = dashboard(client)

    assert response.status_code == 200
    shown = count - count // 5
    assert response.content.decode().count("/sessions/") - 1 >= shown


# --- Query budgets on pages the other tests do not cover ----------------------------------------

# The Django session, the user, the session with its people and both reschedule
# links, the navigation's profiles (as for any session page).
DETAIL_QUERIES = 4


def test_a_moved_sessions_pages_keep_the_detail_budget(
    client, booked, mentee_user, django_assert_max_num_queries
):
    client.force_login(mentee_user)
    client.post(reschedule_url(booked), {"start": TUESDAY_10_ISO})
    middle = Session.objects.get(rescheduled_from=booked)
    client.post(reschedule_url(middle), {"start": "2026-12-02T15:00:00Z"})

    for session in (booked, middle, Session.objects.get(rescheduled_from=middle)):
        with django_assert_max_num_queries(DETAIL_QUERIES):
            response = client.get(detail_url(session))
        assert response.status_code == 200


# The Django session, the user, the user's profiles (also the navbar's), and
# one statement for a page of each list (upcoming, past, cancelled) with their
# people, reviews and moves: as in scheduling/tests/test_session_list_pages.py.
LIST_QUERIES = 4


@pytest.mark.parametrize("count", [1, 50])
def test_the_list_of_moved_sessions_costs_the_same_for_1_or_50(
    client, mentee_user, count, django_assert_max_num_queries
):
    """``test_views_sessions`` covers plain sessions; moved ones carry
    reschedule links and clock-derived statuses that must not add queries."""
    mentee = MenteeProfileFactory(user=mentee_user)
    for number in range(count):
        mentor = MentorProfileFactory()
        start = NOW + timedelta(hours=2 * number - 20)
        old = SessionFactory(
            mentor=mentor,
            mentee=mentee,
            start=start,
            status=Session.Status.CANCELLED,
            cancelled_at=NOW,
        )
        SessionFactory(
            mentor=mentor,
            mentee=mentee,
            start=start + timedelta(hours=1),
            rescheduled_from=old,
            ical_uid=old.ical_uid,
            ical_sequence=1,
            status=Session.Status.NO_SHOW if number % 7 == 3 else Session.Status.UPCOMING,
        )
    client.force_login(mentee_user)

    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(reverse("scheduling:session_list"))

    assert response.status_code == 200
    # Every cancelled row on the first page of its list links to its move.
    assert response.content.decode().count(">Moved to ") == min(count, PAGE_SIZES["cancelled"])
