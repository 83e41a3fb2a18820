"""Data migrations, run against rows made with the schema before them."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("scheduling", "0005_calendar_connections")]
AFTER = [("scheduling", "0006_session_ical_revised_at")]

CREATED = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
CANCELLED_AT = CREATED + timedelta(days=2)
MOVED_AT = CREATED + timedelta(days=3)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_sessions_get_the_stamp_and_sequence_of_their_last_sent_change():
    apps = migrate(BEFORE)
    try:
        User = apps.get_model("accounts", "User")
        MentorProfile = apps.get_model("mentorship", "MentorProfile")
        MenteeProfile = apps.get_model("mentorship", "MenteeProfile")
        Session = apps.get_model("scheduling", "Session")
        mentor = MentorProfile.objects.create(
            user=User.objects.create(email="maya@example.com", name="Maya"), slug="maya"
        )
        mentee = MenteeProfile.objects.create(
            user=User.objects.create(email="kiran@example.com", name="Kiran")
        )

        def session(hour, **fields):
            start = datetime(2026, 6, 1, hour, tzinfo=UTC)
            row = Session.objects.create(
                mentor=mentor,
                mentee=mentee,
                title="Intro call",
                duration_minutes=30,
                start=start,
                end=start + timedelta(minutes=30),
                **fields,
            )
            Session.objects.filter(pk=row.pk).update(created_at=CREATED)
            return row

        upcoming = session(9)
        cancelled = session(
            10, status="cancelled", cancelled_at=CANCELLED_AT, ical_uid="chain-1", ical_sequence=0
        )
        # A reschedule: the old row cancelled by the move, the new one with
        # the same UID and the next SEQUENCE, created at the move.
        old = session(
            11, status="cancelled", cancelled_at=MOVED_AT, ical_uid="chain-2", ical_sequence=0
        )
        moved = session(12, rescheduled_from=old, ical_uid="chain-2", ical_sequence=1)
        Session.objects.filter(pk=moved.pk).update(created_at=MOVED_AT)

        apps = migrate(AFTER)
        Session = apps.get_model("scheduling", "Session")

        def revision(row):
            stored = Session.objects.get(pk=row.pk)
            return stored.ical_sequence, stored.ical_revised_at

        assert revision(upcoming) == (0, CREATED)
        assert revision(cancelled) == (1, CANCELLED_AT)  # a cancellation is a revision
        assert revision(old) == (0, CREATED)  # superseded by the move, never cancelled alone
        assert revision(moved) == (1, MOVED_AT)
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
