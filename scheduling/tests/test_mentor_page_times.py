"""The mentor page lists the next bookable times in the viewer's zone, each a
link to the picker with that time chosen, and the session types offered."""

import re
from datetime import UTC, date, datetime, time

import pytest

from accounts.tests.factories import UserFactory
from mentorship.services import become_mentor, update_mentor_profile
from scheduling.availability import replace_weekly_hours

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def mentor(db):
    mentor = become_mentor(user=UserFactory(name="Maya Mentor", timezone="America/New_York"))
    update_mentor_profile(mentor=mentor, changes={"minimum_notice_minutes": 0}, tags=[], links={})
    replace_weekly_hours(
        mentor=mentor,
        timezone="America/New_York",
        weekly={day: [(time(9), time(12))] for day in range(5)},
        starting=date(2026, 11, 23),
    )
    return mentor


def test_next_times_in_the_visitors_zone(client, mentor):
    client.cookies["tz"] = "Asia/Kolkata"
    text = client.get(f"/mentors/{mentor.slug}/").text
    assert "Next times for a 30-minute intro call, in your zone (Asia/Kolkata)" in text
    # 09:00 New York on Thursday 26 November is 19:30 in Kolkata.
    assert ">Thu 26 Nov, 19:30</a></li>" in text
    assert text.count('">Thu 26 Nov,') == 6


def test_no_times_says_so(client, mentor):
    replace_weekly_hours(mentor=mentor, timezone="America/New_York", weekly={}, starting=NOW.date())
    text = client.get(f"/mentors/{mentor.slug}/").text
    assert "No open times in the next two weeks." in text


def test_not_accepting_shows_no_times(client, mentor):
    mentor.is_accepting_bookings = False
    mentor.save()
    client.force_login(mentor.user)
    text = client.get(f"/mentors/{mentor.slug}/").text
    assert "Not accepting bookings right now." in text
    assert "Next times" not in text


def test_an_availability_change_shows_at_once(client, mentor, django_capture_on_commit_callbacks):
    from datetime import datetime as naive_datetime

    from scheduling.availability import add_time_off

    client.cookies["tz"] = "America/New_York"
    assert ">Thu 26 Nov, 09:00</a></li>" in client.get(f"/mentors/{mentor.slug}/").text
    with django_capture_on_commit_callbacks(execute=True):
        add_time_off(
            mentor=mentor,
            start=naive_datetime(2026, 11, 26, 0, 0),  # noqa: DTZ001 - wall clock, mentor's zone
            end=naive_datetime(2026, 11, 27, 0, 0),  # noqa: DTZ001
        )
    text = client.get(f"/mentors/{mentor.slug}/").text
    assert "Thu 26 Nov" not in text
    assert ">Fri 27 Nov, 09:00</a></li>" in text


def test_each_next_time_opens_the_picker_with_it_chosen(client, mentor):
    client.cookies["tz"] = "Asia/Kolkata"
    text = client.get(f"/mentors/{mentor.slug}/").text
    links = re.findall(r'<li><a href="([^"]+)">Thu 26 Nov, 19:30</a></li>', text)
    assert len(links) == 1
    picker = client.get(links[0].replace("&amp;", "&")).text
    # The picker opens with that time chosen, ready for the topic.
    assert 'id="picker-chosen"' in picker
    assert "Thursday 26 November 2026, 19:30–20:00 IST" in picker


def test_the_page_lists_the_session_types_and_a_readable_zone(client, mentor):
    text = client.get(f"/mentors/{mentor.slug}/").text
    assert "Based in New York (UTC-05:00)" in text
    assert "America/New_York time zone" not in text
    section = text[text.index('id="session-types-title"') :]
    intro = f'<a href="/mentors/{mentor.slug}/book/?type=intro-call">Intro call</a>'
    assert intro in section
    assert "· 30 minutes" in section
    assert "· 60 minutes" in section
