"""Booking a session: the one way a ``Session`` row comes to exist.

``book_session`` runs in one transaction of two statements
(``lock_and_read_booking``, ``insert_booking``; see "The booking transaction
in two statements" below): the first locks the mentee's profile row and the
mentor's row (and the user's own mentor row: bookings of one mentor, and of
one person, queue up) and reads everything the rules need; the rules are
checked in Python (``_check_read``, the slot engine for the requested start
included); the second inserts the session and its notifications, guarded
against a session the first statement's snapshot could not see. On SQLite
the ``BEGIN IMMEDIATE`` write transaction serializes the same way; on
PostgreSQL the exclusion constraint ``session_no_overlap_per_mentor`` is the
backstop. A conflict (a lost race: that constraint, a deadlock, SQLite busy)
reaches the caller as ``SlotTaken``, never a database error; any other
integrity error is a bug and is not disguised as one.

Rescheduling still reads in several statements (``_reschedule``), taking the
locks in the same order: the mentee's row, then the mentors' rows.
"""

import copy
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime, timedelta
from functools import lru_cache

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import User
from core.cache import times_changed
from mentorship.models import MenteeProfile, MentorProfile

from .calendars import sync as calendar_sync
from .meetings import meeting_provider
from .models import Notification, Session, SessionType
from .notifications import outbox
from .rules import cancel_refusal, reschedule_refusal
from .slots import (
    GIVEN,
    SESSIONS_NEAR,
    TAKEN,
    available_slots,
    compact,
    compute_slots,
    db_time,
    db_uuid,
    db_uuid_text,
    dialect,
    prepared_cursor,
    read_time,
    read_uuid,
    schedule_from_rows,
    schedule_params,
    schedule_sql,
)

TOPIC_MAX_LENGTH = 1000


class BookingRefused(Exception):
    """A booking rule was broken; the message tells the user which."""


class SlotTaken(BookingRefused):
    """Someone else got that time first (or it stopped being free)."""

    def __init__(self, message: str = "That time was just taken. Please pick another one."):
        super().__init__(message)


def _check_mentee_may_book(user: User, mentor: MentorProfile) -> None:
    """The checks that need no query. Whether the email address is confirmed is
    read with the mentor's lock (``_lock_mentor(check_email=True)``)."""
    if not user.is_authenticated or not user.is_active:
        raise BookingRefused("Please sign in to book a session.")
    if mentor.user_id == user.pk:
        raise BookingRefused("You cannot book a session with yourself.")


def _has_verified_email(user: User) -> Exists:
    """Whether ``user``'s own address (any case) is confirmed with allauth."""
    return Exists(EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True))


def _locked_mentee(user: User) -> MenteeProfile:
    """The mentee's profile row, locked; created on a first booking.

    Two first bookings of one mentee (with two mentors) may race to create
    it: the insert ignores the conflict, so the second waits for the first to
    commit and then locks the first's row and sees its session, instead of
    failing on the unique key."""
    mentee = MenteeProfile.objects.select_for_update().filter(user=user).first()
    if mentee is None:
        MenteeProfile.objects.bulk_create([MenteeProfile(user=user)], ignore_conflicts=True)
        mentee = MenteeProfile.objects.select_for_update().get(user=user)
    return mentee


@dataclass(frozen=True)
class LockedMentor:
    mentor: MentorProfile
    own_mentor_id: object  # the booking user's own mentor profile, if any
    offers_type: bool  # the session type asked for is still on offer
    # The mentor's sessions are written to a calendar of theirs: a booking
    # enqueues that push only then (``reconcile`` catches a calendar
    # connected meanwhile).
    has_calendar: bool
    email_verified: bool | None  # the booking user's address is confirmed (None: not asked)


def _lock_mentor(
    mentor_pk, mentee_user: User, session_type_pk=None, *, check_email: bool = False
) -> LockedMentor:
    """Lock the mentor's row, and the mentee's own mentor row if they have one.

    Every booking of a mentor waits on that mentor's row. A mentee who is also
    a mentor locks their own row too, so nobody books them as a mentor while
    they book a session as a mentee. Rows are locked in primary-key order, so
    two such people booking each other wait instead of deadlocking. One query,
    which also re-reads under the lock whether ``session_type_pk`` is offered
    and, with ``check_email``, whether the user's email address is confirmed.
    """
    checks = {
        "offers_type": Exists(
            SessionType.objects.filter(pk=session_type_pk, mentor=OuterRef("pk"), is_active=True)
        ),
        "has_calendar": Exists(calendar_sync.target_connections(OuterRef("pk"))),
    }
    if check_email:
        checks["email_verified"] = _has_verified_email(mentee_user)
    rows = (
        MentorProfile.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(Q(pk=mentor_pk) | Q(user=mentee_user))
        .annotate(**checks)
        .order_by("pk")
    )
    mentor, own_mentor_id = None, None
    for row in rows:
        if row.pk == mentor_pk:
            mentor = row
        if row.user_id == mentee_user.pk:
            own_mentor_id = row.pk
    if mentor is None:
        raise BookingRefused("This mentor is not taking bookings right now.")
    return LockedMentor(
        mentor,
        own_mentor_id,
        mentor.offers_type,
        mentor.has_calendar,
        mentor.email_verified if check_email else None,
    )


def _check_offered(mentor: MentorProfile, duration_minutes: int, start, now, ignoring=None):
    """Refuse unless the engine offers ``start`` now (under the mentor's lock)."""
    if start <= now:
        raise BookingRefused("That time has already passed. Please pick another one.")
    end = start + timedelta(minutes=duration_minutes)
    length = SessionType(mentor=mentor, duration_minutes=duration_minutes)
    offered = available_slots(mentor, length, start, end, now=now, ignoring=ignoring)
    if not any(slot.start == start for slot in offered):
        raise SlotTaken("That time is not available. Please pick one of the times shown.")
    return end


def _check_limits_and_overlaps(
    mentee: MenteeProfile, mentor, start, end, now, *, own_mentor_id=None, ignoring=None
):
    """One query: the mentee's sessions at that time (as mentee, or as a mentor
    themselves) and their upcoming sessions, in all and with this mentor."""
    theirs = Q(mentee=mentee)
    if own_mentor_id is not None:
        theirs |= Q(mentor_id=own_mentor_id)
    sessions = Session.objects.blocking(now).filter(theirs, end__gt=now)
    if ignoring is not None:
        sessions = sessions.exclude(pk=ignoring)
    counts = sessions.aggregate(
        overlapping=Count("pk", filter=Q(start__lt=end, end__gt=start)),
        **_limit_counts(mentee, mentor),
    )
    if counts["overlapping"]:
        raise BookingRefused("You already have a session at that time.")
    refusal = _limit_message(counts)
    if refusal:
        raise BookingRefused(refusal)


def _limit_counts(mentee, mentor) -> dict:
    """Aggregates of a mentee's blocking sessions that the limits read."""
    return {
        "upcoming": Count("pk", filter=Q(mentee=mentee)),
        "with_mentor": Count("pk", filter=Q(mentee=mentee, mentor=mentor)),
        "held": Count("pk", filter=Q(mentee=mentee, status=Session.Status.PENDING)),
    }


def _limit_message(counts: dict) -> str | None:
    if counts["held"]:
        return (
            "You already have a time on hold. Confirm it with the link we emailed you, "
            f"or book again once it lapses ({settings.BOOKING_HOLD_MINUTES} minutes after "
            "you chose it)."
        )
    if counts["upcoming"] >= settings.MAX_UPCOMING_SESSIONS_PER_MENTEE:
        return (
            f"You can hold at most {settings.MAX_UPCOMING_SESSIONS_PER_MENTEE} upcoming "
            "sessions. Cancel one or wait until one has taken place."
        )
    if counts["with_mentor"] >= settings.MAX_UPCOMING_SESSIONS_WITH_ONE_MENTOR:
        return (
            f"You can hold at most {settings.MAX_UPCOMING_SESSIONS_WITH_ONE_MENTOR} upcoming "
            "sessions with one mentor. You can book again once one has taken place or "
            "been cancelled."
        )
    return None


def limit_refusal(user: User, mentor: MentorProfile, now: datetime) -> str | None:
    """What the booking limits would refuse ``user`` with ``mentor`` whatever
    the time (the picker says it before they pick): booking themselves, a
    time on hold, too many upcoming sessions. One query; None when nothing."""
    if mentor.user_id == user.pk:
        return "This is your own booking page: mentees book you here."
    counts = (
        Session.objects.blocking(now)
        .filter(mentee__user=user, end__gt=now)
        .aggregate(
            upcoming=Count("pk"),
            with_mentor=Count("pk", filter=Q(mentor=mentor)),
            held=Count("pk", filter=Q(status=Session.Status.PENDING)),
        )
    )
    return _limit_message(counts)


def _check_start(start) -> None:
    if not isinstance(start, datetime) or start.tzinfo is None:
        raise BookingRefused("That start time is not valid.")


def _clean_text(text: str, *, what: str, max_length: int) -> str:
    text = (text or "").strip()
    if "\x00" in text:  # PostgreSQL text cannot hold NUL
        raise BookingRefused(f"The {what} cannot contain null characters.")
    if len(text) > max_length:
        raise BookingRefused(f"Keep the {what} under {max_length} characters.")
    return text


# PostgreSQL's exclusion constraint on sessions (``scheduling/models.py``).
OVERLAP_CONSTRAINT = "session_no_overlap_per_mentor"


def _is_overlap(error: IntegrityError) -> bool:
    """Whether ``error`` is the no-overlap constraint refusing the new row:
    PostgreSQL names the violated constraint in the error's diagnostics."""
    diagnostics = getattr(error.__cause__, "diag", None)
    return getattr(diagnostics, "constraint_name", None) == OVERLAP_CONSTRAINT


def _conflicts_become_slot_taken(work):
    """Run ``work`` in a transaction; a lost race becomes SlotTaken: the
    overlap constraint refusing the row, or the database giving up on a lock
    (deadlock, lock timeout, SQLite busy). Any other integrity error is a bug
    and surfaces as it is."""
    try:
        with transaction.atomic():
            return work()
    except IntegrityError as error:
        if _is_overlap(error):
            raise SlotTaken() from error
        raise
    except OperationalError as error:
        raise SlotTaken() from error


def check_request(mentor: MentorProfile, session_type: SessionType, start, topic: str) -> str:
    """The checks of a booking request that need no query; the topic cleaned."""
    topic = _clean_text(topic, what="topic", max_length=TOPIC_MAX_LENGTH)
    _check_start(start)
    if session_type.mentor_id != mentor.pk or not session_type.is_active:
        raise BookingRefused("This session type is not offered.")
    return topic


def book_session(
    *,
    mentee_user: User,
    mentor: MentorProfile,
    session_type: SessionType,
    start: datetime,
    topic: str = "",
    now: datetime | None = None,
) -> Session:
    """Book ``start`` (aware) with ``mentor`` for ``mentee_user``.

    Raises ``BookingRefused`` with a message for the user when a rule is
    broken, and ``SlotTaken`` (a ``BookingRefused``) when the time is no longer
    free. Creates the mentee profile on a first booking. Nothing is written
    when it raises.
    """
    topic = check_request(mentor, session_type, start, topic)
    _check_mentee_may_book(mentee_user, mentor)
    return _conflicts_become_slot_taken(
        lambda: _book(mentee_user, mentor, session_type, start, topic, now)
    )


def _release_lapsed_holds(mentor_pk, start, end, now) -> None:
    """Mark the lapsed holds at ``start``–``end`` expired before a new row
    takes that time: the engine already offers it (it reads the clock), but
    PostgreSQL's exclusion constraint sees a pending row until it is tidied."""
    Session.objects.lapsed_holds(now).filter(
        mentor_id=mentor_pk, start__lt=end, end__gt=start
    ).update(status=Session.Status.EXPIRED)


# --- The booking transaction in two statements ------------------------------------------
#
# A booking reads, under its locks, everything its rules need, then writes the
# session and its notifications: one statement each (``lock_and_read_booking``,
# ``insert_booking``). PostgreSQL reads a statement from one snapshot, taken
# before it waits for a lock, so the read may miss a session committed by
# whoever held the lock. The insert therefore carries a guard, evaluated with
# a fresh snapshot after every lock is held: no session in the scope that was
# read (the mentor's around the time, the mentee's upcoming ones, the
# booking user's own as a mentor at that time) that the read did not see.
# When the guard finds one, the rules are checked again on a fresh read (the
# locks are held by then, so that read is current) before inserting.

# The booking user's own sessions that the rules read: those they take
# (blocking, not over: the limits count them) and those they give as a mentor
# at the requested time (no double booking of a person).
BLOCKING = """(s.status IN ('upcoming', 'active')
    OR (s.status = 'pending' AND s.hold_expires_at > %(now)s))"""
MINE_TAKEN = f"""s.mentee_id = (
        SELECT p.id FROM mentorship_menteeprofile p WHERE p.user_id = %(user)s)
    AND s."end" > %(now)s AND {BLOCKING}"""  # noqa: S608
MINE_GIVEN = f"""s.mentor_id = (
        SELECT o.id FROM mentorship_mentorprofile o WHERE o.user_id = %(user)s)
    AND s.start < %(end)s AND s."end" > %(start)s AND {BLOCKING}"""  # noqa: S608
LAPSED = """s.mentor_id = %(mentor)s AND s.status = 'pending' AND s.hold_expires_at <= %(now)s
    AND s.start < %(end)s AND s."end" > %(start)s"""
# Every session scope the read covers: ``insert_booking``'s guard looks again.
READ_SCOPES = (
    f"{GIVEN} AND {SESSIONS_NEAR}",
    f"{TAKEN} AND {SESSIONS_NEAR}",
    MINE_TAKEN,
    MINE_GIVEN,
)
MENTOR_VALUES = (
    "is_accepting_bookings",
    "buffer_minutes",
    "minimum_notice_minutes",
    "booking_horizon_days",
    "max_sessions_per_day",
    "cancellation_cutoff_hours",
    "offers_type",
    "has_calendar",
    "email_verified",
)


@lru_cache(maxsize=8)
def _lock_and_read_sql(vendor: str, ignoring: bool) -> str:
    sql = dialect(connection)
    ignore = " AND s.id <> %(ignoring)s" if ignoring else ""
    numbers = " || ',' || ".join(
        f"COALESCE({sql.text('l.' + column)}, '')" for column in MENTOR_VALUES
    )
    mentor_row = sql.first_row("mentor", "l.id", "l.user_id", numbers, "l.timezone", "l.mentee_id")
    mine_row = sql.row(
        "mine", "s.start", 's."end"', "s.status", "s.mentor_id", "s.id", "s.mentee_id"
    )
    lapsed_row = sql.row("lapsed", None, None, "NULL", "NULL", "s.id")
    lock_mentors = " FOR UPDATE OF m" if sql.postgres else ""
    # The mentee's row is locked first (in the mentors' SELECT list, so
    # before their rows): every transaction that locks a mentee's row takes
    # it before any mentor's, so two never wait on each other in a circle.
    locked = f"""WITH locked AS (
            SELECT m.id, m.user_id, m.is_accepting_bookings, m.buffer_minutes,
                m.minimum_notice_minutes, m.booking_horizon_days, m.max_sessions_per_day,
                m.cancellation_cutoff_hours, u.timezone,
                EXISTS (SELECT 1 FROM scheduling_sessiontype t WHERE t.id = %(type)s
                        AND t.mentor_id = m.id AND t.is_active) AS offers_type,
                EXISTS (SELECT 1 FROM scheduling_calendarconnection c WHERE c.mentor_id = m.id
                        AND c.status = 'active' AND c.target_calendar <> '') AS has_calendar,
                EXISTS (SELECT 1 FROM account_emailaddress e WHERE e.user_id = %(user)s
                        AND UPPER(e.email) = UPPER(%(email)s) AND e.verified) AS email_verified,
                (SELECT p.id FROM mentorship_menteeprofile p
                 WHERE p.user_id = %(user)s{sql.for_update}) AS mentee_id
            FROM mentorship_mentorprofile m JOIN accounts_user u ON u.id = m.user_id
            WHERE m.id = %(mentor)s OR m.user_id = %(user)s
            ORDER BY m.id{lock_mentors})
        SELECT {mentor_row} FROM locked l"""  # noqa: S608
    selects = [
        locked,
        *schedule_sql(connection, ignoring=ignoring or None),
        f"SELECT {mine_row} FROM scheduling_session s WHERE {MINE_TAKEN}{ignore}",  # noqa: S608
        f"SELECT {mine_row} FROM scheduling_session s WHERE {MINE_GIVEN}{ignore}",  # noqa: S608
        f"SELECT {lapsed_row} FROM scheduling_session s WHERE {LAPSED}",  # noqa: S608
    ]
    return compact(" UNION ALL ".join(selects))


@dataclass
class BookingRead:
    """What ``lock_and_read_booking`` read under the locks."""

    mentor: MentorProfile | None  # the caller's copy with the locked row's values
    own_mentor_id: object
    offers_type: bool
    has_calendar: bool
    email_verified: bool
    mentee_id: object  # the booking user's mentee profile (None: they have none yet)
    rows: list  # the engine's rows (``slots.schedule_sql``)
    mine: list = dataclass_field(default_factory=list)  # (start, end, status, mentor_id, mentee_id)
    lapsed: list = dataclass_field(default_factory=list)  # ids of lapsed holds at the time
    seen: list = dataclass_field(default_factory=list)  # ids of every session read
    params: dict = dataclass_field(default_factory=dict)  # the read's parameters, for the guard


def _as_bool(text) -> bool:
    return text in ("true", "1", "t")


def lock_and_read_booking(
    mentor: MentorProfile,
    user: User,
    session_type: SessionType,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    ignoring=None,
) -> BookingRead:
    """One statement: lock the booking user's mentee row, the mentor's row
    and the user's own mentor row (if any), and read what every booking rule
    needs: the mentor's settings, whether ``session_type`` is still offered,
    whether the mentor has a calendar to push to, whether the user's address
    is confirmed, the slot engine's rows around ``start`` (availability,
    sessions, busy times: ``slots.schedule_sql``), the user's own upcoming
    sessions (and those they give at that time) and the lapsed holds at that
    time. Nothing else: the checks are ``_check_read``."""
    reach = timedelta(minutes=120 + session_type.duration_minutes)  # the buffer's largest value
    params = schedule_params(
        connection,
        mentor_pk=mentor.pk,
        mentor_user_pk=mentor.user_id,
        start=start,
        end=end,
        now=now,
        reach=reach,
        ignoring=ignoring,
    )
    params.update(
        user=db_uuid(connection, user.pk),
        email=user.email,
        type=session_type.pk,
        start=db_time(connection, start),
        end=db_time(connection, end),
    )
    with prepared_cursor(connection) as cursor:
        cursor.execute(_lock_and_read_sql(connection.vendor, ignoring is not None), params)
        rows = cursor.fetchall()
    mentor_key, user_key = db_uuid_text(mentor.pk), db_uuid_text(user.pk)
    read = BookingRead(None, None, False, False, False, None, [], params=params)
    for row in rows:
        tag, row_start, row_end, a, b, c, d, e = row
        if tag == "mentor":
            if db_uuid_text(b) == user_key:
                read.own_mentor_id = read_uuid(a)
            read.mentee_id = read_uuid(e)
            if db_uuid_text(a) != mentor_key:
                continue
            values = c.split(",")
            locked = copy.copy(mentor)
            locked.user = copy.copy(mentor.user)
            locked.user.timezone = d
            locked.is_accepting_bookings = _as_bool(values[0])
            locked.buffer_minutes = int(values[1])
            locked.minimum_notice_minutes = int(values[2])
            locked.booking_horizon_days = int(values[3])
            locked.max_sessions_per_day = int(values[4]) if values[4] else None
            locked.cancellation_cutoff_hours = int(values[5])
            read.mentor = locked
            read.offers_type, read.has_calendar, read.email_verified = (
                _as_bool(value) for value in values[6:9]
            )
        elif tag == "mine":
            read.mine.append((read_time(row_start), read_time(row_end), a, b, d))
            read.seen.append(db_uuid(connection, read_uuid(c)))
        elif tag == "lapsed":
            read.lapsed.append(read_uuid(c))
        else:
            read.rows.append(row)
            if tag == "session":
                read.seen.append(db_uuid(connection, read_uuid(c)))
    return read


def _check_read(read: BookingRead, session_type, start, end, now, *, hold: bool) -> None:
    """Every booking rule, on what ``lock_and_read_booking`` read; raises
    ``BookingRefused`` (``SlotTaken``) with the same messages in the same
    order as ever."""
    mentor = read.mentor
    if mentor is None:
        raise BookingRefused("This mentor is not taking bookings right now.")
    if not hold and not read.email_verified:
        raise BookingRefused("Please confirm your email address before booking.")
    if not mentor.is_accepting_bookings:
        raise BookingRefused("This mentor is not taking bookings right now.")
    # Re-read under the lock: the type may have been switched off meanwhile.
    if not read.offers_type:
        raise BookingRefused("This session type is not offered.")
    if start <= now:
        raise BookingRefused("That time has already passed. Please pick another one.")
    # The slot engine on the rows read, for the one range [start, end): the
    # same as ``available_slots`` (``test_booking_agrees`` checks it).
    schedule = schedule_from_rows(read.rows, mentor, session_type)
    offered = compute_slots(
        windows=schedule.windows,
        sessions=schedule.sessions,
        busy=schedule.busy,
        rules=schedule.rules,
        now=now,
        start=start,
        end=end,
        sessions_per_day=schedule.sessions_per_day,
    )
    if not any(slot.start == start for slot in offered):
        raise SlotTaken("That time is not available. Please pick one of the times shown.")
    mentee_key = db_uuid_text(read.mentee_id) if read.mentee_id else None
    mentor_key = db_uuid_text(mentor.pk)
    counts = {"overlapping": 0, "upcoming": 0, "with_mentor": 0, "held": 0}
    for row_start, row_end, status, row_mentor, row_mentee in read.mine:
        if row_start < end and row_end > start:
            counts["overlapping"] += 1
        if mentee_key is not None and db_uuid_text(row_mentee) == mentee_key:
            counts["upcoming"] += 1
            counts["with_mentor"] += db_uuid_text(row_mentor) == mentor_key
            counts["held"] += status == Session.Status.PENDING
    if counts["overlapping"]:
        raise BookingRefused("You already have a session at that time.")
    refusal = _limit_message(counts)
    if refusal:
        raise BookingRefused(refusal)


def _prepared(instance, field):
    return field.get_db_prep_save(field.pre_save(instance, True), connection)


@lru_cache(maxsize=32)
def _insert_sql(vendor: str, nulls: tuple, recipients: int, seen: int) -> str:
    """The guarded INSERT of a session (and, on PostgreSQL, of its
    notifications, ``recipients`` rows, in the same statement). ``nulls``:
    which of the session's fields are NULL; ``seen``: how many ids the read
    saw (SQLite lists them; PostgreSQL takes an array)."""
    postgres = vendor == "postgresql"
    quote = connection.ops.quote_name
    fields = Session._meta.concrete_fields
    columns = ", ".join(quote(field.column) for field in fields)
    values = ", ".join(
        "NULL" if null else f"%(s_{field.column})s"
        for field, null in zip(fields, nulls, strict=True)
    )
    if postgres:
        unseen = "s.id <> ALL(%(seen)s)"
    elif seen:
        unseen = f"s.id NOT IN ({', '.join(f'%(seen{index})s' for index in range(seen))})"
    else:
        unseen = "1 = 1"
    guard = " AND ".join(
        f"NOT EXISTS (SELECT 1 FROM scheduling_session s WHERE {scope} AND {unseen})"  # noqa: S608
        for scope in READ_SCOPES
    )
    insert = f"INSERT INTO scheduling_session ({columns}) SELECT {values} WHERE {guard}"
    if not postgres:
        return compact(insert)
    notification_columns, notification_values = [], []
    for field in Notification._meta.concrete_fields:
        if field.primary_key:
            continue
        notification_columns.append(quote(field.column))
        if field.name == "session":
            notification_values.append("new_session.id")
        elif field.name == "recipient":
            notification_values.append("recipients.id")
        else:
            notification_values.append(f"%(n_{field.column})s")
    rows = ", ".join(f"(%(recipient{index})s)" for index in range(recipients))
    return compact(
        f"WITH new_session AS ({insert} RETURNING id) "  # noqa: S608
        f"INSERT INTO scheduling_notification ({', '.join(notification_columns)}) "
        f"SELECT {', '.join(notification_values)} FROM new_session "
        f"CROSS JOIN (VALUES {rows}) AS recipients (id) RETURNING scheduling_notification.id"
    )


def insert_booking(read: BookingRead, session: Session, notifications: list) -> list | None:
    """Insert ``session`` and its ``notifications`` (one statement on
    PostgreSQL) unless a session appeared in a scope ``read`` covers that it
    did not see (``READ_SCOPES``: see above). Returns the notifications'
    ids, or None when nothing was inserted."""
    postgres = connection.vendor == "postgresql"
    params = dict(read.params)
    nulls = []
    for field in Session._meta.concrete_fields:
        value = _prepared(session, field)
        nulls.append(value is None)
        params[f"s_{field.column}"] = value
    if postgres:
        params["seen"] = read.seen
        first = notifications[0]
        for field in Notification._meta.concrete_fields:
            if not field.primary_key and field.name not in ("session", "recipient"):
                params[f"n_{field.column}"] = _prepared(first, field)
        for index, notification in enumerate(notifications):
            params[f"recipient{index}"] = db_uuid(connection, notification.recipient_id)
    else:
        params.update({f"seen{index}": seen for index, seen in enumerate(read.seen)})
    sql = _insert_sql(connection.vendor, tuple(nulls), len(notifications), len(read.seen))
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, params)
        if postgres:
            ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                return None
        elif cursor.rowcount != 1:
            return None
    session._state.adding, session._state.db = False, connection.alias
    if postgres:
        return ids
    return [row.pk for row in Notification.objects.bulk_create(notifications)]


MAX_READS = 3  # a guard that keeps failing is a busy time: SlotTaken


def _book(mentee_user, mentor, session_type, start, topic, now, *, hold=False) -> Session:
    """Book, or with ``hold`` hold the time for a visitor whose address is
    not confirmed yet: a pending session, no calendar push, one email (the
    link that confirms it), no message to the mentor until it is confirmed."""
    now = now or timezone.now()
    end = start + timedelta(minutes=session_type.duration_minutes)
    for _attempt in range(MAX_READS):
        read = lock_and_read_booking(mentor, mentee_user, session_type, start, end, now)
        _check_read(read, session_type, start, end, now, hold=hold)
        if read.mentee_id is None:  # a first booking: the mentee row is made and locked
            mentee = _locked_mentee(mentee_user)
            read.mentee_id = mentee.pk
        else:
            mentee = MenteeProfile(pk=read.mentee_id, user=mentee_user)
            mentee._state.adding = False
        if read.lapsed:
            # Mark the lapsed holds at that time expired before the new row
            # takes it: the engine already offers it (it reads the clock), but
            # PostgreSQL's exclusion constraint sees a pending row until then.
            Session.objects.lapsed_holds(now).filter(pk__in=read.lapsed).update(
                status=Session.Status.EXPIRED
            )
        session = _new_session(read.mentor, mentee, session_type, start, end, topic, now, hold)
        kind = outbox.Kind.HOLD if hold else outbox.Kind.CONFIRMATION
        ids = insert_booking(read, session, outbox.rows([session], kind))
        if ids is not None:
            break
    else:
        raise SlotTaken()
    outbox.enqueue_on_commit(ids)
    if not hold and read.has_calendar:
        calendar_sync.push_on_commit(session)
    times_changed()  # the time is no longer offered
    return session


def _new_session(mentor, mentee, session_type, start, end, topic, now, hold) -> Session:
    session = Session(
        mentor=mentor,
        mentee=mentee,
        session_type=session_type,
        title=session_type.name,
        duration_minutes=session_type.duration_minutes,
        start=start,
        end=end,
        status=Session.Status.PENDING if hold else Session.Status.UPCOMING,
        hold_expires_at=now + timedelta(minutes=settings.BOOKING_HOLD_MINUTES) if hold else None,
        topic=topic,
        ical_revised_at=now,
    )
    meeting = meeting_provider().create(session=session)
    session.meeting_id, session.meeting_url = meeting.meeting_id, meeting.url
    # Field values only: the database holds the constraints (and a unique
    # check on a fresh UUID would cost a query for nothing).
    session.clean_fields(exclude=["mentor", "mentee", "session_type"])
    return session


def reschedule_session(
    *, session: Session, by: User, start: datetime, now: datetime | None = None
) -> Session:
    """Move ``session`` to ``start`` for its mentee, in one transaction.

    The old session is cancelled (recorded as rescheduled by ``by``) and a new
    one is booked with the same mentor, type, length, topic and meeting link;
    it points back with ``rescheduled_from`` and keeps the calendar UID with a
    higher SEQUENCE, so calendars move the event. The session's own time is
    free to move into (a later start overlapping the current one is fine).
    Mentees reschedule up to the mentor's cancellation cutoff; a mentor cancels
    instead. Raises ``BookingRefused``/``SlotTaken`` and changes nothing when
    the move is not possible.
    """
    _check_start(start)
    return _conflicts_become_slot_taken(lambda: _reschedule(session, by, start, now))


def _reschedule(session, by, start, now) -> Session:
    # The mentee's row first, as a booking locks it (``lock_and_read_booking``).
    mentee = _locked_mentee(by)
    locked = _lock_mentor(session.mentor_id, by)
    mentor = locked.mentor
    old = (
        Session.objects.select_for_update(of=("self",)).select_related("mentee").get(pk=session.pk)
    )
    now = now or timezone.now()
    old.mentor = mentor  # the rule reads the cutoff and the pause from the locked row
    refusal = reschedule_refusal(old, by, now)
    if refusal:
        raise BookingRefused(refusal)
    # About the requested time, not about who may move the session.
    if start == old.start:
        raise BookingRefused("That is the session's current time. Please pick another one.")
    end = _check_offered(mentor, old.duration_minutes, start, now, ignoring=old.pk)
    _check_limits_and_overlaps(
        mentee, mentor, start, end, now, own_mentor_id=locked.own_mentor_id, ignoring=old.pk
    )
    _release_lapsed_holds(mentor.pk, start, end, now)
    # Cancel first: the new row may overlap the old time (exclusion constraint).
    # The old row's event revision stays: the move (a higher SEQUENCE on the
    # same UID) supersedes it, and no cancellation of it is sent.
    old.status = Session.Status.CANCELLED
    old.cancelled_at = now
    old.cancelled_by = by
    old.cancellation_reason = "Rescheduled by the mentee."
    old.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancellation_reason"])
    moved = Session.objects.create(
        mentor=mentor,
        mentee=mentee,
        session_type=old.session_type,
        title=old.title,
        duration_minutes=old.duration_minutes,
        start=start,
        end=end,
        status=Session.Status.UPCOMING,
        topic=old.topic,
        meeting_id=old.meeting_id,
        meeting_url=old.meeting_url,
        rescheduled_from=old,
        ical_uid=old.ical_uid,
        ical_sequence=old.ical_sequence + 1,
        ical_revised_at=now,
    )
    # One message per side, with the invite that moves the calendar event (the
    # same UID, a higher SEQUENCE). No cancellation for the old row: a CANCEL
    # with that UID would remove the moved event from calendars.
    outbox.notify(moved, outbox.Kind.RESCHEDULE, fresh=True)
    if locked.has_calendar:
        calendar_sync.push_on_commit(moved)
    times_changed()  # one time freed, another taken
    return moved


REASON_MAX_LENGTH = 1000


def cancel_session(*, session: Session, by: User, reason: str = "", now=None) -> Session:
    """Cancel ``session`` on behalf of ``by`` (its mentor, its mentee or staff).

    Mentors and staff may always cancel before the start; mentees only up to the mentor's
    cutoff (``cancellation_cutoff_hours``) before the start. Who, when and why
    are recorded and the time is offered again at once. Raises BookingRefused
    (and changes nothing) when that is not allowed.
    """
    reason = _clean_text(reason, what="reason", max_length=REASON_MAX_LENGTH)
    with transaction.atomic():
        locked = (
            Session.objects.select_for_update()
            .select_related("mentor", "mentee")
            .annotate(has_calendar=Exists(calendar_sync.target_connections(OuterRef("mentor_id"))))
            .get(pk=session.pk)
        )
        now = now or timezone.now()
        refusal = cancel_refusal(locked, by, now)
        if refusal:
            raise BookingRefused(refusal)
        locked.status = Session.Status.CANCELLED
        locked.cancelled_at = now
        locked.cancelled_by = by
        locked.cancellation_reason = reason
        # A cancellation is a revision of the event: calendars act on a CANCEL
        # only when it is newer than the invite they hold (RFC 5546).
        locked.ical_sequence += 1
        locked.ical_revised_at = now
        locked.save(
            update_fields=[
                "status",
                "cancelled_at",
                "cancelled_by",
                "cancellation_reason",
                "ical_sequence",
                "ical_revised_at",
            ]
        )
        outbox.notify(locked, outbox.Kind.CANCELLATION)
        if locked.has_calendar:
            calendar_sync.push_on_commit(locked)
        times_changed()  # the time is offered again
    return locked
