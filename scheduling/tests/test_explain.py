"""“Why isn't this time bookable?”: every reason code in words with its link,
the JSON endpoint's shape and parameters, the HTML form with and without
htmx, and who may ask (the mentor and staff; everyone else 404).

The booking week of the factories: ``NOW`` is Monday 1 June 2026, 08:00 in
New York, and the mentor has weekday hours 09:00-12:00 there.
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from conftest import login_required_url
from core import timeformat
from scheduling import availability
from scheduling.explain import CODES, explain
from scheduling.models import Session
from scheduling.tests.factories import (
    NOW,
    TUESDAY_9,
    BusyIntervalFactory,
    SessionFactory,
    book,
    new_york_mentor,
    ny,
)
from scheduling.tests.fake_calendar import CalendarConnectionFactory

WEDNESDAY = date(2026, 6, 3)


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def mentor(db, frozen_now):
    """Weekday hours 09:00-12:00 in New York since the week before, a
    15-minute buffer, an hour's notice, 30 days ahead."""
    return new_york_mentor(
        starting=NOW.date() - timedelta(weeks=1),
        buffer_minutes=15,
        minimum_notice_minutes=60,
        booking_horizon_days=30,
    )


@pytest.fixture
def intro(mentor):
    return mentor.session_types.get(slug="intro-call")


@pytest.fixture
def hour(mentor):
    return mentor.session_types.get(slug="mentoring-session")


def codes(explanation) -> list[str]:
    return [reason.code for reason in explanation.reasons]


def only_reason(explanation):
    assert not explanation.bookable
    [reason] = explanation.reasons
    return reason


def explain_url(mentor) -> str:
    return reverse("scheduling:availability_explain", kwargs={"slug": mentor.slug})


def availability_url(mentor, anchor: str) -> str:
    return reverse("scheduling:availability", kwargs={"slug": mentor.slug}) + anchor


def profile_url(mentor) -> str:
    """The profile editor, where the booking rules are."""
    return reverse("mentorship:mentor_edit", kwargs={"slug": mentor.slug})


# --- Every reason --------------------------------------------------------------------------


def test_a_time_inside_the_hours_is_bookable(mentor, intro):
    explanation = explain(mentor, intro, TUESDAY_9)
    assert explanation.bookable
    assert explanation.reasons == []


def test_outside_hours_names_the_days_hours(mentor, intro):
    reason = only_reason(explain(mentor, intro, ny(2026, 6, 2, 13)))
    assert reason.code == "outside_hours"
    assert reason.message == (
        "Outside the weekly hours: on Tuesday 2 June 2026 they are 09:00–12:00 EDT."
    )
    assert reason.url == availability_url(mentor, "#weekly-hours")


def test_outside_hours_on_a_day_without_hours(mentor, intro):
    reason = only_reason(explain(mentor, intro, ny(2026, 6, 6, 10)))
    assert reason.code == "outside_hours"
    assert "there are none on Saturday 6 June 2026" in reason.message


def test_a_session_that_would_outlast_the_hours(mentor, hour):
    reason = only_reason(explain(mentor, hour, ny(2026, 6, 2, 11, 30)))
    assert reason.code == "outside_hours"
    assert "A 1 hour session from 11:30 EDT would end after the hours end at 12:00 EDT." in (
        reason.message
    )


def test_a_day_off(mentor, intro):
    availability.set_date_override(mentor=mentor, day=WEDNESDAY, ranges=[])
    reason = only_reason(explain(mentor, intro, ny(2026, 6, 3, 9)))
    assert reason.code == "day_off"
    assert reason.message == "Wednesday 3 June 2026 is a day off (a date override)."
    assert reason.url == availability_url(mentor, "#date-overrides")


def test_a_date_with_other_hours(mentor, intro):
    availability.set_date_override(mentor=mentor, day=WEDNESDAY, ranges=[(time(14), time(16))])
    reason = only_reason(explain(mentor, intro, ny(2026, 6, 3, 9)))
    assert reason.code == "day_off"
    assert reason.message == (
        "Wednesday 3 June 2026 has other hours than usual (a date override): 14:00–16:00 EDT."
    )
    assert explain(mentor, intro, ny(2026, 6, 3, 14)).bookable


def test_time_off(mentor, intro):
    availability.add_time_off(
        mentor=mentor,
        start=datetime(2026, 6, 2, 10, 0),  # noqa: DTZ001 (wall clock in New York)
        end=datetime(2026, 6, 4, 12, 0),  # noqa: DTZ001
    )
    reason = only_reason(explain(mentor, intro, ny(2026, 6, 3, 9)))
    assert reason.code == "time_off"
    assert reason.message == (
        "Time off: Tuesday 2 June 2026, 10:00 EDT to Thursday 4 June 2026, 12:00 EDT."
    )
    assert reason.url == availability_url(mentor, "#time-off")
    assert explain(mentor, intro, TUESDAY_9).bookable


def test_a_booked_session_links_to_it(mentor, intro, mentee_user):
    session = book(mentee_user, mentor, intro, TUESDAY_9)
    reason = only_reason(explain(mentor, intro, TUESDAY_9))
    assert reason.code == "session"
    assert reason.message == (
        "Booked: “Intro call” with Kiran Mentee, 09:00–09:30 EDT on Tuesday 2 June 2026."
    )
    assert reason.url == reverse("scheduling:session_detail", kwargs={"session_id": session.pk})
    assert reason.link == "Open the session"


def test_the_buffer_around_a_session(mentor, intro, mentee_user):
    session = book(mentee_user, mentor, intro, TUESDAY_9)
    # 09:30 touches the session's end and lies in its 15-minute buffer.
    reason = only_reason(explain(mentor, intro, ny(2026, 6, 2, 9, 30)))
    assert reason.code == "buffer"
    assert reason.message == (
        "Within the buffer of 15 minutes after “Intro call” with Kiran Mentee, "
        "09:00–09:30 EDT on Tuesday 2 June 2026."
    )
    assert reason.url == reverse("scheduling:session_detail", kwargs={"session_id": session.pk})
    assert explain(mentor, intro, ny(2026, 6, 2, 10)).bookable


def test_a_session_and_the_buffer_of_another_are_both_named(mentor, hour, mentee_user):
    intro = mentor.session_types.get(slug="intro-call")
    book(mentee_user, mentor, intro, ny(2026, 6, 2, 9, 30))
    book(mentee_user, mentor, intro, ny(2026, 6, 2, 10, 30))
    # 10:00-11:00: overlaps the 10:30 session, and is in the 09:30 one's buffer.
    explanation = explain(mentor, hour, ny(2026, 6, 2, 10))
    assert codes(explanation) == ["session", "buffer"]
    assert "10:30–11:00" in explanation.reasons[0].message
    assert "after “Intro call”" in explanation.reasons[1].message


def test_a_visitors_hold_blocks_until_it_lapses(mentor, intro):
    SessionFactory(
        mentor=mentor,
        session_type=intro,
        start=TUESDAY_9,
        status=Session.Status.PENDING,
        hold_expires_at=NOW + timedelta(minutes=30),
    )
    reason = only_reason(explain(mentor, intro, TUESDAY_9))
    assert reason.code == "session"
    assert reason.message == (
        "Held: a visitor confirming their email holds 09:00–09:30 EDT on Tuesday 2 June 2026 "
        "until 08:30 EDT."
    )
    assert reason.url == ""  # a hold has no page
    assert explain(mentor, intro, TUESDAY_9, now=NOW + timedelta(minutes=31)).bookable


def test_a_cancelled_session_takes_no_time(mentor, intro):
    SessionFactory(
        mentor=mentor, session_type=intro, start=TUESDAY_9, status=Session.Status.CANCELLED
    )
    assert explain(mentor, intro, TUESDAY_9).bookable


def test_busy_in_a_connected_calendar_names_it(mentor, intro):
    connection = CalendarConnectionFactory(mentor=mentor, google=True, account="maya@example.com")
    BusyIntervalFactory(
        mentor=mentor, connection=connection, start=TUESDAY_9, end=TUESDAY_9 + timedelta(hours=1)
    )
    reason = only_reason(explain(mentor, intro, TUESDAY_9))
    assert reason.code == "calendar_busy"
    assert reason.message == (
        "Busy in Google Calendar (maya@example.com): 09:00–10:00 EDT on Tuesday 2 June 2026."
    )
    assert reason.url == reverse("scheduling:calendar_settings")
    # Just after, the buffer around the busy time.
    reason = only_reason(explain(mentor, intro, ny(2026, 6, 2, 10)))
    assert reason.code == "buffer"
    assert "after a busy time in Google Calendar (maya@example.com)" in reason.message
    assert reason.url == reverse("scheduling:calendar_settings")


def test_busy_without_a_connection(mentor, intro):
    BusyIntervalFactory(mentor=mentor, start=TUESDAY_9)
    reason = only_reason(explain(mentor, intro, TUESDAY_9))
    assert reason.message.startswith("Busy in a connected calendar: ")


def test_minimum_notice(mentor, intro):
    mentor.minimum_notice_minutes = 24 * 60 + 90
    reason = only_reason(explain(mentor, intro, TUESDAY_9))
    assert reason.code == "notice"
    assert reason.message == (
        "Less than the minimum notice of 1 day, 1 hour and 30 minutes: the earliest start "
        "that can be booked now is 09:30 EDT on Tuesday 2 June 2026."
    )
    assert reason.url == profile_url(mentor)


def test_beyond_the_horizon(mentor, intro):
    reason = only_reason(explain(mentor, intro, TUESDAY_9 + timedelta(weeks=5)))
    assert reason.code == "horizon"
    assert reason.message == (
        "Beyond the booking horizon of 30 days: only starts before 08:00 EDT on "
        "Wednesday 1 July 2026 can be booked now."
    )
    assert reason.url == profile_url(mentor)


def test_the_daily_cap(mentor, intro, mentee_user):
    mentor.max_sessions_per_day = 1
    mentor.save(update_fields=["max_sessions_per_day"])
    book(mentee_user, mentor, intro, TUESDAY_9)
    reason = only_reason(explain(mentor, intro, ny(2026, 6, 2, 11)))
    assert reason.code == "daily_cap"
    assert (
        reason.message == "The daily cap of 1 session is reached on Tuesday 2 June 2026 (1 booked)."
    )
    assert reason.url == profile_url(mentor)


def test_an_inactive_session_type(mentor, intro):
    intro.is_active = False
    intro.save(update_fields=["is_active"])
    reason = only_reason(explain(mentor, intro, TUESDAY_9))
    assert reason.code == "inactive_type"
    assert reason.message == "“Intro call” is switched off, so nobody can book it."
    assert reason.url == reverse(
        "scheduling:session_type_edit", kwargs={"slug": mentor.slug, "type_slug": "intro-call"}
    )


def test_not_accepting_bookings(mentor, intro):
    mentor.is_accepting_bookings = False
    reason = only_reason(explain(mentor, intro, TUESDAY_9))
    assert reason.code == "not_accepting"
    assert reason.url == profile_url(mentor)


def test_in_the_past_says_so_rather_than_notice(mentor, intro):
    reason = only_reason(explain(mentor, intro, ny(2026, 5, 29, 9)))
    assert reason.code == "past"
    assert reason.message == "09:00 EDT on Friday 29 May 2026 has already passed."
    assert reason.url == ""


def test_the_start_of_now_itself_has_passed(mentor, intro):
    # The engine offers a start equal to now with no notice; booking refuses it.
    mentor.minimum_notice_minutes = 0
    explanation = explain(mentor, intro, NOW)
    assert codes(explanation) == ["past", "outside_hours"]


def test_a_start_between_the_start_times(mentor, hour):
    reason = only_reason(explain(mentor, hour, ny(2026, 6, 2, 9, 30)))
    assert reason.code == "outside_hours"  # the contract's codes; the message says why
    assert reason.message == (
        "Not one of the start times: in these hours (09:00–12:00 EDT on Tuesday 2 June 2026) "
        "1 hour sessions start every 1 hour from 09:00 EDT. The nearest: 09:00 EDT and 10:00 EDT."
    )


def test_every_reason_at_once_in_order(mentor, intro, mentee_user):
    mentor.is_accepting_bookings = False
    mentor.minimum_notice_minutes = 7 * 24 * 60
    intro.is_active = False
    availability.add_time_off(
        mentor=mentor,
        start=datetime(2026, 6, 6, 0, 0),  # noqa: DTZ001 (wall clock in New York)
        end=datetime(2026, 6, 7, 0, 0),  # noqa: DTZ001
    )
    BusyIntervalFactory(mentor=mentor, start=ny(2026, 6, 6, 10))
    explanation = explain(mentor, intro, ny(2026, 6, 6, 10))
    assert codes(explanation) == [
        "not_accepting",
        "inactive_type",
        "notice",
        "outside_hours",
        "time_off",
        "calendar_busy",
    ]
    assert codes(explanation) == sorted(codes(explanation), key=CODES.index)


def test_messages_follow_the_readers_clock(mentor, intro):
    with timeformat.override(timeformat.TWELVE):
        reason = only_reason(explain(mentor, intro, ny(2026, 6, 2, 13)))
    assert reason.message == (
        "Outside the weekly hours: on Tuesday 2 June 2026 they are 9:00 AM–12:00 PM EDT."
    )


def test_messages_are_in_the_mentors_zone_whatever_the_active_one(mentor, intro, settings):
    from django.utils import timezone

    with timezone.override("Asia/Tokyo"):
        reason = only_reason(explain(mentor, intro, ny(2026, 6, 2, 13)))
    assert "09:00–12:00 EDT" in reason.message


# --- The JSON endpoint ---------------------------------------------------------------------


def ask(client, mentor, **params):
    return client.get(explain_url(mentor), params)


def test_json_answers_bookable_with_no_reasons(owner_client, mentor):
    response = ask(owner_client, mentor, type="intro-call", start="2026-06-02T13:00:00Z")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"bookable": True, "reasons": []}


def test_json_lists_code_message_and_url(owner_client, mentor, intro, mentee_user):
    session = book(mentee_user, mentor, intro, TUESDAY_9)
    response = ask(owner_client, mentor, type="intro-call", start="2026-06-02T09:00:00-04:00")
    assert response.json() == {
        "bookable": False,
        "reasons": [
            {
                "code": "session",
                "message": "Booked: “Intro call” with Kiran Mentee, "
                "09:00–09:30 EDT on Tuesday 2 June 2026.",
                "url": f"/sessions/{session.pk}/",
            }
        ],
    }


def test_json_reason_without_a_link_has_url_null(owner_client, mentor):
    response = ask(owner_client, mentor, type="intro-call", start="2026-05-29T13:00:00Z")
    assert response.json()["reasons"] == [
        {
            "code": "past",
            "message": "09:00 EDT on Friday 29 May 2026 has already passed.",
            "url": None,
        }
    ]


def test_json_an_inactive_type_is_explained_not_refused(owner_client, mentor, intro):
    intro.is_active = False
    intro.save(update_fields=["is_active"])
    response = ask(owner_client, mentor, type="intro-call", start="2026-06-02T13:00:00Z")
    assert response.status_code == 200
    assert [reason["code"] for reason in response.json()["reasons"]] == ["inactive_type"]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"start": "2026-06-02T13:00:00Z"}, "“type” is missing"),
        ({"type": "intro-call"}, "“start” is missing"),
        (
            {"type": "no-such-type", "start": "2026-06-02T13:00:00Z"},
            "no session type “no-such-type”",
        ),
        ({"type": "intro call!", "start": "2026-06-02T13:00:00Z"}, "no session type"),
        ({"type": "intro-call", "start": "tuesday"}, "must be an ISO-8601 time"),
        ({"type": "intro-call", "start": "2026-06-02T13:00:00"}, "must say its offset"),
        ({"type": "intro-call", "start": "9999-12-31T23:59:00Z"}, "within ten years"),
        ({"type": "intro-call", "start": "0001-01-01T00:00:00+05:00"}, "within ten years"),
        ({"type": "intro-call\x00", "start": "2026-06-02T13:00:00Z"}, "no session type"),
    ],
)
def test_json_bad_parameters_are_400_with_an_error(owner_client, mentor, params, error):
    response = ask(owner_client, mentor, **params)
    assert response.status_code == 400
    assert error in response.json()["error"]
    assert set(response.json()) == {"error"}


def test_another_mentors_type_is_unknown(owner_client, mentor):
    other = new_york_mentor(starting=NOW.date(), name="Other Mentor")
    other.session_types.filter(slug="intro-call").update(slug="others-call")
    response = ask(owner_client, mentor, type="others-call", start="2026-06-02T13:00:00Z")
    assert response.status_code == 400


def test_only_get(owner_client, mentor):
    assert owner_client.post(explain_url(mentor)).status_code == 405


# --- Who may ask -----------------------------------------------------------------------------

PARAMS = {"type": "intro-call", "start": "2026-06-02T13:00:00Z"}


def test_the_mentor_may_ask(owner_client, mentor):
    assert ask(owner_client, mentor, **PARAMS).status_code == 200


def test_staff_may_ask_about_any_mentor(staff_client, mentor):
    response = ask(staff_client, mentor, **PARAMS)
    assert response.status_code == 200
    assert response.json() == {"bookable": True, "reasons": []}
    page = staff_client.get(explain_url(mentor), {"format": "html"})
    assert page.status_code == 200
    assert "Back to your availability" not in page.text


@pytest.mark.parametrize("fmt", ["", "html"])
def test_other_users_get_404(client, mentor, mentee_user, intro, fmt):
    book(mentee_user, mentor, intro, TUESDAY_9)  # even the mentor's own mentee
    other_mentor = new_york_mentor(starting=NOW.date(), name="Other Mentor")
    for user in (mentee_user, other_mentor.user, UserFactory()):
        client.force_login(user)
        response = ask(client, mentor, **PARAMS, format=fmt)
        assert response.status_code == 404, user


def test_anonymous_visitors_are_sent_to_sign_in(client, mentor):
    response = client.get(explain_url(mentor), PARAMS)
    assert response.status_code == 302
    assert response["Location"].startswith(login_required_url(explain_url(mentor)))


def test_an_unknown_mentor_is_404_even_for_staff(staff_client):
    response = staff_client.get("/mentors/nobody-here/availability/explain/", PARAMS)
    assert response.status_code == 404


# --- The form ----------------------------------------------------------------------------------


def test_the_page_without_javascript_asks_and_answers(owner_client, mentor, intro, mentee_user):
    session = book(mentee_user, mentor, intro, TUESDAY_9)
    page = owner_client.get(explain_url(mentor), {"format": "html"})
    assert page.status_code == 200
    assert "<html" in page.text
    assert 'name="date"' in page.text and 'value="2026-06-01"' in page.text  # today there
    assert '<option value="intro-call" selected>Intro call</option>' in page.text

    answer = owner_client.get(
        explain_url(mentor),
        {"format": "html", "date": "2026-06-02", "time": "09:00", "type": "intro-call"},
    )
    assert answer.status_code == 200
    assert "09:00 EDT on Tuesday 2 June 2026 cannot be booked for “Intro call”" in answer.text
    assert 'data-code="session"' in answer.text
    assert f'href="/sessions/{session.pk}/">Open the session</a>' in answer.text
    assert '<option value="09:00" selected>09:00</option>' in answer.text  # kept


def test_the_page_says_when_a_time_is_bookable(owner_client, mentor):
    answer = owner_client.get(
        explain_url(mentor),
        {"format": "html", "date": "2026-06-02", "time": "10:00", "type": "intro-call"},
    )
    assert 'data-bookable="true"' in answer.text
    assert "Mentees can book 10:00 EDT on Tuesday 2 June 2026 for “Intro call”." in answer.text


def test_the_form_refuses_a_time_the_clocks_skip(owner_client, mentor):
    answer = owner_client.get(
        explain_url(mentor),
        {"format": "html", "date": "2027-03-14", "time": "02:30", "type": "intro-call"},
    )
    assert answer.status_code == 200
    assert "The clocks skip 02:30 on that day in America/New_York" in answer.text
    assert "data-code" not in answer.text


@pytest.mark.parametrize(
    "params",
    [
        {"date": "9999-12-31", "time": "09:00", "type": "intro-call"},
        {"date": "2026-06-02", "time": "25:61", "type": "intro-call"},
        {"date": "2026-06-02", "time": "09:00", "type": "nope"},
        {"date": "", "time": "", "type": ""},
    ],
)
def test_the_form_shows_errors_and_checks_nothing(owner_client, mentor, params):
    answer = owner_client.get(explain_url(mentor), {"format": "html", **params})
    assert answer.status_code == 200
    assert "Nothing was checked" in answer.text


def test_htmx_loads_the_panel_then_only_the_answer(owner_client, mentor):
    panel = owner_client.get(
        explain_url(mentor), {"format": "html"}, headers={"HX-Request": "true"}
    )
    assert panel.status_code == 200
    assert "<html" not in panel.text
    assert 'id="explain-answer"' in panel.text and "<form" in panel.text
    assert "HX-Request" in panel["Vary"]

    answer = owner_client.get(
        explain_url(mentor),
        {"format": "html", "date": "2026-06-02", "time": "13:00", "type": "intro-call"},
        headers={"HX-Request": "true", "HX-Target": "explain-answer"},
    )
    assert "<form" not in answer.text and 'id="explain-answer"' not in answer.text
    assert 'data-code="outside_hours"' in answer.text


def test_the_editor_includes_the_panel_loader(owner_client, mentor):
    page = owner_client.get(reverse("scheduling:availability", kwargs={"slug": mentor.slug}))
    assert f'hx-get="{explain_url(mentor)}?format=html"' in page.text
    assert f'href="{explain_url(mentor)}?format=html"' in page.text  # without JavaScript


def test_queries_stay_few_with_every_kind_of_obstacle(
    owner_client, mentor, intro, mentee_user, django_assert_max_num_queries
):
    book(mentee_user, mentor, intro, TUESDAY_9)
    connection = CalendarConnectionFactory(mentor=mentor)
    for minutes in range(0, 180, 30):
        BusyIntervalFactory(
            mentor=mentor, connection=connection, start=TUESDAY_9 + timedelta(minutes=minutes)
        )
    # Session, user and mentor (3); session types; availability; sessions and
    # busy times; the sessions named; the calendars named.
    with django_assert_max_num_queries(8):
        response = ask(owner_client, mentor, type="mentoring-session", start="2026-06-02T13:00:00Z")
    assert {reason["code"] for reason in response.json()["reasons"]} == {
        "session",
        "calendar_busy",
        "buffer",
    }


def test_json_times_in_other_offsets_mean_the_same_instant(owner_client, mentor):
    utc = ask(owner_client, mentor, type="intro-call", start="2026-06-02T13:00:00+00:00")
    tokyo = ask(owner_client, mentor, type="intro-call", start="2026-06-02T22:00:00+09:00")
    assert utc.json() == tokyo.json() == {"bookable": True, "reasons": []}
    assert datetime(2026, 6, 2, 13, tzinfo=UTC) == TUESDAY_9
