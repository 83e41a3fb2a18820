"""Booking without an account: a held time, confirmed by email.

A visitor who picks a time on the picker gives their name, email and a
password. ``hold_guest_booking`` creates their account (address not yet
confirmed) and holds the time as a ``pending`` session for
``BOOKING_HOLD_MINUTES``, in one transaction and under every booking rule
(``booking._book``): nobody else is offered the time, PostgreSQL's exclusion
constraint covers it, and one address holds one time at most. The only
message is the outbox's ``hold`` email to the visitor, whose link
(``hold_token``) leads to ``confirm_hold``: the address is confirmed, the
hold becomes an upcoming session with the usual confirmations and calendar
push, and the view signs the visitor in. A hold nobody confirms lapses:
pages and bookings read the clock (``Session.status_at``,
``SessionQuerySet.blocking``); ``expire_holds`` (beat) tidies the rows up.
Confirming the address any other way (allauth's own link, after signing in)
confirms the holds too (``confirm_holds_of``, on allauth's signal).
"""

from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import User
from accounts.services import account_for_guest, confirm_account_email
from core.cache import times_changed
from mentorship.models import MentorProfile

from .booking import (
    BookingRefused,
    _book,
    _check_mentee_may_book,
    _conflicts_become_slot_taken,
    check_request,
)
from .calendars import sync as calendar_sync
from .models import Session, SessionType
from .notifications import outbox

TOKEN_SALT = "scheduling.holds"  # noqa: S105 - a namespace, not a secret


class HoldLapsed(BookingRefused):
    """The hold ran out before it was confirmed; its time was freed."""


@dataclass(frozen=True)
class Guest:
    name: str
    email: str
    password: str
    timezone: str
    time_format: str = ""  # "12", "24" or "" (the browser did not say)


def hold_guest_booking(
    *,
    guest: Guest,
    mentor: MentorProfile,
    session_type: SessionType,
    start: datetime,
    topic: str = "",
    now: datetime | None = None,
) -> Session:
    """Create (or, for an earlier unconfirmed visit with the same password,
    reuse) the visitor's account and hold ``start`` for them. Raises
    ``accounts.services.AccountExists`` when the address has an account
    (its owner signs in to book), ``BookingRefused``/``SlotTaken`` as a
    booking does. Nothing is written when it raises."""
    topic = check_request(mentor, session_type, start, topic)

    def work() -> Session:
        user = account_for_guest(
            name=guest.name,
            email=guest.email,
            password=guest.password,
            timezone=guest.timezone,
            time_format=guest.time_format,
        )
        _check_mentee_may_book(user, mentor)
        return _book(user, mentor, session_type, start, topic, now, hold=True)

    return _conflicts_become_slot_taken(work)


def hold_token(session: Session) -> str:
    """The key in the confirmation link: the session and the address it was
    sent to, signed. It needs no expiry of its own: the hold's does."""
    return signing.dumps(
        {"session": str(session.pk), "email": session.mentee.user.email}, salt=TOKEN_SALT
    )


def session_for_token(token: str) -> Session | None:
    """The held (or once held) session a link is for, or None when the link
    was not made by us or the account's address changed since."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    session = (
        Session.objects.select_related("mentor__user", "mentee__user", "session_type")
        .filter(pk=data.get("session"))
        .first()
    )
    if session is None or session.mentee.user.email != data.get("email"):
        return None
    return session


def confirm_hold(*, session: Session, now: datetime | None = None) -> Session:
    """Turn a live hold into an upcoming session: the address is confirmed,
    both sides get the booking confirmation, the mentor's calendar gets the
    event. A session already confirmed is returned as it is (the link was
    followed twice). Raises ``HoldLapsed`` when the hold ran out (and marks
    it expired)."""
    lapsed = False
    with transaction.atomic():
        locked = (
            Session.objects.select_for_update(of=("self",))
            .select_related("mentor__user", "mentee__user", "session_type")
            .annotate(has_calendar=Exists(calendar_sync.target_connections(OuterRef("mentor_id"))))
            .get(pk=session.pk)
        )
        now = now or timezone.now()
        if locked.status not in (Session.Status.PENDING, Session.Status.EXPIRED):
            return locked
        if locked.status_at(now) == Session.Status.EXPIRED:
            lapsed = True
            if locked.status == Session.Status.PENDING:
                locked.status = Session.Status.EXPIRED
                locked.save(update_fields=["status"])
        else:
            locked.status = Session.Status.UPCOMING
            locked.ical_revised_at = now
            locked.save(update_fields=["status", "ical_revised_at"])
            confirm_account_email(user=locked.mentee.user)
            outbox.notify(locked, outbox.Kind.CONFIRMATION)
            if locked.has_calendar:
                calendar_sync.push_on_commit(locked)
    if lapsed:
        raise HoldLapsed(
            "This time was held for you, but the hold ran out before it was confirmed, "
            "so the time was freed for others."
        )
    return locked


def confirm_holds_of(*, user: User, now: datetime | None = None) -> list[Session]:
    """Confirm ``user``'s live holds: their address was just confirmed."""
    now = now or timezone.now()
    confirmed = []
    for session in Session.objects.filter(
        mentee__user=user, status=Session.Status.PENDING, hold_expires_at__gt=now
    ):
        try:
            confirmed.append(confirm_hold(session=session, now=now))
        except HoldLapsed:
            continue
    return confirmed


def release_hold(*, session: Session) -> bool:
    """Give a held time back at once (the visitor typed a wrong address and
    starts again). Whether it was still held."""
    released = Session.objects.filter(pk=session.pk, status=Session.Status.PENDING).update(
        status=Session.Status.EXPIRED
    )
    if released:
        times_changed()
    return bool(released)


def expire_holds(*, now: datetime | None = None) -> int:
    """Mark holds that ran out expired (the beat task). Their time is
    offered again already (the engine reads the clock); this tidies up."""
    expired = Session.objects.lapsed_holds(now or timezone.now()).update(
        status=Session.Status.EXPIRED
    )
    if expired:
        times_changed()
    return expired
