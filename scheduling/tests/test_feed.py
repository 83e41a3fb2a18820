"""The personal calendar feed: ``/calendar/<token>.ics`` (no sign-in, the token
is the key), ``/calendar/feed/`` (its owner gets, resets or turns off the
link) and the services behind them (``scheduling/notifications/feeds.py``).

Feeds are read back with ``icalendar.Calendar.from_ical``, as a calendar app
would. The clock is frozen at Thursday 26 November 2026, 12:00 UTC.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from accounts.services import deactivate_user
from accounts.tests.factories import UserFactory
from mentorship.tests.factories import MenteeProfileFactory, MentorProfileFactory
from scheduling.models import CalendarFeed, Session
from scheduling.notifications.feeds import (
    FEED_PAST_DAYS,
    FETCH_RECORD_INTERVAL,
    disable_feed,
    feed_for,
    reset_feed,
)
from scheduling.notifications.ics import organizer_email, sessions_calendar
from scheduling.tests.factories import MEETING_URL, UID_DOMAIN, SessionFactory

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
MONDAY_14_UTC = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
TUESDAY_10_UTC = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
SITE_URL = "https://mentorship.example.org"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("uid_domain")]


@pytest.fixture(autouse=True)
def clock(time_machine):
    """The clock, frozen at NOW; ``clock.shift(delta)`` moves it on."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE_URL


@pytest.fixture
def owner():
    """Kiran: a mentee of Maya's, and a mentor to others."""
    return UserFactory(name="Kiran Owner", email="kiran@example.com", timezone="Asia/Kolkata")


@pytest.fixture
def owner_as_mentor(owner):
    return MentorProfileFactory(user=owner)


@pytest.fixture
def owner_as_mentee(owner):
    return MenteeProfileFactory(user=owner)


@pytest.fixture
def maya():
    return MentorProfileFactory(user=UserFactory(name="Maya Mentor", email="maya@example.com"))


@pytest.fixture
def feed(owner):
    return feed_for(user=owner)


def feed_url(token: str) -> str:
    return reverse("scheduling:calendar_feed_ics", kwargs={"token": token})


SETTINGS_URL = "/calendar/feed/"


def events_by_uid(content: bytes) -> tuple[Calendar, dict]:
    calendar = Calendar.from_ical(content)
    return calendar, {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def uid(session: Session) -> str:
    return f"{session.ical_uid}@{UID_DOMAIN}"


# --- what the feed lists --------------------------------------------------------------------


def test_the_urls_are_the_ones_the_design_names(feed):
    assert reverse("scheduling:calendar_feed") == SETTINGS_URL
    assert feed_url(feed.token) == f"/calendar/{feed.token}.ics"


def test_the_feed_lists_the_owners_sessions_in_both_roles(
    client, feed, owner_as_mentor, owner_as_mentee, maya
):
    as_mentee = SessionFactory(
        mentor=maya,
        mentee=owner_as_mentee,
        title="Intro call",
        start=MONDAY_14_UTC,
        topic="Becoming a tech lead",
        meeting_url=MEETING_URL,
        ical_sequence=2,
    )
    as_mentor = SessionFactory(
        mentor=owner_as_mentor,
        mentee=MenteeProfileFactory(user=UserFactory(name="Theo Mentee")),
        title="Mentoring session",
        start=TUESDAY_10_UTC,
        meeting_url="https://meet.example.com/other",
    )
    response = client.get(feed_url(feed.token))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    assert response["X-Robots-Tag"] == "noindex, nofollow"

    calendar, events = events_by_uid(response.content)
    # A subscribed feed carries no METHOD (RFC 5546 methods are for invites).
    assert "METHOD" not in calendar
    assert str(calendar["X-WR-CALNAME"]) == "Mentorship sessions"
    assert str(calendar["VERSION"]) == "2.0"
    assert set(events) == {uid(as_mentee), uid(as_mentor)}

    event = events[uid(as_mentee)]
    assert event.decoded("SEQUENCE") == 2
    assert event.decoded("DTSTART") == MONDAY_14_UTC
    assert event.decoded("DTEND") == MONDAY_14_UTC + timedelta(minutes=30)
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert "\r\nDTSTART:20261130T140000Z\r\n" in response.content.decode()
    assert str(event["SUMMARY"]) == "Intro call: Maya Mentor & Kiran Owner"
    assert str(event["STATUS"]) == "CONFIRMED"
    # The owner takes part, so the meeting link is there.
    assert str(event["URL"]) == MEETING_URL
    assert str(event["DESCRIPTION"]) == f"Topic: Becoming a tech lead\n\nJoin: {MEETING_URL}"

    mentoring = events[uid(as_mentor)]
    assert str(mentoring["SUMMARY"]) == "Mentoring session: Kiran Owner & Theo Mentee"
    # The platform organizes under the mentor's name (the owner's, here); the
    # owner is each event's one attendee; the other side's address is not there.
    assert str(mentoring["ORGANIZER"]) == f"mailto:{organizer_email()}"
    assert mentoring["ORGANIZER"].params["CN"] == "Kiran Owner"
    assert str(mentoring["ATTENDEE"]) == str(event["ATTENDEE"]) == "mailto:kiran@example.com"
    assert str(mentoring["URL"]) == "https://meet.example.com/other"


def test_the_feed_leaves_out_cancelled_no_show_old_and_other_peoples_sessions(
    client, feed, owner_as_mentee, owner_as_mentor, maya
):
    def mine(start, **fields):
        return SessionFactory(mentor=maya, mentee=owner_as_mentee, start=start, **fields)

    in_progress = mine(NOW - timedelta(minutes=15))  # still "upcoming" in the database
    recent = mine(NOW - timedelta(days=6), status=Session.Status.COMPLETED)
    # Ended yesterday; the periodic task has not marked it completed yet.
    ended_unmarked = mine(NOW - timedelta(days=1))
    last_in_window = mine(NOW - timedelta(days=FEED_PAST_DAYS, minutes=-30))
    left_out = [
        mine(NOW + timedelta(days=2), status=Session.Status.CANCELLED, cancelled_at=NOW),
        mine(NOW - timedelta(days=3), status=Session.Status.NO_SHOW),
        mine(NOW - timedelta(days=FEED_PAST_DAYS + 1), status=Session.Status.COMPLETED),
        # Someone else's session with Maya, and with another mentor.
        SessionFactory(mentor=maya, start=NOW + timedelta(days=3)),
        SessionFactory(start=NOW + timedelta(days=3)),
    ]

    _, events = events_by_uid(client.get(feed_url(feed.token)).content)

    assert set(events) == {uid(in_progress), uid(recent), uid(ended_unmarked), uid(last_in_window)}
    assert not {uid(session) for session in left_out} & set(events)


def test_a_reschedule_chain_is_one_event(client, feed, owner_as_mentee, maya):
    """The cancelled original is left out; the moved session keeps the UID."""
    original = SessionFactory(
        mentor=maya,
        mentee=owner_as_mentee,
        start=MONDAY_14_UTC,
        status=Session.Status.CANCELLED,
        cancelled_at=NOW,
    )
    moved = SessionFactory(
        mentor=maya,
        mentee=owner_as_mentee,
        start=TUESDAY_10_UTC,
        rescheduled_from=original,
        ical_uid=original.ical_uid,
        ical_sequence=1,
    )
    _, events = events_by_uid(client.get(feed_url(feed.token)).content)
    assert list(events) == [uid(moved)]
    assert events[uid(moved)].decoded("SEQUENCE") == 1
    assert events[uid(moved)].decoded("DTSTART") == TUESDAY_10_UTC


def test_a_feed_without_sessions_is_an_empty_calendar(client, feed):
    response = client.get(feed_url(feed.token))
    assert response.status_code == 200
    calendar, events = events_by_uid(response.content)
    assert events == {}
    assert str(calendar["X-WR-CALNAME"]) == "Mentorship sessions"


def test_the_builder_asks_clients_to_poll_hourly():
    calendar = Calendar.from_ical(sessions_calendar([], name="Mine", reader=None))
    assert str(calendar["X-WR-CALNAME"]) == str(calendar["NAME"]) == "Mine"
    assert calendar.decoded("REFRESH-INTERVAL") == timedelta(hours=1)
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    raw = sessions_calendar([], name="Mine", reader=None).decode()
    assert "\r\nX-PUBLISHED-TTL:PT1H\r\n" in raw
    assert "METHOD" not in raw


def test_head_answers_without_recording_a_fetch(client, feed):
    response = client.head(feed_url(feed.token))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    feed.refresh_from_db()
    assert feed.last_fetched_at is None


def test_the_feed_is_read_only(client, feed):
    assert client.post(feed_url(feed.token)).status_code == 405


# --- who gets it --------------------------------------------------------------------------------


def test_an_unknown_token_is_404(client, feed):
    assert client.get(feed_url("not-a-token")).status_code == 404
    assert client.get(feed_url(feed.token[:-1])).status_code == 404
    assert client.get(feed_url(feed.token.upper())).status_code == 404


def test_a_deactivated_owner_looks_exactly_like_an_unknown_token(client, feed, owner):
    deactivate_user(user=owner)
    inactive = client.get(feed_url(feed.token))
    unknown = client.get(feed_url("x" * len(feed.token)))
    assert inactive.status_code == unknown.status_code == 404
    assert inactive.content == unknown.content
    assert inactive.headers.keys() == unknown.headers.keys()


def test_a_deactivated_owner_is_one_query_like_an_unknown_token(client, feed, owner):
    deactivate_user(user=owner)
    for token in (feed.token, "x" * len(feed.token)):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(feed_url(token)).status_code == 404
        assert len(queries) == 1, token


def test_reset_kills_the_old_link(client, feed, owner):
    old_token = feed.token
    new = reset_feed(user=owner)

    assert new.pk == feed.pk
    assert new.token != old_token
    assert CalendarFeed.objects.get(user=owner).token == new.token
    assert client.get(feed_url(old_token)).status_code == 404
    assert client.get(feed_url(new.token)).status_code == 200


def test_reset_without_a_feed_creates_one(owner):
    created = reset_feed(user=owner)
    assert CalendarFeed.objects.get(user=owner).token == created.token


def test_disable_removes_the_feed(client, feed, owner):
    assert disable_feed(user=owner) is True
    assert not CalendarFeed.objects.filter(user=owner).exists()
    assert client.get(feed_url(feed.token)).status_code == 404
    # Turning off a feed that is off already is not an error.
    assert disable_feed(user=owner) is False


def test_feed_for_keeps_the_token(owner):
    first = feed_for(user=owner)
    second = feed_for(user=owner)
    assert first.pk == second.pk
    assert first.token == second.token
    assert len(first.token) >= 43  # 32 random bytes, URL-safe base64


def test_a_new_feed_after_turning_off_has_a_new_token(client, feed, owner):
    disable_feed(user=owner)
    again = feed_for(user=owner)
    assert again.token != feed.token
    assert client.get(feed_url(feed.token)).status_code == 404


# --- cost ---------------------------------------------------------------------------------------


# The feed with its owner, the sessions with both people (plus the fetch
# record, at most once per FETCH_RECORD_INTERVAL).
FEED_QUERIES = 2


def queries_for_feed(client, token) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(feed_url(token)).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_sessions(client, feed, owner_as_mentee, maya):
    """An N+1 here would cost a query per session per poll of every subscribed
    calendar app, all day: 1 session and 50 sessions must cost the same."""
    SessionFactory(mentor=maya, mentee=owner_as_mentee, start=MONDAY_14_UTC)
    client.get(feed_url(feed.token))  # records the fetch; the next ones do not write
    with_one = queries_for_feed(client, feed.token)

    others = [MentorProfileFactory() for _ in range(5)]
    for number in range(49):
        SessionFactory(
            mentor=others[number % 5],
            mentee=owner_as_mentee,
            start=TUESDAY_10_UTC + timedelta(hours=2 * number),
        )
    with_fifty = queries_for_feed(client, feed.token)
    _, events = events_by_uid(client.get(feed_url(feed.token)).content)

    assert len(events) == 50
    assert with_one == with_fifty == FEED_QUERIES


# --- last_fetched_at ----------------------------------------------------------------------------


def test_a_fetch_is_recorded_at_most_once_per_interval(client, feed, clock):
    assert feed.last_fetched_at is None
    client.get(feed_url(feed.token))
    feed.refresh_from_db()
    assert feed.last_fetched_at == NOW

    # Within the interval: nothing written, not even an UPDATE that matches nothing.
    clock.shift(FETCH_RECORD_INTERVAL - timedelta(seconds=1))
    with CaptureQueriesContext(connection) as queries:
        client.get(feed_url(feed.token))
    assert not [query for query in queries if query["sql"].startswith("UPDATE")]
    feed.refresh_from_db()
    assert feed.last_fetched_at == NOW

    clock.shift(timedelta(seconds=1))
    client.get(feed_url(feed.token))
    feed.refresh_from_db()
    assert feed.last_fetched_at == NOW + FETCH_RECORD_INTERVAL


def test_a_reset_forgets_the_last_fetch(client, feed, owner):
    client.get(feed_url(feed.token))
    assert reset_feed(user=owner).last_fetched_at is None
    feed.refresh_from_db()
    assert feed.last_fetched_at is None


# --- the settings page ------------------------------------------------------------------------


def test_the_page_needs_a_sign_in(client):
    response = client.get(SETTINGS_URL)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={SETTINGS_URL}"


def test_anonymous_posts_change_nothing(client, feed, owner):
    for action in ("create", "reset", "disable"):
        response = client.post(SETTINGS_URL, {"action": action})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    assert CalendarFeed.objects.get(user=owner).token == feed.token


def test_without_a_feed_the_page_offers_to_create_one(client, owner):
    client.force_login(owner)
    response = client.get(SETTINGS_URL)
    assert response.status_code == 200
    assert b"Create my feed link" in response.content
    assert b".ics" not in response.content
    # Looking at the page creates nothing.
    assert not CalendarFeed.objects.filter(user=owner).exists()


def test_creating_the_feed(client, owner):
    client.force_login(owner)
    response = client.post(SETTINGS_URL, {"action": "create"}, follow=True)

    feed = CalendarFeed.objects.get(user=owner)
    assert response.redirect_chain == [(SETTINGS_URL, 302)]
    page = response.content.decode()
    assert "Your calendar feed link is ready" in page
    assert f'value="{SITE_URL}/calendar/{feed.token}.ics"' in page
    assert f'href="webcal://mentorship.example.org/calendar/{feed.token}.ics"' in page
    assert "Anyone with this link sees your session times" in page
    assert "No calendar app has fetched it yet." in page
    # Creating again (a second tab) keeps the same link.
    client.post(SETTINGS_URL, {"action": "create"})
    assert CalendarFeed.objects.get(user=owner).token == feed.token


def test_the_page_shows_the_link_and_when_it_was_last_fetched(client, feed, owner):
    client.get(feed_url(feed.token))
    client.force_login(owner)
    response = client.get(SETTINGS_URL)
    page = response.content.decode()
    assert f"{SITE_URL}/calendar/{feed.token}.ics" in page
    # 12:00 UTC is 17:30 in Kolkata, the owner's zone.
    assert "A calendar app last fetched it on 26 November 2026, 17:30 IST." in page
    assert 'src="/static/js/copy.js" defer' in page
    # The page shows the secret: no cache keeps it.
    assert response["Cache-Control"] == "private, no-store"


def test_resetting_from_the_page(client, feed, owner):
    client.force_login(owner)
    response = client.post(SETTINGS_URL, {"action": "reset"}, follow=True)

    new_token = CalendarFeed.objects.get(user=owner).token
    assert new_token != feed.token
    page = response.content.decode()
    assert "The old link no longer works" in page
    assert new_token in page and feed.token not in page
    assert client.get(feed_url(feed.token)).status_code == 404


def test_turning_off_from_the_page(client, feed, owner):
    client.force_login(owner)
    response = client.post(SETTINGS_URL, {"action": "disable"}, follow=True)

    assert not CalendarFeed.objects.filter(user=owner).exists()
    page = response.content.decode()
    assert "Your calendar feed is turned off" in page
    assert "Create my feed link" in page
    assert client.get(feed_url(feed.token)).status_code == 404


def test_a_get_with_an_action_changes_nothing(client, feed, owner):
    client.force_login(owner)
    for action in ("create", "reset", "disable"):
        response = client.get(SETTINGS_URL, {"action": action})
        assert response.status_code == 200
        assert CalendarFeed.objects.get(user=owner).token == feed.token


def test_an_unknown_action_is_refused(client, feed, owner):
    client.force_login(owner)
    assert client.post(SETTINGS_URL, {"action": "delete-everything"}).status_code == 400
    assert client.post(SETTINGS_URL).status_code == 400
    assert CalendarFeed.objects.get(user=owner).token == feed.token


def test_each_person_sees_and_changes_only_their_own_feed(client, feed, owner):
    someone = UserFactory()
    client.force_login(someone)
    page = client.get(SETTINGS_URL).content.decode()
    assert feed.token not in page
    assert "Create my feed link" in page

    client.post(SETTINGS_URL, {"action": "reset"})
    client.post(SETTINGS_URL, {"action": "disable"})
    assert CalendarFeed.objects.get(user=owner).token == feed.token


# The Django session, the user, the feed, the navbar's profile links.
SETTINGS_QUERIES = 4


@pytest.mark.parametrize("has_feed", [True, False])
def test_the_page_query_budget(client, owner, has_feed, django_assert_max_num_queries):
    if has_feed:
        feed_for(user=owner)
    client.force_login(owner)
    with django_assert_max_num_queries(SETTINGS_QUERIES):
        assert client.get(SETTINGS_URL).status_code == 200
