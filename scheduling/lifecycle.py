"""The session lifecycle after booking: the clock's moves and no-shows.

Statuses move forward only: upcoming → active → completed, or → cancelled
(``booking.cancel_session``), or → no_show (the mentor, after the start:
``mark_no_show``, under ``rules.no_show_refusal``).
``advance_statuses`` is what the periodic task runs; pages never depend on it
having run (``Session.status_at`` reads the clock).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.cache import times_changed

from .booking import BookingRefused
from .models import Session
from .notifications import outbox
from .rules import no_show_refusal


@dataclass(frozen=True)
class Advanced:
    started: int
    completed: int


def advance_statuses(*, now: datetime | None = None) -> Advanced:
    """Move upcoming sessions that have started to active and sessions that
    have ended to completed, asking each completed session's mentee for a
    review (an outbox row). Idempotent and forward only: running it twice,
    late or concurrently changes nothing more (the rows being completed are
    locked, and the outbox writes each message once)."""
    now = now or timezone.now()
    live = [Session.Status.UPCOMING, Session.Status.ACTIVE]
    with transaction.atomic():
        ending = list(
            Session.objects.select_for_update(of=("self",))
            .filter(status__in=live, end__lte=now)
            .select_related("mentor", "mentee")
        )
        completed = Session.objects.filter(
            pk__in=[session.pk for session in ending], status__in=live
        ).update(status=Session.Status.COMPLETED)
        outbox.notify_many(ending, outbox.Kind.REVIEW_REQUEST)  # the mentees review
    started = Session.objects.filter(
        status=Session.Status.UPCOMING, start__lte=now, end__gt=now
    ).update(status=Session.Status.ACTIVE)
    return Advanced(started=started, completed=completed)


def mark_no_show(*, session: Session, by: User, now: datetime | None = None) -> Session:
    """The mentor records that the mentee did not come: only after the start,
    up to ``rules.NO_SHOW_WINDOW`` after the end, only for a session that took place
    (not cancelled, not already marked, not reviewed by its mentee). The rule
    is ``rules.no_show_refusal``, asked on the locked row; whether the session
    was reviewed is the reviews app's check (``rules.no_show_checks``), which
    reads the review fresh here, after the lock."""
    with transaction.atomic():
        locked = (
            Session.objects.select_for_update(of=("self",))
            .select_related("mentor")
            .get(pk=session.pk)
        )
        now = now or timezone.now()
        refusal = no_show_refusal(locked, by, now)
        if refusal:
            raise BookingRefused(refusal)
        locked.status = Session.Status.NO_SHOW
        locked.no_show_marked_at = now
        locked.save(update_fields=["status", "no_show_marked_at"])
        times_changed()  # the rest of its time is no longer held
    return locked
