"""An in-memory calendar for the provider-independent sync tests, and a
factory for connections.

The fake implements ``scheduling.calendars.base.CalendarClient``; tests put
it in place with ``monkeypatch.setattr("scheduling.calendars.sync.client_for",
…)``. The providers themselves are tested against real servers (Radicale, a
local fake of Google's HTTP API); this one is for the rules that sit above
them: which rows a sync replaces, which events a push writes, what an error
does to the connection.
"""

from dataclasses import dataclass, field

import factory
from django.db import connection as database

from mentorship.tests.factories import MentorProfileFactory
from scheduling.calendars import CalendarInfo
from scheduling.models import CalendarConnection

SECRET_FIELDS = ("caldav_password", "access_token", "refresh_token")


def stored_secrets(connection) -> dict[str, str]:
    """The secret columns of ``connection`` exactly as the database holds them
    (raw SQL: what a dump, a replica or a stolen backup would show)."""
    table = CalendarConnection._meta.db_table
    pk = CalendarConnection._meta.pk.get_db_prep_value(connection.pk, database)
    with database.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(SECRET_FIELDS)} FROM {table} WHERE id = %s",  # noqa: S608
            [pk],
        )
        row = cursor.fetchone()
    return dict(zip(SECRET_FIELDS, row, strict=True))


class CalendarConnectionFactory(factory.django.DjangoModelFactory):
    """An active CalDAV connection with one busy calendar that also receives
    sessions; ``google=True`` for a Google one."""

    class Meta:
        model = CalendarConnection

    mentor = factory.SubFactory(MentorProfileFactory)
    provider = CalendarConnection.Provider.CALDAV
    account = factory.Sequence(lambda number: f"mentor{number}@calendar.example.com")
    caldav_url = "https://calendar.example.com/dav/"
    caldav_username = factory.LazyAttribute(lambda row: row.account)
    caldav_password = factory.Sequence(lambda number: f"app-password-{number}")
    busy_calendars = factory.LazyFunction(lambda: ["https://calendar.example.com/dav/work/"])
    target_calendar = "https://calendar.example.com/dav/work/"

    class Params:
        # ``google=True``: a Google connection, with OAuth tokens instead of
        # CalDAV credentials.
        google = factory.Trait(
            provider=CalendarConnection.Provider.GOOGLE,
            caldav_url="",
            caldav_username="",
            caldav_password="",
            access_token=factory.Sequence(lambda number: f"ya29.access-token-{number}"),
            refresh_token=factory.Sequence(lambda number: f"1//refresh-token-{number}"),
        )


@dataclass
class PutEvent:
    calendar_id: str
    event_id: str
    session_id: object
    start: object
    end: object
    sequence: int


@dataclass
class FakeCalendarClient:
    """One account's calendars in memory. ``busy`` is what ``busy_times``
    answers; ``error`` (an exception instance) is raised by every call."""

    busy: list = field(default_factory=list)
    error: Exception | None = None
    events: dict = field(default_factory=dict)  # (calendar, event id) -> PutEvent
    puts: list = field(default_factory=list)
    deletes: list = field(default_factory=list)
    busy_requests: list = field(default_factory=list)

    def _fail(self):
        if self.error is not None:
            raise self.error

    def list_calendars(self):
        self._fail()
        return [CalendarInfo(id="https://calendar.example.com/dav/work/", name="Work")]

    def busy_times(self, calendar_ids, start, end):
        self._fail()
        self.busy_requests.append((list(calendar_ids), start, end))
        return [(busy_start, busy_end) for busy_start, busy_end in self.busy if busy_end > start]

    def put_event(self, calendar_id, *, event_id, session):
        self._fail()
        event = PutEvent(
            calendar_id, event_id, session.pk, session.start, session.end, session.ical_sequence
        )
        self.puts.append(event)
        self.events[(calendar_id, event_id)] = event
        return f'"etag-{len(self.puts)}"'

    def delete_event(self, calendar_id, *, event_id):
        self._fail()
        self.deletes.append((calendar_id, event_id))
        self.events.pop((calendar_id, event_id), None)


def use_fake_clients(monkeypatch, *clients_by_connection) -> dict:
    """Make ``calendar_sync`` use fakes: one per connection id, made on first use.
    Returns that mapping (connection id -> FakeCalendarClient)."""
    clients: dict = dict(clients_by_connection)

    def client_for(connection):
        return clients.setdefault(connection.pk, FakeCalendarClient())

    monkeypatch.setattr("scheduling.calendars.sync.client_for", client_for)
    return clients
