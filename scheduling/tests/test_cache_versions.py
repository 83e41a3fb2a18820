"""The public pages' caches after writes: bookable times are fresh at once,
and what shows no times stays cached through a booking.

What shows bookable times (the picker's days, the slots JSON, the mentor
page's next times) is keyed by the profiles *and* the times versions; the
directory, the mentor-page fragments, the public mentor and the picker's
mentor with their session types by the profiles version alone
(``core/cache.py``). Bookings, cancellations and calendar busy times bump
only the times version; profile edits bump the profiles version, which
invalidates everything.

The clock is frozen at Thursday 26 November 2026, 12:00 UTC (07:00 in New
York); the mentor is in New York with weekday hours 09:00-12:00 and no notice.
"""

import re
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from core.cache import (
    PROFILES_VERSION_KEY,
    TIMES_VERSION_KEY,
    profiles_changed,
    profiles_version,
    times_changed,
    versions,
)
from mentorship.models import ExpertiseTag
from mentorship.services import update_mentor_profile
from mentorship.tests.factories import MenteeProfileFactory
from scheduling.booking import book_session, cancel_session
from scheduling.calendars import sync as calendar_sync
from scheduling.models import Session

from .factories import new_york_mentor
from .fake_calendar import CalendarConnectionFactory, FakeCalendarClient, use_fake_clients

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
THURSDAY_9 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # 09:00 in New York
THURSDAY_9_ISO = "2026-11-26T14:00:00Z"
THURSDAY_10 = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
THURSDAY_10_ISO = "2026-11-26T15:00:00Z"
# 09:00 and 10:00 in New York as the mentor page lists them.
NEXT_9 = ">Thu 26 Nov, 09:00</a></li>"
NEXT_10 = ">Thu 26 Nov, 10:00</a></li>"

# What the next times read: the session type, then the slot engine's three.
NEXT_TIMES_TABLES = {
    "scheduling_sessiontype",
    "scheduling_availability",
    "scheduling_session",
    "scheduling_busyinterval",
}


@pytest.fixture(autouse=True)
def clock(time_machine):
    """The clock (``timezone.now`` and the counters' ``time.time_ns``), frozen
    at NOW; ``clock.shift(...)`` moves it on."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def mentor():
    mentor = new_york_mentor(starting=date(2026, 11, 23))
    tag = ExpertiseTag.objects.create(name="System design", slug="system-design")
    update_mentor_profile(
        mentor=mentor, changes={"headline": "Staff engineer"}, tags=[tag], links={}
    )
    mentor.refresh_from_db()
    return mentor


@pytest.fixture
def visitor():
    """An anonymous visitor in New York."""
    client = Client()
    client.cookies["tz"] = "America/New_York"
    return client


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def tables(queries) -> set[str]:
    """The tables the captured queries read first (``FROM "..."``)."""
    return {
        match.group(1)
        for query in queries.captured_queries
        if (match := re.search(r'FROM "(\w+)"', query["sql"]))
    }


class Pages:
    """The public pages of one mentor, as an anonymous visitor sees them."""

    def __init__(self, client, mentor):
        self.client = client
        self.mentor = mentor

    def _get(self, url, params=None):
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url, params)
        assert response.status_code == 200
        return response, queries

    def directory(self):
        return self._get("/mentors/")

    def mentor_page(self):
        return self._get(f"/mentors/{self.mentor.slug}/")

    def picker(self):
        return self._get(
            f"/mentors/{self.mentor.slug}/book/",
            {"type": "intro-call", "tz": "America/New_York", "week": "2026-11-23"},
        )

    def slots(self) -> list[str]:
        response, _queries = self._get(
            f"/mentors/{self.mentor.slug}/slots/",
            {"type": "intro-call", "from": "2026-11-26", "to": "2026-11-26", "tz": "UTC"},
        )
        return [slot["start"] for slot in response.json()["slots"]]

    def warm(self):
        for page in (self.directory, self.mentor_page, self.picker, self.slots):
            page()


def picker_has(response, iso: str) -> bool:
    return f'<time datetime="{iso}">' in response.text


def book(client, mentor, start_iso, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/mentors/{mentor.slug}/book/", {"type": "intro-call", "start": start_iso}
        )
    assert response.status_code == 302, response
    return response


# --- The two counters ----------------------------------------------------------------------


def test_both_counters_are_read_in_one_round_trip(monkeypatch):
    from django.core.cache import cache

    versions()  # after a flush: created
    calls = []
    real = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys: calls.append(keys) or real(keys))
    monkeypatch.setattr(cache, "add", lambda *args, **kwargs: pytest.fail("they exist"))
    found = versions()
    assert calls == [(PROFILES_VERSION_KEY, TIMES_VERSION_KEY)]
    assert found.times_key == f"{found.profiles}.{found.times}"


def test_after_a_flush_the_counters_start_past_every_earlier_number(
    django_capture_on_commit_callbacks, clock
):
    from django.core.cache import cache

    before = versions()
    with django_capture_on_commit_callbacks(execute=True):
        times_changed()
    bumped = versions()
    # The counters start from the clock (nanoseconds), which has moved on by
    # the time of a flush; frozen, it would hand out the same numbers again.
    clock.shift(timedelta(milliseconds=1))
    cache.clear()
    after = versions()
    assert after.profiles > before.profiles
    assert after.times > bumped.times


def test_a_flush_between_creating_and_reading_the_counters_is_no_error(monkeypatch):
    # Another process clears the cache right after this one added the
    # counters: the numbers it tried to add are used (no KeyError, no 500).
    from django.core.cache import cache

    real_add = cache.add

    def add_then_lose(key, value, **kwargs):
        real_add(key, value, **kwargs)
        cache.delete(key)

    monkeypatch.setattr(cache, "add", add_then_lose)
    before = time.time_ns()
    found = versions()
    assert found.profiles == found.times >= before


@pytest.mark.parametrize("evicted", [PROFILES_VERSION_KEY, TIMES_VERSION_KEY])
def test_a_bump_after_an_eviction_still_gives_a_new_number(
    evicted, django_capture_on_commit_callbacks, clock
):
    from django.core.cache import cache

    before = versions()
    clock.shift(timedelta(milliseconds=1))  # the clock moves on before the eviction
    cache.delete(evicted)
    with django_capture_on_commit_callbacks(execute=True):
        profiles_changed() if evicted == PROFILES_VERSION_KEY else times_changed()
    assert versions().times_key != before.times_key


def test_times_changed_bumps_only_the_times_on_commit(django_capture_on_commit_callbacks):
    before = versions()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        times_changed()
        assert versions() == before  # not before the commit
    assert len(callbacks) == 1
    after = versions()
    assert after.profiles == before.profiles == profiles_version()
    assert after.times > before.times


def test_profiles_changed_makes_the_times_keys_stale_too(django_capture_on_commit_callbacks):
    before = versions()
    with django_capture_on_commit_callbacks(execute=True):
        profiles_changed()
    after = versions()
    assert after.profiles > before.profiles
    assert after.times_key != before.times_key


# --- Writes and the public pages -----------------------------------------------------------


def test_a_booking_refreshes_the_times_at_once_and_keeps_the_profiles_cached(
    mentor, visitor, django_capture_on_commit_callbacks
):
    pages = Pages(visitor, mentor)
    pages.warm()
    assert NEXT_9 in pages.mentor_page()[0].text
    assert picker_has(pages.picker()[0], THURSDAY_9_ISO)
    assert THURSDAY_9_ISO in pages.slots()

    book(signed_in(UserFactory()), mentor, THURSDAY_9_ISO, django_capture_on_commit_callbacks)

    # The booked time is gone from everything that shows times...
    page, queries = pages.mentor_page()
    assert NEXT_9 not in page.text
    assert NEXT_10 in page.text
    # ...which alone was read again: the mentor, their tags, links and reviews
    # come from the cache.
    assert tables(queries) <= NEXT_TIMES_TABLES
    assert "Staff engineer" in page.text and "System design" in page.text
    picker, queries = pages.picker()
    assert not picker_has(picker, THURSDAY_9_ISO)
    assert picker_has(picker, THURSDAY_10_ISO)
    # The mentor and their session types still come from the cache.
    assert tables(queries) <= NEXT_TIMES_TABLES - {"scheduling_sessiontype"}
    assert THURSDAY_9_ISO not in pages.slots()
    # The directory is served from its fragments, without a query.
    directory, queries = pages.directory()
    assert len(queries) == 0
    assert "Staff engineer" in directory.text


def test_a_profile_edit_still_makes_everything_stale(
    mentor, visitor, django_capture_on_commit_callbacks
):
    pages = Pages(visitor, mentor)
    pages.warm()
    with django_capture_on_commit_callbacks(execute=True):
        # A day's notice: Thursday's times go, and so does the headline.
        update_mentor_profile(
            mentor=mentor,
            changes={"headline": "Principal engineer", "minimum_notice_minutes": 24 * 60},
            tags=[],
            links={},
        )
    directory, queries = pages.directory()
    assert "Principal engineer" in directory.text
    assert "mentorship_mentorprofile" in tables(queries)
    page, _queries = pages.mentor_page()
    assert "Principal engineer" in page.text
    assert "System design" not in page.text
    assert "Thu 26 Nov" not in page.text
    picker, queries = pages.picker()
    assert "mentorship_mentorprofile" in tables(queries)  # the picker's mentor, read again
    assert not picker_has(picker, THURSDAY_9_ISO)
    assert pages.slots() == []


def test_a_cancellation_offers_the_time_again_at_once(
    mentor, visitor, django_capture_on_commit_callbacks
):
    mentee_user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        session = book_session(
            mentee_user=mentee_user,
            mentor=mentor,
            session_type=mentor.session_types.get(slug="intro-call"),
            start=THURSDAY_9,
        )
    pages = Pages(visitor, mentor)
    pages.warm()
    assert NEXT_9 not in pages.mentor_page()[0].text
    assert not picker_has(pages.picker()[0], THURSDAY_9_ISO)
    assert THURSDAY_9_ISO not in pages.slots()

    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session=session, by=mentor.user)  # mentors may, up to the start

    assert NEXT_9 in pages.mentor_page()[0].text
    assert picker_has(pages.picker()[0], THURSDAY_9_ISO)
    assert THURSDAY_9_ISO in pages.slots()
    assert len(pages.directory()[1]) == 0  # still cached


def test_busy_times_from_a_calendar_hide_their_slots_at_once(
    mentor, visitor, monkeypatch, django_capture_on_commit_callbacks
):
    calendar = CalendarConnectionFactory(mentor=mentor)
    fake = FakeCalendarClient()
    use_fake_clients(monkeypatch, (calendar.pk, fake))
    pages = Pages(visitor, mentor)
    pages.warm()
    assert THURSDAY_9_ISO in pages.slots()

    fake.busy = [(THURSDAY_9, THURSDAY_10)]
    with django_capture_on_commit_callbacks(execute=True):
        assert calendar_sync.sync_connection(calendar.pk, now=NOW) == 1

    page, queries = pages.mentor_page()
    assert NEXT_9 not in page.text and NEXT_10 in page.text
    assert tables(queries) <= NEXT_TIMES_TABLES
    picker = pages.picker()[0]
    assert not picker_has(picker, THURSDAY_9_ISO)
    assert picker_has(picker, THURSDAY_10_ISO)
    assert THURSDAY_9_ISO not in pages.slots()
    assert len(pages.directory()[1]) == 0  # still cached


# --- The booking POST's queries ------------------------------------------------------------

# A booking after another one, with the picker's mentor and types cached (a
# booking leaves them so), counted as CaptureQueriesContext sees it:
#   1. the session                 (sign-in)
#   2. the user                    (sign-in)
#   3. SAVEPOINT                   (BEGIN outside a test's transaction)
#   4. booking.lock_and_read_booking: locks the mentee's row and the mentor's
#      row (and the user's own mentor row) and reads everything the rules
#      need: the mentor's settings, whether the type is offered, the address
#      confirmed, a calendar to push to, the engine's availability, sessions
#      and busy times, the mentee's upcoming sessions, lapsed holds at the time
#   5. booking.insert_booking: the session and its notifications, guarded by
#      "no session read missed" (on SQLite, which has no INSERT in a WITH, the
#      notifications are a statement of their own: 6 there)
#   6. RELEASE SAVEPOINT           (COMMIT)
# A lapsed hold at the requested time adds its UPDATE (only then), a first
# booking the mentee's new row. It was 12 (the lock, the engine's read, the
# mentee's lock, the limits, the lapsed-hold UPDATE, two INSERTs apart).
BOOKING_POST_QUERIES = {"postgresql": 6, "sqlite": 7}


def test_a_booking_post_with_warm_caches_reads_no_mentor_or_types_again(
    mentor, django_capture_on_commit_callbacks
):
    first = signed_in(UserFactory())
    first.get(f"/mentors/{mentor.slug}/book/")
    book(first, mentor, THURSDAY_9_ISO, django_capture_on_commit_callbacks)
    second_user = UserFactory()
    MenteeProfileFactory(user=second_user)
    second = signed_in(second_user)

    with (
        django_capture_on_commit_callbacks(execute=True),  # the callbacks run after the capture
        CaptureQueriesContext(connection) as queries,
    ):
        response = second.post(
            f"/mentors/{mentor.slug}/book/", {"type": "intro-call", "start": THURSDAY_10_ISO}
        )
    assert response.status_code == 302
    sql = [query["sql"] for query in queries.captured_queries]
    assert len(sql) == BOOKING_POST_QUERIES[connection.vendor], "\n".join(sql)
    # The mentor, the types and the address are read in the locking statement only.
    assert not any(line.startswith('SELECT "mentorship_mentorprofile"') for line in sql)
    assert not any(line.startswith('SELECT "scheduling_sessiontype"') for line in sql)
    assert [line for line in sql if "account_emailaddress" in line] == [sql[3]]
    assert "FOR UPDATE" in sql[3] or connection.vendor == "sqlite"
    assert [line.split()[0] for line in sql[2:]] == (
        ["SAVEPOINT", "WITH", "WITH", "RELEASE"]
        if connection.vendor == "postgresql"
        else ["SAVEPOINT", "WITH", "INSERT", "INSERT", "RELEASE"]
    )
    assert Session.objects.filter(start=THURSDAY_10).exists()


# --- The picker's cache round trips -------------------------------------------------------


def test_a_cached_picker_page_is_one_cache_read_and_no_query(mentor, visitor, monkeypatch):
    # The counters, the mentor with the types and the week's days are stored
    # with the versions they were read under and fetched in one get_many.
    pages = Pages(visitor, mentor)
    pages.picker()  # warms the mentor, the types and the days
    reads, depth = [], []

    def counted(name, real):
        def read(*args, **kwargs):
            if not depth:  # the local-memory cache's get_many calls get
                reads.append(name)
            depth.append(name)
            try:
                return real(*args, **kwargs)
            finally:
                depth.pop()

        return read

    for name in ("get", "get_many"):
        monkeypatch.setattr(cache, name, counted(name, getattr(cache, name)))

    response, queries = pages.picker()

    assert reads == ["get_many"]
    assert len(queries) == 0
    assert picker_has(response, THURSDAY_9_ISO)


def test_a_booking_makes_the_cached_days_stale_but_not_the_mentor(
    mentor, visitor, django_capture_on_commit_callbacks
):
    pages = Pages(visitor, mentor)
    assert picker_has(pages.picker()[0], THURSDAY_9_ISO)
    with django_capture_on_commit_callbacks(execute=True):
        book_session(
            mentee_user=UserFactory(),
            mentor=mentor,
            session_type=mentor.session_types.get(slug="intro-call"),
            start=THURSDAY_9,
        )
    response, queries = pages.picker()
    assert not picker_has(response, THURSDAY_9_ISO)  # the days computed again
    # The engine's one read (availability, sessions, busy times), no mentor or types.
    [read] = [query["sql"] for query in queries.captured_queries]
    assert "scheduling_availability" in read and "mentorship_mentorprofile" not in read
