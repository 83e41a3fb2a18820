"""Which database errors a booking turns into "that time was just taken":
only the overlap constraint's refusal (a lost race) and lock failures; any
other integrity error is a bug and surfaces as it is."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, OperationalError, connection
from django.utils import timezone

from scheduling.booking import SlotTaken, _conflicts_become_slot_taken
from scheduling.models import Session
from scheduling.tests.factories import SessionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_another_integrity_error_is_not_called_a_taken_slot():
    existing = SessionFactory(start=timezone.now() + timedelta(days=3))

    def end_before_start():
        # The check constraint session_end_after_start, on every database.
        Session.objects.filter(pk=existing.pk).update(end=existing.start - timedelta(hours=1))

    with pytest.raises(IntegrityError, match=r"session_end_after_start|CHECK constraint"):
        _conflicts_become_slot_taken(end_before_start)
    existing.refresh_from_db()
    assert existing.end > existing.start


def test_the_overlap_constraint_is_a_taken_slot():
    if connection.vendor != "postgresql":
        pytest.skip("the no-overlap exclusion constraint exists on PostgreSQL only")
    existing = SessionFactory(start=timezone.now() + timedelta(days=3))

    def overlapping_row():
        SessionFactory(
            mentor=existing.mentor,
            session_type=existing.session_type,
            start=existing.start + timedelta(minutes=10),
        )

    with pytest.raises(SlotTaken):
        _conflicts_become_slot_taken(overlapping_row)
    assert Session.objects.filter(mentor=existing.mentor).count() == 1


def test_a_lock_the_database_gave_up_on_is_a_taken_slot():
    def busy():
        raise OperationalError("database is locked")

    with pytest.raises(SlotTaken):
        _conflicts_become_slot_taken(busy)
