"""``/mentors/<slug>/book/`` (GET): the slot picker."""

import re
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qs

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from mentorship.services import become_mentor, update_mentor_profile
from scheduling.availability import replace_weekly_hours
from scheduling.models import Availability, SessionType
from scheduling.session_types import update_session_type
from scheduling.views.booking import next_available_slot

# Thursday 26 November 2026, 12:00 UTC: 07:00 in New York, 17:30 in Kolkata.
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


def set_rules(mentor, **changes):
    update_mentor_profile(
        mentor=mentor,
        changes={"minimum_notice_minutes": 0, "buffer_minutes": 0, **changes},
        tags=[],
        links={},
    )
    mentor.refresh_from_db()


@pytest.fixture
def mentor(db, frozen_now):
    """Weekdays 09:00-12:00 New York time (14:00-17:00 UTC, 19:30-22:30 in Kolkata)."""
    mentor = become_mentor(user=UserFactory(name="Maya Mentor", timezone="America/New_York"))
    set_rules(mentor)
    replace_weekly_hours(
        mentor=mentor,
        timezone="America/New_York",
        weekly={day: [(time(9), time(12))] for day in range(5)},
        starting=date(2026, 11, 23),
    )
    return mentor


def get(client, mentor, **params):
    return client.get(f"/mentors/{mentor.slug}/book/", params)


def start_links(body: str) -> list[str]:
    return re.findall(r"start=([0-9T:%A-Z-]+Z)", body)


def test_times_are_shown_in_the_zone_asked_for(client, mentor):
    response = get(client, mentor, tz="Asia/Kolkata", type="intro-call")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Times are in <strong>Asia/Kolkata</strong> (UTC+05:30)" in body
    # Thursday and Friday remain this week: 09:00 New York is 19:30 in Kolkata.
    assert '<time datetime="2026-11-26T14:00:00Z">19:30</time> <small>IST</small>' in body
    assert '<time datetime="2026-11-27T16:30:00Z">22:00</time>' in body
    # The accessible name starts with what the button shows (WCAG 2.5.3), then the day.
    assert (
        '<time datetime="2026-11-26T14:00:00Z">19:30</time> <small>IST</small>'
        '<span class="visually-hidden"> on Thursday 26 November</span>' in body
    )
    assert "Week of 23 November – 29 November 2026" in body
    # Each time links to itself, chosen, with the type, zone and week kept.
    assert (
        f"/mentors/{mentor.slug}/book/?type=intro-call&amp;tz=Asia%2FKolkata&amp;week=2026-11-23"
        "&amp;start=2026-11-26T14%3A00%3A00Z" in body
    )
    assert len(re.findall(r"<time datetime=", body)) == 12  # 2 days x 6 half-hours


def test_the_default_zone_is_the_viewers(client, mentor):
    viewer = UserFactory(timezone="Asia/Kathmandu")
    client.force_login(viewer)
    body = get(client, mentor).content.decode()
    assert "Times are in <strong>Asia/Kathmandu</strong> (UTC+05:45)" in body
    assert '<time datetime="2026-11-26T14:00:00Z">19:45</time>' in body


def test_anonymous_visitors_get_their_browser_zone_or_utc(client, mentor):
    assert "<strong>UTC</strong>" in get(client, mentor).content.decode()
    client.cookies["tz"] = "Asia%2FKolkata"
    assert "<strong>Asia/Kolkata</strong>" in get(client, mentor).content.decode()


def test_the_first_offered_type_is_the_default(client, mentor, django_capture_on_commit_callbacks):
    body = get(client, mentor, tz="UTC").content.decode()
    assert "Intro call · 30 min" in body
    intro = SessionType.objects.get(mentor=mentor, slug="intro-call")
    with django_capture_on_commit_callbacks(execute=True):
        update_session_type(
            session_type=intro,
            name=intro.name,
            duration_minutes=intro.duration_minutes,
            description=intro.description,
            is_active=False,
        )
    body = get(client, mentor, tz="UTC").content.decode()
    assert "Mentoring session · 60 min" in body
    assert "Intro call" not in body  # an inactive type is not offered at all
    # Hourly slots now: 14:00, 15:00, 16:00 UTC on Thursday and Friday.
    assert len(re.findall(r"<time datetime=", body)) == 6


def test_week_navigation(client, mentor):
    this_week = get(client, mentor, tz="UTC").content.decode()
    assert "← Previous week</span>" in this_week  # disabled: never before this week
    assert "week=2026-11-30" in this_week

    next_week = get(client, mentor, tz="UTC", week="2026-11-30").content.decode()
    assert "Week of 30 November – 6 December 2026" in next_week
    assert 'rel="prev"' in next_week
    assert "week=2026-11-23" in next_week
    assert "week=2026-12-07" in next_week
    assert len(re.findall(r"<time datetime=", next_week)) == 30  # 5 days x 6

    # Any day of a week shows that week.
    wednesday = get(client, mentor, tz="UTC", week="2026-12-02").content.decode()
    assert "Week of 30 November – 6 December 2026" in wednesday


def test_the_week_is_the_viewers_week(client, mentor):
    # Auckland is 13 hours ahead: its week of 30 November starts on Sunday 11:00 UTC.
    body = get(client, mentor, tz="Pacific/Auckland", week="2026-11-30").content.decode()
    assert "Week of 30 November – 6 December 2026" in body
    # Monday 09:00 New York = Tuesday 03:00 in Auckland.
    assert '<time datetime="2026-11-30T14:00:00Z">03:00</time>' in body


def test_the_weeks_end_at_the_booking_horizon(client, mentor):
    set_rules(mentor, booking_horizon_days=10)  # up to Sunday 6 December
    body = get(client, mentor, tz="UTC", week="2026-11-30").content.decode()
    assert "Next week →</span>" in body  # disabled
    body = get(client, mentor, tz="UTC", week="2026-12-14").content.decode()
    assert "Bookings open at most 10 days ahead" in body
    assert "Week of 30 November – 6 December 2026" in body


def test_an_empty_week_names_the_next_date_with_availability(client, mentor):
    Availability.objects.filter(mentor=mentor).delete()
    set_rules(mentor, booking_horizon_days=200)
    # One free morning, more than 62 days ahead: found in the second chunk.
    Availability.objects.create(
        mentor=mentor,
        timezone="America/New_York",
        start=datetime(2027, 2, 18, 14, 0, tzinfo=UTC),  # Thursday 09:00 New York
        end=datetime(2027, 2, 18, 17, 0, tzinfo=UTC),
    )
    body = get(client, mentor, tz="Asia/Kolkata", week="2026-11-23").content.decode()
    assert "No free times in this week." in body
    assert "The next date with availability is <strong>Thursday 18 February 2027</strong>" in body
    assert "from 19:30 IST (Asia/Kolkata)" in body
    assert "week=2027-02-15" in body
    assert "Go to the week of 18 February" in body
    # That link shows the times.
    body = get(client, mentor, tz="Asia/Kolkata", week="2027-02-15").content.decode()
    assert '<time datetime="2027-02-18T14:00:00Z">19:30</time>' in body
    # Without a week asked for, the picker starts at that week (issue 16, item 5).
    body = get(client, mentor, tz="Asia/Kolkata").content.decode()
    assert "Week of 15 February – 21 February 2027" in body
    assert '<time datetime="2027-02-18T14:00:00Z">19:30</time>' in body
    assert "No free times in this week." not in body


def test_a_week_past_the_last_times_points_back_to_the_first_one(client, mentor):
    Availability.objects.filter(mentor=mentor).delete()
    set_rules(mentor, booking_horizon_days=200)
    Availability.objects.create(
        mentor=mentor,
        timezone="America/New_York",
        start=datetime(2026, 12, 3, 14, 0, tzinfo=UTC),  # Thursday 09:00 New York
        end=datetime(2026, 12, 3, 17, 0, tzinfo=UTC),
    )
    body = get(client, mentor, tz="UTC", week="2027-03-01").content.decode()
    assert "No free times in this week." in body
    assert "The first date with availability is <strong>Thursday 3 December 2026</strong>" in body
    assert "week=2026-11-30" in body
    assert "no bookable times" not in body


def test_an_empty_horizon_says_so(client, mentor):
    Availability.objects.filter(mentor=mentor).delete()
    body = get(client, mentor).content.decode()
    assert "No free times in this week." in body
    assert "has no bookable times in the next 60 days" in body


def test_next_available_slot_respects_the_horizon(mentor):
    Availability.objects.filter(mentor=mentor).delete()
    intro = mentor.session_types.get(slug="intro-call")
    Availability.objects.create(
        mentor=mentor,
        timezone="UTC",
        start=NOW + timedelta(days=59, hours=2),
        end=NOW + timedelta(days=59, hours=3),
    )
    slot = next_available_slot(mentor, intro, NOW, now=NOW)
    assert slot.start == NOW + timedelta(days=59, hours=2)
    set_rules(mentor, booking_horizon_days=30)
    assert next_available_slot(mentor, intro, NOW, now=NOW) is None


@pytest.mark.parametrize(
    ("params", "notice", "shown"),
    [
        ({"tz": "Mars/Olympus_Mons"}, "is not a time zone we know", "<strong>UTC</strong>"),
        ({"tz": "x" * 500}, "is not a time zone we know", "<strong>UTC</strong>"),
        ({"tz": "Europe/Berlin\x00"}, "is not a time zone we know", "<strong>UTC</strong>"),
        ({"type": "no-such-type"}, "is not a session type on offer", "Intro call · 30 min"),
        ({"week": "next tuesday"}, "is not a date like 2026-11-23", "Week of 23 November"),
        ({"week": "2026-02-30"}, "is not a date like", "Week of 23 November"),
        ({"week": "2026-11-16"}, "That week has passed", "Week of 23 November"),
        ({"week": "0001-01-01"}, "That week has passed", "Week of 23 November"),
        ({"week": "9999-12-31"}, "Bookings open at most 60 days ahead", "Week of 25 January"),
        ({"start": "yesterday"}, "We could not read the chosen time", "Week of 23 November"),
        ({"start": "2026-11-26T14:00:00"}, "We could not read the chosen time", "Week of 23"),
        ({"start": "2026-11-26T14:10:00Z"}, "That time is not available", "Week of 23"),
    ],
)
def test_bad_parameters_fall_back_with_a_notice(client, mentor, params, notice, shown):
    response = get(client, mentor, **params)
    assert response.status_code == 200
    body = response.content.decode()
    assert notice in body
    assert shown in body


def test_an_inactive_type_falls_back(client, mentor):
    SessionType.objects.filter(mentor=mentor, slug="intro-call").update(is_active=False)
    body = get(client, mentor, type="intro-call").content.decode()
    assert "“intro-call” is not a session type on offer: showing Mentoring session" in body


def test_no_offered_types(client, mentor):
    SessionType.objects.filter(mentor=mentor).update(is_active=False)
    body = get(client, mentor, type="intro-call").content.decode()
    assert "does not offer any session types right now" in body


def test_a_chosen_time_is_highlighted_with_the_booking_form(client, mentor):
    body = get(
        client, mentor, tz="Asia/Kolkata", type="intro-call", start="2026-11-26T14:30:00Z"
    ).content.decode()
    assert 'aria-current="true"' in body
    assert "Thursday 26 November 2026, 20:00–20:30 IST" in body
    assert f'<form method="post" action="/mentors/{mentor.slug}/book/">' in body
    assert '<input type="hidden" name="start" value="2026-11-26T14:30:00Z">' in body
    assert '<input type="hidden" name="type" value="intro-call">' in body
    # A visitor gives their details on the same page, or signs in instead.
    assert 'name="email"' in body and 'name="password"' in body
    assert 'name="action" value="sign-in"' in body
    # Without a week, the chosen time's week is shown.
    body = get(client, mentor, tz="UTC", start="2026-12-01T15:00:00Z").content.decode()
    assert "Week of 30 November" in body
    assert 'aria-current="true"' in body


def test_htmx_gets_only_the_days_partial(client, mentor):
    response = client.get(
        f"/mentors/{mentor.slug}/book/",
        {"tz": "Asia/Kolkata", "week": "2026-11-30", "type": "mentoring-session"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    body = response.content.decode()
    assert "<html" not in body
    assert 'id="picker-form"' not in body
    assert '<input type="hidden" name="week" value="2026-11-30" form="picker-form">' in body
    assert "Mentoring session · 60 min" in body
    assert '<time datetime="2026-11-30T14:00:00Z">19:30</time>' in body


def test_the_full_page_wires_htmx_and_works_without_it(client, mentor):
    body = get(client, mentor, tz="Asia/Kolkata").content.decode()
    assert '<form id="picker-form" method="get"' in body
    assert 'hx-target="#picker-days"' in body
    assert 'hx-push-url="true"' in body
    assert '<option value="Asia/Kolkata">' in body
    assert 'value="mentoring-session"' in body
    assert "<script>" not in body  # CSP: no inline code


@pytest.mark.parametrize("state", ["not accepting", "inactive account", "unknown"])
def test_unlisted_mentors_are_404(client, mentor, state):
    slug = mentor.slug
    if state == "not accepting":
        set_rules(mentor, is_accepting_bookings=False)
    elif state == "inactive account":
        mentor.user.is_active = False
        mentor.user.save()
    else:
        slug = "no-such-mentor"
    assert client.get(f"/mentors/{slug}/book/").status_code == 404


def test_the_owner_of_an_unlisted_profile_gets_404_too(client, mentor):
    set_rules(mentor, is_accepting_bookings=False)
    client.force_login(mentor.user)
    assert client.get(f"/mentors/{mentor.slug}/book/").status_code == 404


def test_anonymous_booking_goes_to_login_and_back_to_the_same_time(client, mentor):
    response = client.post(
        f"/mentors/{mentor.slug}/book/", {"type": "intro-call", "start": "2026-11-26T14:00:00Z"}
    )
    assert response.status_code == 302
    login, _, query = response["Location"].partition("?")
    assert login == "/accounts/login/"
    back = parse_qs(query)["next"][0]
    assert back == f"/mentors/{mentor.slug}/book/?type=intro-call&start=2026-11-26T14%3A00%3A00Z"
    # Following it shows that time chosen.
    body = client.get(back).content.decode()
    assert 'aria-current="true"' in body


def queries_for(client, mentor) -> int:
    """Queries of an uncached picker request."""
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = get(client, mentor, tz="Asia/Kolkata", week="2026-11-30")
    assert response.status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_rules_or_slots(client, mentor):
    # Regression guard: the picker must never query per availability row, day or time.
    replace_weekly_hours(
        mentor=mentor,
        timezone="America/New_York",
        weekly={0: [(time(9), time(10))]},
        starting=date(2026, 11, 23),
    )
    one_row = queries_for(client, mentor)
    replace_weekly_hours(
        mentor=mentor,
        timezone="America/New_York",
        weekly={
            day: [(time(hour), time(hour + 1)) for hour in (8, 10, 13, 15)] for day in range(5)
        },
        starting=date(2026, 11, 23),
    )
    assert Availability.objects.filter(mentor=mentor).count() == 20
    twenty_rows = queries_for(client, mentor)
    assert one_row == twenty_rows
    # The mentor, the offered types, and the slot engine's three reads.
    assert twenty_rows <= 5


def test_cached_week_is_served_without_the_slot_engine(client, mentor):
    queries_for(client, mentor)
    with CaptureQueriesContext(connection) as queries:
        response = get(client, mentor, tz="Asia/Kolkata", week="2026-11-30")
    assert response.status_code == 200
    # The mentor, their session types and the week's times all come from the cache.
    assert len(queries) == 0
    assert "19:30" in response.text


def test_a_change_shows_at_once_in_the_picker(client, mentor, django_capture_on_commit_callbacks):
    first = get(client, mentor, tz="Asia/Kolkata", week="2026-11-30").text
    assert "19:30" in first
    with django_capture_on_commit_callbacks(execute=True):
        replace_weekly_hours(
            mentor=mentor,
            timezone="America/New_York",
            weekly={day: [(time(10), time(12))] for day in range(5)},
            starting=date(2026, 11, 23),
        )
    second = get(client, mentor, tz="Asia/Kolkata", week="2026-11-30").text
    assert "19:30" not in second
    assert "20:30" in second


def test_query_budget_for_a_signed_in_viewer(client, mentor, django_assert_max_num_queries):
    client.force_login(UserFactory(timezone="Asia/Kolkata"))
    with django_assert_max_num_queries(9):
        assert get(client, mentor).status_code == 200
