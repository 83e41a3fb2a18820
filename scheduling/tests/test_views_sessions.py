"""Booking over HTTP (POST ``/mentors/<slug>/book/``), ``/sessions/`` and
``/sessions/<uuid>/``.

The clock is frozen at Thursday 26 November 2026, 12:00 UTC; the mentor is in
New York with weekday hours 09:00-12:00 (14:00-17:00 UTC, 19:30-22:30 in
Kolkata) and no minimum notice.
"""

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from conftest import login_required_url
from mentorship.models import MenteeProfile
from mentorship.tests.factories import MenteeProfileFactory, MentorProfileFactory
from scheduling.booking import book_session
from scheduling.models import Session
from scheduling.tests.factories import MEETING_URL, SessionFactory

# Thursday 26 November 2026, 12:00 UTC: 07:00 in New York, 17:30 in Kolkata.
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
# Monday 30 November 2026, 09:00 in New York: 19:30 in Kolkata.
MONDAY_9 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
MONDAY_9_ISO = "2026-11-30T14:00:00Z"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


def book_url(mentor) -> str:
    return reverse("scheduling:book", kwargs={"slug": mentor.slug})


def post(client, mentor, **data):
    return client.post(book_url(mentor), data)


def detail_url(session) -> str:
    return reverse("scheduling:session_detail", kwargs={"session_id": session.pk})


def login_url(next_url: str) -> str:
    """Where the booking view sends anonymous visitors (``next`` fully quoted)."""
    return f"{reverse('account_login')}?{urlencode({'next': next_url})}"


def section(body: str, name: str) -> str:
    """The HTML of the ``/sessions/`` section titled ``<name>-title``."""
    start = body.index(f'aria-labelledby="{name}-title"')
    return body[start : body.index("</section>", start)]


# --- Booking: the happy path ------------------------------------------------------------------


def test_booking_redirects_to_the_session_page_in_the_viewers_zone(
    client, mentor, intro, mentee_user
):
    client.force_login(mentee_user)

    response = post(client, mentor, type="intro-call", start=MONDAY_9_ISO, topic="Career change")

    session = Session.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/sessions/{session.pk}/"
    assert session.mentee == MenteeProfile.objects.get(user=mentee_user)
    assert session.mentor == mentor
    assert session.session_type == intro
    assert session.start == MONDAY_9
    assert session.topic == "Career change"
    assert session.meeting_url

    page = client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert "Your session is booked." in body
    # 14:00 UTC is 19:30 in Kolkata, and the page names the zone.
    assert "Monday 30 November 2026, 19:30–20:00 IST" in body
    assert "(Asia/Kolkata)" in body
    assert f'href="{session.meeting_url}"' in body
    assert "Career change" in body
    assert "Maya Mentor" in body


def test_anonymous_post_signs_in_first_and_comes_back_to_the_chosen_time(client, mentor, intro):
    response = post(client, mentor, type="intro-call", start=MONDAY_9_ISO)
    back = f"{book_url(mentor)}?{urlencode({'type': 'intro-call', 'start': MONDAY_9_ISO})}"
    assert response.status_code == 302
    assert response["Location"] == login_url(back)
    assert not Session.objects.exists()


# --- Booking: refusals --------------------------------------------------------------------------


def test_a_taken_slot_is_409_with_the_message_and_fresh_times(
    client, mentor, intro, mentee_user, django_capture_on_commit_callbacks
):
    client.force_login(mentee_user)
    # The picker is seen (and its week cached) while the time is free...
    picker = client.get(book_url(mentor), {"type": "intro-call", "week": "2026-11-30"})
    assert f'<time datetime="{MONDAY_9_ISO}">' in picker.content.decode()
    # ...then someone else books it.
    with django_capture_on_commit_callbacks(execute=True):
        book_session(mentee_user=UserFactory(), mentor=mentor, session_type=intro, start=MONDAY_9)

    response = post(client, mentor, type="intro-call", start=MONDAY_9_ISO)

    assert response.status_code == 409
    body = response.content.decode()
    assert "That time was just taken" in body or "That time is not available" in body
    # The week of the refused time, without it, with the other times.
    assert "Week of 30 November – 6 December 2026" in body
    assert f'<time datetime="{MONDAY_9_ISO}">' not in body
    assert '<time datetime="2026-11-30T14:30:00Z">20:00</time>' in body
    assert Session.objects.count() == 1
    assert not Session.objects.filter(mentee__user=mentee_user).exists()


def assert_refused(response, message: str, status: int = 400) -> None:
    assert response.status_code == status
    assert message in response.content.decode()
    assert not Session.objects.exists()


def test_an_unverified_email_is_refused(client, mentor, intro):
    client.force_login(UserFactory(verified=False))
    response = post(client, mentor, type="intro-call", start=MONDAY_9_ISO)
    assert_refused(response, "Please confirm your email address before booking.")


def test_a_mentor_cannot_book_themselves(client, mentor, intro):
    client.force_login(mentor.user)
    response = post(client, mentor, type="intro-call", start=MONDAY_9_ISO)
    assert_refused(response, "You cannot book a session with yourself.")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "intro-call", "start": "tomorrow"}, "That start time is not valid."),
        ({"type": "intro-call"}, "That start time is not valid."),
        ({"type": "intro-call", "start": ""}, "That start time is not valid."),
        ({"type": "intro-call", "start": "2026-11-30T14:00:00"}, "That start time is not valid."),
        ({"type": "no-such-type", "start": MONDAY_9_ISO}, "This session type is not offered."),
        ({"start": MONDAY_9_ISO}, "This session type is not offered."),
        (
            {"type": "intro-call", "start": MONDAY_9_ISO, "topic": "x" * 1001},
            "Keep the topic under 1000 characters.",
        ),
        (
            {"type": "intro-call", "start": "2026-11-25T14:00:00Z"},
            "That time has already passed.",
        ),
    ],
)
def test_bad_input_is_400_with_a_message(client, mentor, intro, mentee_user, data, message):
    client.force_login(mentee_user)
    response = post(client, mentor, **data)
    assert_refused(response, message)
    # The picker is shown again, so another time can be chosen.
    assert 'id="picker-days"' in response.content.decode()


def test_a_topic_of_1000_characters_is_accepted(client, mentor, intro, mentee_user):
    client.force_login(mentee_user)
    response = post(client, mentor, type="intro-call", start=MONDAY_9_ISO, topic="x" * 1000)
    assert response.status_code == 302
    assert len(Session.objects.get().topic) == 1000


JUNK = [
    {},
    {"type": "", "start": "", "topic": ""},
    {"type": "intro-call", "start": "2026-13-45T99:99:99Z"},
    {"type": "intro-call", "start": "9999-12-31T23:59:59Z"},
    {"type": "intro-call", "start": "9999-12-31T23:59:59-23:59"},
    {"type": "intro-call", "start": "9999-12-31T23:00:00+00:00"},
    {"type": "intro-call", "start": "0001-01-01T00:00:00+14:00"},
    {"type": "intro-call", "start": "0001-01-01T00:00:00Z"},
    {"type": "intro-call", "start": "2026-11-30T14:00:00.123456Z"},
    {"type": "intro-call", "start": "2026-11-30T14:07:00Z"},
    {"type": "intro-call", "start": "2026-11-30T19:30:00+05:30"},
    {"type": "intro-call", "start": "2026-11-30"},
    {"type": "intro-call", "start": "1" * 5000},
    {"type": "intro-call", "start": "2026-11-30T14:00:00\x00Z"},
    {"type": "intro-call\x00", "start": MONDAY_9_ISO},
    {"type": "intro-call", "start": MONDAY_9_ISO, "topic": "\x00"},
    {"type": "intro-call", "start": MONDAY_9_ISO, "topic": "a\x00b"},
    {"type": "intro-call", "start": MONDAY_9_ISO, "topic": " " * 5000},
    {"type": "intro-call", "start": MONDAY_9_ISO, "topic": "<script>alert(1)</script>"},
    {"type": ["intro-call", "mentoring-session"], "start": [MONDAY_9_ISO, "tomorrow"]},
    {"type": "../../admin", "start": "null"},
    {"type": "intro-call", "start": "NaN"},
    {"type": "intro-call", "start": "2026-11-30T14:00:00+99:00"},
]


@pytest.mark.parametrize("data", JUNK, ids=range(len(JUNK)))
def test_junk_posts_never_fail_with_a_server_error(client, mentor, intro, mentee_user, data):
    client.force_login(mentee_user)
    response = client.post(book_url(mentor), data)  # a 500 raises here
    assert response.status_code in {302, 400, 409}
    if response.status_code != 302:
        assert not Session.objects.exists()


# --- /sessions/ ---------------------------------------------------------------------------------


def test_the_list_puts_each_session_in_its_section(client, mentee_user):
    mentee = MenteeProfileFactory(user=mentee_user)
    as_mentor = MentorProfileFactory(user=mentee_user)
    maya = MentorProfileFactory(user=UserFactory(name="Maya Mentor"))
    omar = MenteeProfileFactory(user=UserFactory(name="Omar Mentee"))
    SessionFactory(
        mentor=maya,
        mentee=mentee,
        title="Upcoming as mentee",
        start=datetime(2026, 11, 28, 14, 0, tzinfo=UTC),
    )
    SessionFactory(
        mentor=as_mentor,
        mentee=omar,
        title="Upcoming as mentor",
        start=datetime(2026, 11, 29, 14, 0, tzinfo=UTC),
    )
    SessionFactory(
        mentor=maya,
        mentee=mentee,
        title="Past as mentee",
        start=datetime(2026, 11, 20, 14, 0, tzinfo=UTC),
        status=Session.Status.COMPLETED,
    )
    SessionFactory(
        mentor=as_mentor,
        mentee=omar,
        title="Ended as mentor",  # still "upcoming" in the database, but over
        start=NOW - timedelta(minutes=30),
    )
    SessionFactory(
        mentor=as_mentor,
        mentee=omar,
        title="Cancelled as mentor",
        start=datetime(2026, 12, 1, 14, 0, tzinfo=UTC),
        status=Session.Status.CANCELLED,
        cancelled_at=NOW,
    )
    SessionFactory(title="Someone else's session", start=datetime(2026, 11, 28, 15, tzinfo=UTC))
    client.force_login(mentee_user)

    response = client.get(reverse("scheduling:session_list"))

    assert response.status_code == 200
    body = response.content.decode()
    upcoming, past, cancelled = (section(body, name) for name in ("upcoming", "past", "cancelled"))
    assert "Upcoming as mentee" in upcoming and "Upcoming as mentor" in upcoming
    assert upcoming.index("Upcoming as mentee") < upcoming.index("Upcoming as mentor")
    assert "as mentee</span> with Maya Mentor" in upcoming
    assert "as mentor</span> with Omar Mentee" in upcoming
    # In the viewer's zone: 14:00 UTC is 19:30 in Kolkata.
    assert "Sat 28 Nov 2026, 19:30–20:00 IST" in upcoming
    assert "Times are in Asia/Kolkata" in body
    assert "Past as mentee" in past and "Ended as mentor" in past
    assert past.index("Ended as mentor") < past.index("Past as mentee")  # latest first
    assert "Cancelled as mentor" in cancelled
    for title in ("Past as mentee", "Ended as mentor", "Cancelled as mentor"):
        assert title not in upcoming
    assert "Cancelled as mentor" not in past
    assert "Someone else" not in body
    assert "Nothing cancelled or moved." not in body


def test_the_list_has_an_empty_state(client, mentee_user):
    SessionFactory()  # someone else's
    client.force_login(mentee_user)
    body = client.get(reverse("scheduling:session_list")).content.decode()
    assert "No upcoming sessions. Find a mentor and book a time." in body
    assert "No past sessions yet." in body
    assert "Nothing cancelled or moved." in body


def test_the_list_needs_a_sign_in(client):
    response = client.get(reverse("scheduling:session_list"))
    assert response.status_code == 302
    assert response["Location"] == login_required_url("/sessions/")


# The list's query budget, for 1 session and for 500, and its pages:
# test_session_list_pages.py.


# --- /sessions/<uuid>/ --------------------------------------------------------------------------


@pytest.fixture
def session(mentee_user):
    return SessionFactory(
        mentor=MentorProfileFactory(user=UserFactory(name="Maya Mentor")),
        mentee=MenteeProfileFactory(user=mentee_user),
        title="Intro call",
        start=MONDAY_9,
        topic="Moving into data science",
        meeting_url=MEETING_URL,
    )


def test_the_mentee_sees_the_session_and_its_meeting_link(client, session, mentee_user):
    client.force_login(mentee_user)
    response = client.get(detail_url(session))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'href="{MEETING_URL}"' in body
    assert "Monday 30 November 2026, 19:30–20:00 IST" in body
    assert "Moving into data science" in body


def test_the_mentor_sees_the_session_in_their_zone(client, session):
    mentor_user = session.mentor.user
    mentor_user.timezone = "America/New_York"
    mentor_user.save()
    client.force_login(mentor_user)
    response = client.get(detail_url(session))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'href="{MEETING_URL}"' in body
    assert "Monday 30 November 2026, 09:00–09:30 EST" in body
    assert "(America/New_York)" in body


def test_staff_see_the_session_without_the_meeting_link(client, session):
    client.force_login(UserFactory(is_staff=True))
    response = client.get(detail_url(session))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Intro call" in body
    assert MEETING_URL not in body


def test_a_cancelled_session_shows_no_meeting_link(client, session, mentee_user):
    Session.objects.filter(pk=session.pk).update(
        status=Session.Status.CANCELLED, cancelled_at=NOW, cancellation_reason="Ill"
    )
    client.force_login(mentee_user)
    body = client.get(detail_url(session)).content.decode()
    assert "Cancelled" in body and "Ill" in body
    assert MEETING_URL not in body


def test_anyone_else_gets_404(client, session):
    client.force_login(UserFactory())
    assert client.get(detail_url(session)).status_code == 404


def test_an_unknown_session_is_404(client, mentee_user):
    client.force_login(mentee_user)
    response = client.get(reverse("scheduling:session_detail", kwargs={"session_id": uuid.uuid4()}))
    assert response.status_code == 404
    assert client.get("/sessions/not-a-uuid/").status_code == 404


def test_the_session_page_needs_a_sign_in(client, session):
    response = client.get(detail_url(session))
    assert response.status_code == 302
    assert response["Location"] == login_required_url(detail_url(session))


def test_the_session_page_is_get_only(client, session, mentee_user):
    client.force_login(mentee_user)
    assert client.post(detail_url(session)).status_code == 405


# The Django session, the user, the session with its people, the navigation's profiles.
DETAIL_QUERIES = 4


@pytest.mark.parametrize("viewer", ["mentee", "mentor", "staff"])
def test_the_session_page_query_budget(
    client, session, mentee_user, viewer, django_assert_max_num_queries
):
    users = {
        "mentee": mentee_user,
        "mentor": session.mentor.user,
        "staff": UserFactory(is_staff=True),
    }
    client.force_login(users[viewer])
    with django_assert_max_num_queries(DETAIL_QUERIES):
        assert client.get(detail_url(session)).status_code == 200
