"""``/mentors/<slug>/``: the mentor's zone comes with their local time now,
read from the clock on every request, never from a cached fragment.

The clock is frozen (time-machine) at Thursday 26 November 2026, 12:00 UTC:
07:00 in New York (EST, UTC-05:00).
"""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.tests.factories import UserFactory
from mentorship.models import MentorProfile

from .factories import MentorProfileFactory

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def mentor():
    return MentorProfileFactory(
        user=UserFactory(name="Maya Mentor", timezone="America/New_York"),
        biography="The first biography.",
    )


def page(client, mentor) -> str:
    response = client.get(f"/mentors/{mentor.slug}/")
    assert response.status_code == 200
    return response.text


def test_the_zone_comes_with_the_mentors_local_time(client, mentor):
    assert "Based in New York (UTC-05:00) · " in page(client, mentor)
    assert '<span id="mentor-local-time">07:00 local time now</span>' in page(client, mentor)


def test_the_local_time_follows_the_clock_while_the_page_is_cached(client, mentor, clock):
    first = page(client, mentor)
    # Changed behind the services' back, so nothing marks the cached
    # fragments stale: the page keeps showing the old biography...
    MentorProfile.objects.filter(pk=mentor.pk).update(biography="A newer biography.")
    # Within the fragments' 10 minutes (the cache reads the same clock).
    clock.move_to(NOW + timedelta(minutes=5))

    second = page(client, mentor)

    assert "The first biography." in first
    assert "The first biography." in second and "A newer biography." not in second
    # ...but not the old time.
    assert "07:00 local time now" in first
    assert "07:05 local time now" in second
    assert "07:00 local time now" not in second


def test_it_is_the_mentors_time_not_the_visitors(client, mentor):
    client.cookies["tz"] = "Asia/Kolkata"  # 17:30 there
    client.force_login(UserFactory(timezone="Asia/Kolkata"))
    text = page(client, mentor)
    assert "07:00 local time now" in text
    assert "17:30 local time now" not in text


def test_the_offset_and_the_time_follow_daylight_saving(client, mentor, clock):
    # 26 May 2027, 12:00 UTC: 08:00 in New York on summer time (EDT).
    clock.move_to(NOW + timedelta(days=181))
    text = page(client, mentor)
    assert "Based in New York (UTC-04:00) · " in text
    assert "08:00 local time now" in text
