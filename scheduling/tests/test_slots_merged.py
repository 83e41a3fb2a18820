"""On PostgreSQL the slot engine reads a mentor's sessions and busy times
merged into runs by the database (``slots.merged_schedule_sql``): the same
slots as from the rows one by one (``merged=False``, what SQLite and the
explain panel read), from far fewer rows."""

import random
import re
from datetime import timedelta

import pytest
from django.db import connection

from mentorship.tests.factories import MenteeProfileFactory
from scheduling.models import BusyInterval, Session
from scheduling.slots import compute_slots, load_schedule
from scheduling.tests.factories import NOW, BusyIntervalFactory, SessionFactory, new_york_mentor, ny

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the merged read is PostgreSQL's (range_agg)"
    ),
]


def slots(mentor, session_type, start, end, *, merged):
    schedule = load_schedule(mentor, session_type, start, end, now=NOW, merged=merged)
    return schedule, compute_slots(
        windows=schedule.windows,
        sessions=schedule.sessions,
        busy=schedule.busy,
        rules=schedule.rules,
        now=NOW,
        start=start,
        end=end,
        sessions_per_day=schedule.sessions_per_day,
    )


@pytest.mark.parametrize("seed", range(6))
def test_the_merged_read_gives_the_same_slots_as_the_rows(seed):
    chooser = random.Random(seed)
    mentor = new_york_mentor(
        starting=NOW.date(),
        buffer_minutes=chooser.choice([0, 5, 15]),
        max_sessions_per_day=chooser.choice([None, 1, 2]),
    )
    intro = mentor.session_types.get(slug="intro-call")
    other = new_york_mentor(starting=NOW.date(), name="Other Mentor")
    as_mentee = MenteeProfileFactory(user=mentor.user)
    statuses = [
        Session.Status.UPCOMING,
        Session.Status.CANCELLED,
        Session.Status.COMPLETED,
        Session.Status.PENDING,
    ]
    monday = ny(2026, 6, 1, 9)
    taken_until = monday
    for _index in range(12):  # the mentor's sessions, one after another
        start = taken_until + timedelta(minutes=chooser.choice([0, 10, 30, 60, 600]))
        status = chooser.choice(statuses)
        SessionFactory(
            mentor=mentor,
            start=start,
            end=start + timedelta(minutes=30),
            status=status,
            hold_expires_at=NOW + timedelta(minutes=chooser.choice([-5, 5]))
            if status == Session.Status.PENDING
            else None,
        )
        taken_until = start + timedelta(minutes=30)
    for hour in chooser.sample(range(0, 96, 2), 4):  # booked as a mentee of another mentor
        start = ny(2026, 6, 1, 9) + timedelta(hours=hour, minutes=15)
        SessionFactory(mentor=other, mentee=as_mentee, start=start, end=start + timedelta(hours=1))
    for _index in range(25):  # busy times, overlapping and touching
        start = ny(2026, 6, 1, 9) + timedelta(minutes=15 * chooser.randrange(0, 4 * 96))
        BusyIntervalFactory(
            mentor=mentor, start=start, end=start + timedelta(minutes=chooser.choice([15, 45, 90]))
        )

    for first_day, days in ((1, 1), (1, 5), (3, 2)):
        start, end = ny(2026, 6, first_day, 0), ny(2026, 6, first_day + days, 0)
        merged_schedule, merged = slots(mentor, intro, start, end, merged=True)
        row_schedule, rows = slots(mentor, intro, start, end, merged=False)
        assert merged == rows
        assert merged_schedule.sessions_per_day == row_schedule.sessions_per_day or (
            mentor.max_sessions_per_day is None and not merged_schedule.sessions_per_day
        )


def test_thousands_of_busy_intervals_come_back_as_a_row_per_run():
    mentor = new_york_mentor(starting=NOW.date(), buffer_minutes=10)
    intro = mentor.session_types.get(slug="intro-call")
    start = ny(2026, 6, 2, 9)
    BusyInterval.objects.bulk_create(
        BusyInterval(
            mentor=mentor,
            start=start + timedelta(minutes=5 * index),
            end=start + timedelta(minutes=5 * index + 5),
        )
        for index in range(600)  # back to back: one run
    )
    schedule, _slots = slots(mentor, intro, start, start + timedelta(days=3), merged=True)
    assert schedule.busy == [(start, start + timedelta(minutes=5 * 600))]
    rows, _slots = slots(mentor, intro, start, start + timedelta(days=3), merged=False)
    assert len(rows.busy) == 600


def test_intervals_less_than_two_buffers_apart_come_back_as_one_run():
    # As the benchmark's busy mentors have them: 6 minutes busy, 8 free,
    # with a 10-minute buffer no slot fits between them.
    mentor = new_york_mentor(starting=NOW.date(), buffer_minutes=10)
    intro = mentor.session_types.get(slug="intro-call")
    start = ny(2026, 6, 2, 9)
    BusyInterval.objects.bulk_create(
        BusyInterval(
            mentor=mentor,
            start=start + timedelta(minutes=14 * index),
            end=start + timedelta(minutes=14 * index + 6),
        )
        for index in range(300)
    )
    schedule, merged = slots(mentor, intro, start, start + timedelta(days=3), merged=True)
    last_end = start + timedelta(minutes=14 * 299 + 6)
    assert schedule.busy == [(start, last_end)]
    assert merged == slots(mentor, intro, start, start + timedelta(days=3), merged=False)[1]


def test_the_read_walks_the_mentors_indexes():
    # The branches each have one owner condition, so each can walk an index
    # on (mentor, start) instead of every session or busy time (the tables
    # here are tiny: sequential scans are off so that the plan shows what
    # the indexes allow).
    from django.db import transaction

    from scheduling.slots import merged_schedule_sql, schedule_params

    mentor = new_york_mentor(starting=NOW.date())
    start = ny(2026, 6, 2, 0)
    params = schedule_params(
        connection,
        mentor_pk=mentor.pk,
        mentor_user_pk=mentor.user_id,
        start=start,
        end=start + timedelta(days=7),
        now=NOW,
        reach=timedelta(hours=1),
    )
    params.update(zone="America/New_York", widen=timedelta(minutes=25))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + merged_schedule_sql(connection, daily_cap=True), params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # Every scan of the sessions and busy times goes through an index that
    # starts with their owner (the mentor, or the mentor's own mentee
    # profile), whichever of those the planner picks: never the whole table,
    # never the index by status and end (every mentor's upcoming sessions).
    assert "Seq Scan" not in plan, plan
    assert "session_status_end" not in plan, plan
    owner_indexes = re.findall(r"(?:using|on) (\w+)", plan)
    assert {"busy_mentor_start"} <= set(owner_indexes) or "busyinterval_mentor_id" in plan, plan
    assert "mentor_id = " in plan and "mentee_id = $" in plan, plan
