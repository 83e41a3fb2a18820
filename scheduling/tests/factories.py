"""Factories for session types, availability, busy intervals and sessions.

Like the other apps' factories they write rows directly: they are fixtures, not
a second code path for the booking rules. Times are UTC; pass ``start`` (and
``end`` where the default length does not fit) explicitly in tests that care.
"""

from datetime import UTC, datetime, timedelta

import factory

from mentorship.tests.factories import MenteeProfileFactory, MentorProfileFactory
from scheduling.models import Availability, BusyInterval, Session, SessionType

# A Monday, far from any daylight-saving change in Europe and America.
DEFAULT_START = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)


class SessionTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SessionType

    mentor = factory.SubFactory(MentorProfileFactory)
    name = "Intro call"
    slug = factory.Sequence(lambda number: f"intro-call-{number}")
    duration_minutes = 30


class AvailabilityFactory(factory.django.DjangoModelFactory):
    """Three hours of available time in the mentor's own zone, one-off unless
    ``recurrence`` says otherwise."""

    class Meta:
        model = Availability

    mentor = factory.SubFactory(MentorProfileFactory)
    kind = Availability.Kind.AVAILABLE
    timezone = factory.LazyAttribute(lambda row: row.mentor.user.timezone)
    start = DEFAULT_START
    end = factory.LazyAttribute(lambda row: row.start + timedelta(hours=3))
    recurrence = ""


class BusyIntervalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusyInterval

    mentor = factory.SubFactory(MentorProfileFactory)
    start = DEFAULT_START
    end = factory.LazyAttribute(lambda row: row.start + timedelta(hours=1))
    source = "calendar"


class SessionFactory(factory.django.DjangoModelFactory):
    """An upcoming session of the mentor's own session type. Sessions of one
    mentor must not overlap on PostgreSQL: give each its own ``start``."""

    class Meta:
        model = Session

    mentor = factory.SubFactory(MentorProfileFactory)
    mentee = factory.SubFactory(MenteeProfileFactory)
    session_type = factory.SubFactory(SessionTypeFactory, mentor=factory.SelfAttribute("..mentor"))
    title = factory.LazyAttribute(
        lambda row: row.session_type.name if row.session_type else "Mentoring session"
    )
    duration_minutes = factory.LazyAttribute(
        lambda row: row.session_type.duration_minutes if row.session_type else 60
    )
    start = factory.Sequence(lambda number: DEFAULT_START + timedelta(hours=2 * number))
    end = factory.LazyAttribute(lambda row: row.start + timedelta(minutes=row.duration_minutes))
    status = Session.Status.UPCOMING


def mentor_without_hours(*, zone: str, name: str = "Maya Mentor", **changes):
    """A mentor made through the real services in ``zone``: default session
    types, no hours yet, no notice and no buffer unless ``changes`` say
    otherwise."""
    from accounts.tests.factories import UserFactory
    from mentorship.services import become_mentor, update_mentor_profile

    mentor = become_mentor(user=UserFactory(name=name, timezone=zone))
    update_mentor_profile(
        mentor=mentor,
        changes={"minimum_notice_minutes": 0, "buffer_minutes": 0, **changes},
        tags=[],
        links={},
    )
    mentor.refresh_from_db()
    return mentor


def new_york_mentor(*, starting, name="Maya Mentor", **changes):
    """``mentor_without_hours`` in New York with weekday hours 09:00-12:00
    there from ``starting``."""
    from datetime import time

    from scheduling.availability import replace_weekly_hours

    mentor = mentor_without_hours(zone="America/New_York", name=name, **changes)
    replace_weekly_hours(
        mentor=mentor,
        timezone="America/New_York",
        weekly={day: [(time(9), time(12))] for day in range(5)},
        starting=starting,
    )
    mentor.refresh_from_db()
    return mentor
