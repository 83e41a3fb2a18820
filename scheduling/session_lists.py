"""The lists of ``/sessions/``: upcoming, past, cancelled — a page at a time.

A user can have thousands of sessions (a busy mentor), so a list never loads
them all: each page is read by keyset (``start`` and ``id`` past the last row
shown, the *cursor*), in a branch per role the user has, each walking an
index on (mentor or mentee, start) from the cursor and stopping after one
page plus a row (which says whether there is more). A branch per role, not
one ``mentor = … OR mentee = …``: PostgreSQL answers such an OR by reading
every session of the user and sorting them, which is what made this page
grow with the history. The branches of every list shown are one statement
(``_pages_sql``), the same text for every user, that psycopg prepares: the
page costs one round trip and, once a connection has run it a few times, no
planning. The roles' rows are merged here.

Which list a session is in reads the clock, like its status on every page
(``Session.status_at``): a session whose end has passed is past even if the
periodic task has not yet marked it completed, and a no-show is past from the
moment it is marked.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.db import connection

from accounts.models import User
from mentorship.models import MenteeProfile, MentorProfile

from .models import SESSION_MAX_MINUTES, Session
from .slots import compact, db_time, db_uuid, prepared_cursor

# Rows of each list on the overview: what is coming first, a glimpse of the
# history. "Show more" then brings MORE_SIZE rows at a time.
PAGE_SIZES = {"upcoming": 10, "past": 5, "cancelled": 3}
MORE_SIZE = 20
LISTS = tuple(PAGE_SIZES)
# Newest first, except what is still to come: soonest first.
NEWEST_FIRST = {"upcoming": False, "past": True, "cancelled": True}
# The reverse one-to-one caches a row fills: its review, the session its move made.
REVIEW = Session._meta.get_field("review")
MOVED = Session._meta.get_field("rescheduled_to")
PROFILES = {"mentor": MentorProfile, "mentee": MenteeProfile}

_CURSOR = re.compile(r"^(\d{8}T\d{6}\.\d{6})Z_([0-9a-f]{32})$")


@dataclass(frozen=True)
class Cursor:
    """The last row of a page: the next page starts after it."""

    start: datetime
    pk: uuid.UUID

    def __str__(self) -> str:
        return f"{self.start.astimezone(UTC):%Y%m%dT%H%M%S.%f}Z_{self.pk.hex}"

    @classmethod
    def parse(cls, text: str) -> "Cursor | None":
        """The cursor in ``text``, or None for anything else (the first page)."""
        match = _CURSOR.match(text or "")
        if match is None:
            return None
        try:
            start = datetime.strptime(match[1], "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC)
        except ValueError:
            return None
        return cls(start=start, pk=uuid.UUID(match[2]))


@dataclass
class SessionPage:
    """One page of one list: its rows and, when there are more, the cursor
    of the next page."""

    name: str
    sessions: list[Session]
    next_cursor: Cursor | None
    first: bool

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


# Each list's condition on a session ``s`` (statuses written into the SQL, so
# that PostgreSQL matches the partial index of cancelled sessions), each also
# bounding the index walk on ``start``. Holds (pending, expired) are never
# listed: they are not sessions until confirmed.
LIST_CONDITIONS = {
    # Not over: the end is still to come. No session is longer than
    # SESSION_MAX_MINUTES, so none that started earlier can be: that bound lets
    # the index skip the history.
    "upcoming": """s.status IN ('upcoming', 'active', 'completed')
        AND s."end" > %(now)s AND s.start > %(since)s""",
    # Over by the clock, or a no-show (marked only after the start).
    "past": """s.status IN ('upcoming', 'active', 'completed', 'no_show')
        AND (s."end" <= %(now)s OR s.status = 'no_show') AND s.start <= %(now)s""",
    "cancelled": "s.status = 'cancelled'",
}
ROLES = (("mentor", "mentee"), ("mentee", "mentor"))
NULLS = {
    "postgresql": {"uuid": "NULL::uuid", "int": "NULL::smallint", "time": "NULL::timestamptz"},
    "sqlite": {"uuid": "NULL", "int": "NULL", "time": "NULL"},
}


@lru_cache(maxsize=64)
def _pages_sql(vendor: str, names: tuple, roles: tuple, after: bool, size: int | None) -> str:
    """One statement for the pages of lists ``names`` of a user with the
    profiles ``roles`` ("mentor", "mentee"): a branch per list and role, each
    an index walk that stops after its page plus one row. The same text for
    every user (ids, clock and cursor are parameters), so psycopg prepares it
    and PostgreSQL plans it once per connection."""
    review = Session._meta.get_field("review").related_model._meta.db_table
    branches = []
    for name in names:
        newest_first = NEWEST_FIRST[name]
        direction, compare = ("DESC", "<") if newest_first else ("ASC", ">")
        keyset = (
            f" AND (s.start {compare} %(after_start)s"
            f" OR (s.start = %(after_start)s AND s.id {compare} %(after_id)s))"
            if after
            else ""
        )
        limit = (size or PAGE_SIZES[name]) + 1
        # Only past rows show a review, only cancelled ones a move: other
        # branches join neither (planning costs by the join), and give typed
        # NULLs so that the branches' columns agree.
        null = NULLS[vendor]
        if name == "past":
            joined = f"LEFT JOIN {review} r ON r.session_id = s.id"
            extra = f"r.id, r.rating, {null['uuid']}, {null['time']}"
        elif name == "cancelled":
            joined = "LEFT JOIN scheduling_session m ON m.rescheduled_from_id = s.id"
            extra = f"{null['uuid']}, {null['int']}, m.id, m.start"
        else:
            joined = ""
            extra = f"{null['uuid']}, {null['int']}, {null['uuid']}, {null['time']}"
        for own, other in roles:
            # The page's rows first (an index walk that stops), then the
            # joins for those rows only, whatever plan the walk gets.
            branches.append(
                f"""SELECT '{name}' AS list, '{own}' AS role, s.id, s.mentor_id, s.mentee_id,
                        s.title, s.start, s."end", s.status, s.hold_expires_at,
                        ou.id AS other_user_id, ou.name AS other_name, {extra}
                    FROM (
                        SELECT s.id, s.mentor_id, s.mentee_id, s.title, s.start, s."end",
                            s.status, s.hold_expires_at
                        FROM scheduling_session s
                        WHERE s.{own}_id = %({own})s AND {LIST_CONDITIONS[name]}{keyset}
                        ORDER BY s.start {direction}, s.id {direction}
                        LIMIT {limit}) AS s
                    JOIN mentorship_{other}profile op ON op.id = s.{other}_id
                    JOIN accounts_user ou ON ou.id = op.user_id {joined}"""  # noqa: S608
            )
    return compact(" UNION ALL ".join(branches))


def _uuid(value):
    """A UUID from the database (PostgreSQL gives one, SQLite its hex)."""
    return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(value)


def _time(value):
    """An aware UTC datetime from the database (SQLite gives its text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _loaded(model, **values):
    """A ``model`` instance as if loaded from the database with only
    ``values`` (attribute names): its other fields are deferred, so reading
    one would query, never silently give a default."""
    fields = [field.attname for field in model._meta.concrete_fields if field.attname in values]
    return model.from_db(connection.alias, fields, [values[name] for name in fields])


def _session(row, user) -> tuple[str, Session]:
    """A row of ``_pages_sql`` as a ``Session`` with what a list row reads
    already in place: both profiles with their user ids (the other person's
    user with their name), the review (past sessions) and the session a move
    made (cancelled ones) — so reading them costs no query."""
    (name, own, pk, mentor_id, mentee_id, title, start, end, status, hold_expires_at,
     other_user_id, other_name, review_id, rating, moved_id, moved_start) = row  # fmt: skip
    session = _loaded(
        Session,
        id=_uuid(pk),
        mentor_id=_uuid(mentor_id),
        mentee_id=_uuid(mentee_id),
        title=title,
        start=_time(start),
        end=_time(end),
        status=status,
        hold_expires_at=_time(hold_expires_at),
    )
    other = "mentee" if own == "mentor" else "mentor"
    own_profile = _loaded(PROFILES[own], id=getattr(session, f"{own}_id"), user_id=user.pk)
    own_profile.user = user
    other_user_id = _uuid(other_user_id)
    other_profile = _loaded(
        PROFILES[other], id=getattr(session, f"{other}_id"), user_id=other_user_id
    )
    other_profile.user = _loaded(User, id=other_user_id, name=other_name)
    setattr(session, own, own_profile)
    setattr(session, other, other_profile)
    review = None
    if review_id is not None:
        review = _loaded(
            REVIEW.related_model, id=_uuid(review_id), session_id=session.pk, rating=rating
        )
    REVIEW.set_cached_value(session, review)
    moved = None
    if moved_id is not None:
        moved = _loaded(
            Session, id=_uuid(moved_id), start=_time(moved_start), rescheduled_from_id=session.pk
        )
    MOVED.set_cached_value(session, moved)
    return name, session


def session_pages(
    *,
    names: tuple[str, ...] = LISTS,
    user,
    mentor_id,
    mentee_id,
    now: datetime,
    cursor: Cursor | None = None,
    size: int | None = None,
) -> dict[str, SessionPage]:
    """A page of each list in ``names`` — ``size`` rows (the overview's
    numbers unless told) after ``cursor`` (None: from the start) — of
    ``user``, whose mentor and mentee profiles are ``mentor_id`` and
    ``mentee_id`` (either may be None). One statement, however many sessions
    there are and however many lists are asked for."""
    ids = {"mentor": mentor_id, "mentee": mentee_id}
    roles = tuple(role for role in ROLES if ids[role[0]] is not None)
    pages = {name: [] for name in names}
    if roles:
        params = {
            "now": db_time(connection, now),
            "since": db_time(connection, now - timedelta(minutes=SESSION_MAX_MINUTES)),
            **{own: db_uuid(connection, ids[own]) for own, _other in roles},
        }
        if cursor is not None:
            params["after_start"] = db_time(connection, cursor.start)
            params["after_id"] = db_uuid(connection, cursor.pk)
        sql = _pages_sql(connection.vendor, names, roles, cursor is not None, size)
        with prepared_cursor(connection) as db:
            db.execute(sql, params)
            for row in db.fetchall():
                name, session = _session(row, user)
                pages[name].append(session)
    return {name: _page(name, rows, cursor, size) for name, rows in pages.items()}


def _page(name: str, rows: list[Session], cursor, size) -> SessionPage:
    """The rows of both roles merged in the list's order, cut to its page."""
    size = size or PAGE_SIZES[name]
    rows.sort(key=lambda session: (session.start, session.pk), reverse=NEWEST_FIRST[name])
    more = len(rows) > size
    rows = rows[:size]
    return SessionPage(
        name=name,
        sessions=rows,
        next_cursor=Cursor(rows[-1].start, rows[-1].pk) if more else None,
        first=cursor is None,
    )
