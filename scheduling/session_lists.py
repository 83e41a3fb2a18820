"""The lists of ``/sessions/``: upcoming, past, cancelled — a page at a time.

A user can have thousands of sessions (a busy mentor), so a list never loads
them all: each page is read by keyset (``start`` and ``id`` past the last row
shown, the *cursor*), one query per role the user has, each walking an index
on (mentor or mentee, start) from the cursor and stopping after one page.
Two queries per role, not one with ``mentor = … OR mentee = …``: PostgreSQL
answers such an OR by reading every session of the user and sorting them,
which is what made this page grow with the history. The two pages are
merged here; a row past the page says whether there is more.

Which list a session is in reads the clock, like its status on every page
(``Session.status_at``): a session whose end has passed is past even if the
periodic task has not yet marked it completed, and a no-show is past from the
moment it is marked.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from heapq import merge
from itertools import islice

from django.db.models import Q, QuerySet

from .models import SESSION_MAX_MINUTES, Session

# Rows of each list on the overview: what is coming first, a glimpse of the
# history. "Show more" then brings MORE_SIZE rows at a time.
PAGE_SIZES = {"upcoming": 10, "past": 5, "cancelled": 3}
MORE_SIZE = 20
LISTS = tuple(PAGE_SIZES)
# Newest first, except what is still to come: soonest first.
NEWEST_FIRST = {"upcoming": False, "past": True, "cancelled": True}
RIDES_ALONG = {"upcoming": (), "past": ("review",), "cancelled": ("rescheduled_to",)}
# What a row reads of a session (``Session.status_at`` included), and of what
# rides along.
ROW_FIELDS = ("mentor_id", "mentee_id", "title", "start", "end", "status", "hold_expires_at")
RIDE_FIELDS = {
    "upcoming": (),
    "past": ("review__rating", "review__session_id"),
    "cancelled": ("rescheduled_to__start", "rescheduled_to__rescheduled_from_id"),
}

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


def _in_list(sessions: QuerySet, name: str, now: datetime) -> QuerySet:
    """``sessions`` narrowed to list ``name``, each filter also bounding the
    index walk on ``start``."""
    sessions = sessions.booked()
    if name == "cancelled":
        return sessions.filter(status=Session.Status.CANCELLED)
    live = sessions.exclude(status=Session.Status.CANCELLED)
    if name == "upcoming":
        # Not over: the end is still to come. No session is longer than
        # SESSION_MAX_MINUTES, so none that started earlier can be: that bound
        # lets the index skip the history.
        return live.exclude(status=Session.Status.NO_SHOW).filter(
            end__gt=now, start__gt=now - timedelta(minutes=SESSION_MAX_MINUTES)
        )
    # Past: over by the clock, or a no-show (marked only after the start).
    return live.filter(Q(end__lte=now) | Q(status=Session.Status.NO_SHOW), start__lte=now)


def _after(cursor: Cursor, newest_first: bool) -> Q:
    if newest_first:
        return Q(start__lt=cursor.start) | Q(start=cursor.start, pk__lt=cursor.pk)
    return Q(start__gt=cursor.start) | Q(start=cursor.start, pk__gt=cursor.pk)


def session_page(
    *,
    name: str,
    mentor_id: int | None,
    mentee_id: int | None,
    now: datetime,
    cursor: Cursor | None = None,
    size: int | None = None,
) -> SessionPage:
    """``size`` rows (the overview's number unless told) of list ``name``
    after ``cursor`` (None: from the start), of the user whose mentor and
    mentee profiles are ``mentor_id`` and ``mentee_id`` (either may be None):
    one query per profile, however many sessions there are."""
    size = size or PAGE_SIZES[name]
    newest_first = NEWEST_FIRST[name]
    order = ("-start", "-id") if newest_first else ("start", "id")
    base = _in_list(Session.objects.all(), name, now)
    if cursor is not None:
        base = base.filter(_after(cursor, newest_first))
    # What a row shows rides along: the other person with their name, the
    # user's own profile (its user id says which side they are on), past
    # sessions' reviews (the review prompt), cancelled ones' moves ("Moved
    # to"). No more joins than that: planning a query costs by its joins.
    # Only the columns a row shows: building the SQL and the objects costs by
    # the column. (A row reading another field would cost a query per row:
    # the query-count tests would see it.)
    base = base.select_related(*RIDES_ALONG[name])
    fields = (*ROW_FIELDS, *RIDE_FIELDS[name])
    pages = [
        list(
            base.filter(**{f"{own}_id": pk})
            .select_related(own, f"{other}__user")
            .only(*fields, f"{own}__user_id", f"{other}__user__name")
            .order_by(*order)[: size + 1]
        )
        for own, other, pk in (("mentor", "mentee", mentor_id), ("mentee", "mentor", mentee_id))
        if pk is not None
    ]

    def key(session: Session):
        return (session.start, session.pk)

    rows = list(islice(merge(*pages, key=key, reverse=newest_first), size + 1))
    more = len(rows) > size
    rows = rows[:size]
    return SessionPage(
        name=name,
        sessions=rows,
        next_cursor=Cursor(rows[-1].start, rows[-1].pk) if more else None,
        first=cursor is None,
    )
