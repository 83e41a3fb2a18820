"""Factories for session types, availability, busy intervals and sessions, and
mentors made through the real services with weekly hours.

Like the other apps' factories they write rows directly: they are fixtures, not
a second code path for the booking rules. Times are UTC; pass ``start`` (and
``end`` where the default length does not fit) explicitly in tests that care.

The booking week: ``NOW`` is Monday 1 June 2026, 08:00 in New York, and
``new_york_mentor(starting=NOW.date())`` has weekday hours 09:00-12:00 there
from that day (``TUESDAY_9`` is the first morning after ``NOW``). Tests using it
pass ``now=NOW`` to the code or freeze the clock at ``NOW`` with time-machine,
so the literal date never goes stale.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import factory

from mentorship.models import ExpertiseTag, MentorProfile
from mentorship.tests.factories import MenteeProfileFactory, MentorProfileFactory
from scheduling.models import Availability, BusyInterval, Session, SessionType

# A Monday, far from any daylight-saving change in Europe and America.
DEFAULT_START = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)

NEW_YORK = ZoneInfo("America/New_York")
# Monday 1 June 2026, 08:00 in New York (EDT, UTC-4).
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
WEEKDAYS_9_TO_12 = {day: [(time(9), time(12))] for day in range(5)}
# A session's video call link, and the domain its calendar event UIDs end in
# (``settings.ICAL_UID_DOMAIN``, set by the ``uid_domain`` fixture).
MEETING_URL = "https://meet.example.com/session-abc123"
UID_DOMAIN = "sessions.example.org"


def ny(year, month, day, hour, minute=0) -> datetime:
    """A wall-clock time in New York."""
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


# Tuesday 2 June 2026 at 09:00 in New York: inside the weekly hours.
TUESDAY_9 = ny(2026, 6, 2, 9)


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


def mentor_with_hours(
    *,
    zone: str,
    weekly: dict[int, list[tuple[time, time]]],
    starting: date | None = None,
    name: str = "Maya Mentor",
    tags: Sequence[ExpertiseTag] = (),
    minimum_notice_minutes: int | None = 0,
    buffer_minutes: int | None = 0,
    **changes,
) -> MentorProfile:
    """A mentor made through the real services (``become_mentor``, so with the
    default session types; ``update_mentor_profile``), whose user lives in
    ``zone``, with ``weekly`` hours (weekday, 0 = Monday, to local (start, end)
    times in ``zone``) from the date ``starting``; ``weekly={}`` for none.

    No minimum notice and no buffer unless told; ``None`` for either keeps the
    model's default. ``changes`` are further profile fields
    (``is_accepting_bookings``, ``booking_horizon_days``,
    ``max_sessions_per_day``, ``headline``…) and ``tags`` its expertise.
    Returned loaded as the pages load a mentor: with its user.
    """
    from accounts.tests.factories import UserFactory
    from mentorship.services import become_mentor, update_mentor_profile
    from scheduling.availability import replace_weekly_hours

    limits = {"minimum_notice_minutes": minimum_notice_minutes, "buffer_minutes": buffer_minutes}
    limits = {field: value for field, value in limits.items() if value is not None}
    mentor = become_mentor(user=UserFactory(name=name, timezone=zone))
    update_mentor_profile(
        mentor=mentor,
        changes={**limits, **changes},
        tags=list(tags),
        links={},
    )
    if weekly:
        if starting is None:
            raise TypeError("mentor_with_hours: weekly hours need the date they start on")
        replace_weekly_hours(mentor=mentor, timezone=zone, weekly=weekly, starting=starting)
    return MentorProfile.objects.select_related("user").get(pk=mentor.pk)


def mentor_without_hours(*, zone: str, **options) -> MentorProfile:
    """``mentor_with_hours`` in ``zone`` with no hours yet."""
    return mentor_with_hours(zone=zone, weekly={}, **options)


def new_york_mentor(*, starting: date, **options) -> MentorProfile:
    """``mentor_with_hours`` in New York with weekday hours 09:00-12:00 there
    from ``starting`` (``NOW.date()`` for the booking week)."""
    return mentor_with_hours(
        zone="America/New_York", weekly=WEEKDAYS_9_TO_12, starting=starting, **options
    )


def book(mentee_user, mentor, session_type, start, topic="", now=NOW) -> Session:
    """``book_session`` at ``now`` (the booking week's ``NOW`` unless told):
    the real service, every rule checked."""
    from scheduling.booking import book_session

    return book_session(
        mentee_user=mentee_user,
        mentor=mentor,
        session_type=session_type,
        start=start,
        topic=topic,
        now=now,
    )
