"""Fixtures shared by the scheduling tests: the mentor most of them book, its
intro call and the mentee who books it; the domain calendar event UIDs end
in; the calendar syncs a test catches instead of running.

A module that needs someone else defines its own fixture of the same name,
which takes precedence over these.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from scheduling import tasks

from .factories import NEW_YORK, UID_DOMAIN, new_york_mentor


@pytest.fixture
def mentor(db):
    """Maya in New York with weekday hours 09:00-12:00 there (the factories'
    ``new_york_mentor``), from the Monday of the week the clock reads.

    Built from the clock the module froze (its autouse clock fixture runs
    before this one): Monday 1 June 2026 for the factories' ``NOW``, Monday
    23 November 2026 for Thursday 26 November. A module whose clock is not
    frozen defines its own ``mentor`` with the date its hours start.
    """
    today = timezone.localdate(timezone=NEW_YORK)
    return new_york_mentor(starting=today - timedelta(days=today.weekday()))


@pytest.fixture
def intro(mentor):
    """The mentor's 30-minute "Intro call", one of the types ``become_mentor`` makes."""
    return mentor.session_types.get(slug="intro-call")


@pytest.fixture
def mentee_user(db):
    """Kiran, who reads times in Kolkata (UTC+05:30, no daylight saving)."""
    return UserFactory(name="Kiran Mentee", timezone="Asia/Kolkata")


@pytest.fixture
def uid_domain(settings) -> str:
    """Calendar event UIDs end in ``@`` + ``UID_DOMAIN``, as the tests assert."""
    settings.ICAL_UID_DOMAIN = UID_DOMAIN
    return UID_DOMAIN


@pytest.fixture
def enqueued(monkeypatch) -> list:
    """The connection ids ``sync_calendar.delay`` is called with (nothing is synced)."""
    calls: list = []
    monkeypatch.setattr(tasks.sync_calendar, "delay", calls.append)
    return calls
