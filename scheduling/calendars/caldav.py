"""CalDAV (RFC 4791): iCloud, Fastmail, Nextcloud, Radicale and the like.

The client speaks WebDAV itself over ``requests``, with the account's user
name and app password (HTTP Basic):

* **Discovery.** The address the mentor gives may be a calendar, a calendar
  home, a principal or just the server; ``/.well-known/caldav`` (RFC 6764) is
  tried next. current-user-principal → calendar-home-set → the calendars in it.
  A calendar's id is its absolute URL.
* **Busy times.** A calendar-query REPORT with a time-range filter returns the
  events that touch the window; recurring ones are expanded *here*
  (``recurring-ical-events``) rather than with the server's ``expand``, whose
  support differs from server to server: one behaviour everywhere. Cancelled
  (``STATUS:CANCELLED``) and free (``TRANSP:TRANSPARENT``) events do not count.
  Times with a TZID or in UTC are converted exactly; floating times and all-day
  events are read in the mentor's own time zone (an all-day event blocks that
  whole day, midnight to midnight where the mentor lives).
* **Events.** ``PUT <calendar>/<event id>.ics`` (no METHOD, no ORGANIZER or
  ATTENDEE: see ``event_resource``), ``DELETE`` it. When the calendar already
  holds the same UID under another name (the mentor's mail app filed our
  emailed invitation there), that resource is updated or deleted instead.

Addresses are checked before every request, each redirect target included
(``check_server_url``): https only, and never a private, loopback or
link-local address — the server must not become a way into our own network.
The address each new connection actually reached is checked again
(``GuardedAdapter``), so a DNS answer that changes after the first check
(DNS rebinding) is refused too. Loopback over plain http is allowed in
development and tests (``DEBUG`` or ``CALDAV_ALLOW_LOCAL_HTTP``).

Every request has a timeout, and no answer may be larger than
``MAX_RESPONSE_BYTES`` (read in chunks, refused before it is all in memory).
Errors are the three of ``base`` with plain words (429 and 5xx temporary,
with the server's ``Retry-After``); the password never appears in a message
or a log line.

**Why not python-caldav** (the library DESIGN first named; read for this
decision: caldav 3.6.0 with niquests 3.21 and urllib3-future 2.25, December
2026; see README "Calendar connections"). ``DAVClient.__init__`` builds its
own ``niquests.Session`` and ``DAVClient._sync_request`` sends with redirects
followed inside niquests and the body read whole, so the check per redirect
and the size cap would mean swapping ``client.session`` for a subclass that
overrides ``send`` and sets the private ``Response._content``. It turns every
403 into ``AuthorizationError`` (a refused write and ``put_event``'s
``no-uid-conflict`` are no credentials problem) and other failures into
``DAVError`` strings quoting the URL, to be mapped again. ``search.Searcher``
picks the server's ``expand`` or its own by the server's profile in
``compatibility_hints``; busy times need our rules anyway (transparent,
cancelled, floating and all-day events in the mentor's zone). And it brings a
second HTTP stack (niquests; urllib3-future installs itself as the
``urllib3`` that ``requests`` uses) with lxml, dnspython and PyYAML, to save
about 150 lines of WebDAV XML. So the client stays ours.
"""

import ipaddress
import logging
import socket
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote, unquote, urljoin, urlsplit
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import recurring_ical_events
import requests
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree
from django.conf import settings
from django.db import transaction
from django.views.decorators.debug import sensitive_variables
from icalendar import Calendar
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .base import (
    CalendarAuthError,
    CalendarError,
    CalendarInfo,
    CalendarTemporaryError,
    retry_after_seconds,
)

logger = logging.getLogger(__name__)

TIMEOUT = 10  # seconds to connect, and between two bytes of an answer
MAX_RESPONSE_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "Mentorship-CalDAV/1.0"

DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"

AUTH_MESSAGE = (
    "The CalDAV server refused the user name or app password. Reconnect with a new app password."
)
NOTHING_FOUND_MESSAGE = (
    "No calendars were found at that address. Check the server address in your "
    "provider's help pages (for example https://caldav.fastmail.com/ or "
    "https://caldav.icloud.com/)."
)


# --- Addresses -------------------------------------------------------------------


def local_http_allowed() -> bool:
    """Whether loopback addresses (and plain http to them) may be used: in
    development and in tests only."""
    return bool(settings.DEBUG or getattr(settings, "CALDAV_ALLOW_LOCAL_HTTP", False))


def check_url_form(url: str) -> None:
    """The checks that need no network: an http(s) address with a host, no
    credentials in it, and https unless it names this machine where allowed.
    Raises ``CalendarError`` with words for the form."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        raise CalendarError("Enter a valid address, such as https://caldav.example.com/.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CalendarError("Enter a valid address, such as https://caldav.example.com/.")
    if parts.username is not None or parts.password is not None:
        raise CalendarError(
            "Leave the user name and password out of the address: they have their own boxes."
        )
    if parts.scheme == "http" and not (
        local_http_allowed() and parts.hostname in ("localhost", "127.0.0.1", "::1")
    ):
        raise CalendarError(
            "Use the https:// address of your calendar server: your password must "
            "not travel unencrypted."
        )


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address from a socket, without an IPv6 zone, IPv4-mapped ones as IPv4."""
    address = ipaddress.ip_address(str(text).split("%", 1)[0])
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _private_network(host: str) -> CalendarError:
    return CalendarError(
        f"{host} is inside a private network that this site cannot reach. "
        "Use your calendar provider's public address."
    )


def check_server_url(url: str) -> None:
    """Refuse an address this server must not call. Resolves the host: every
    address it has must be public (loopback allowed where
    ``local_http_allowed``). The name is resolved again when connecting:
    ``GuardedAdapter`` checks the address reached then."""
    check_url_form(url)
    parts = urlsplit(url)
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except socket.gaierror as error:
        if error.errno == socket.EAI_AGAIN:
            raise CalendarTemporaryError(
                f"The name {host} could not be looked up just now."
            ) from None
        raise CalendarError(f"No server answers to the name {host}: check the address.") from None
    addresses = {_ip(info[4][0]) for info in infos}
    if local_http_allowed() and all(address.is_loopback for address in addresses):
        return
    if not addresses or not all(address.is_global for address in addresses):
        raise _private_network(host)


class _CheckedConnection:
    """Checks the address a new connection reached (the name was resolved
    again to open it): public, or loopback where ``local_http_allowed``."""

    def _new_conn(self):
        sock = super()._new_conn()
        try:
            address = _ip(sock.getpeername()[0])
        except (OSError, ValueError):
            address = None
        if address is None or not (
            address.is_global or (address.is_loopback and local_http_allowed())
        ):
            sock.close()
            raise _private_network(self.host)  # not an OSError: urllib3 lets it through
        return sock


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = type("CheckedHTTPConnection", (_CheckedConnection, HTTPConnection), {})


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = type("CheckedHTTPSConnection", (_CheckedConnection, HTTPSConnection), {})


class GuardedAdapter(requests.adapters.HTTPAdapter):
    """Direct connections that check the address they reached (see
    ``_CheckedConnection``). Through a proxy (``HTTPS_PROXY``), the proxy
    resolves the name and only ``check_server_url`` applies."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


# --- HTTP --------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    headers: requests.structures.CaseInsensitiveDict
    content: bytes
    url: str  # after redirects


def _read_limited(response: requests.Response) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=64 * 1024):
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise CalendarError("The CalDAV server sent more data than we accept in one answer.")
        chunks.append(chunk)
    return b"".join(chunks)


def _propfind_body(*properties: str) -> bytes:
    names = "".join(f"<{name}/>" for name in properties)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
        f"<d:prop>{names}</d:prop></d:propfind>"
    ).encode()


DISCOVERY_PROPERTIES = (
    "d:resourcetype",
    "d:displayname",
    "d:current-user-principal",
    "c:calendar-home-set",
    "c:supported-calendar-component-set",
    "d:current-user-privilege-set",
)
CALENDAR_PROPERTIES = (
    "d:resourcetype",
    "d:displayname",
    "c:supported-calendar-component-set",
    "d:current-user-privilege-set",
)
# Statuses that mean "no WebDAV resource here" while looking for calendars.
NOT_DAV = (400, 404, 405, 501)


def _query_body(filter_xml: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
        "<d:prop><d:getetag/><c:calendar-data/></d:prop>"
        '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
        f"{filter_xml}"
        "</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"
    ).encode()


def _utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _key(url: str) -> str:
    """A URL compared loosely: host and decoded path, without a trailing slash."""
    parts = urlsplit(url)
    return f"{parts.netloc.lower()}{unquote(parts.path).rstrip('/')}"


def _multistatus(content: bytes, base_url: str) -> dict[str, dict[str, Element]]:
    """{absolute href: {property tag: element}} of a 207 answer, properties
    found (200) only."""
    try:
        root = SafeElementTree.fromstring(content)
    except (SafeElementTree.ParseError, DefusedXmlException):
        raise CalendarError("The CalDAV server sent an answer we could not read.") from None
    if root.tag != f"{DAV}multistatus":
        raise CalendarError("The CalDAV server sent an answer we could not read.")
    found: dict[str, dict[str, Element]] = {}
    for response in root.findall(f"{DAV}response"):
        href = (response.findtext(f"{DAV}href") or "").strip()
        if not href:
            continue
        properties = found.setdefault(urljoin(base_url, href), {})
        for propstat in response.findall(f"{DAV}propstat"):
            status = (propstat.findtext(f"{DAV}status") or "").split()
            prop = propstat.find(f"{DAV}prop")
            if len(status) >= 2 and status[1] == "200" and prop is not None:
                for element in prop:
                    properties[element.tag] = element
    return found


def _hrefs(element: Element | None, base_url: str) -> list[str]:
    if element is None:
        return []
    return [
        urljoin(base_url, href.text.strip())
        for href in element.findall(f"{DAV}href")
        if href.text and href.text.strip()
    ]


def _is_calendar(properties: dict[str, Element]) -> bool:
    resource_type = properties.get(f"{DAV}resourcetype")
    return resource_type is not None and resource_type.find(f"{CALDAV}calendar") is not None


def _calendar_info(url: str, properties: dict[str, Element]) -> CalendarInfo | None:
    """The calendar at ``url``, or None when it cannot hold events."""
    components = properties.get(f"{CALDAV}supported-calendar-component-set")
    if components is not None and len(components):
        names = {(comp.get("name") or "").upper() for comp in components}
        if "VEVENT" not in names:
            return None  # a task list
    name = (properties.get(f"{DAV}displayname", Element("x")).text or "").strip()
    if not name:
        name = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]) or url
    privileges = properties.get(f"{DAV}current-user-privilege-set")
    if privileges is None:
        writable = True  # not told: assume it is, a PUT will say otherwise
    else:
        granted = {
            child.tag for privilege in privileges.findall(f"{DAV}privilege") for child in privilege
        }
        writable = bool(granted & {f"{DAV}write", f"{DAV}write-content", f"{DAV}all", f"{DAV}bind"})
    return CalendarInfo(id=url, name=name, writable=writable)


# --- Busy times --------------------------------------------------------------------


def _to_utc(value: date | datetime, zone: ZoneInfo) -> datetime:
    """An iCalendar start or end as aware UTC: a date is midnight in ``zone``,
    a floating time is read in ``zone``."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(), tzinfo=zone)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def busy_intervals(
    calendar_data: str | bytes, start: datetime, end: datetime, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The busy (start, end) in UTC of one calendar object's events, recurring
    ones expanded, that overlap [start, end). Cancelled and free (transparent)
    events are left out; see the module docstring for all-day and floating
    times. Raises ValueError for data that is not iCalendar."""
    calendar = Calendar.from_ical(calendar_data)
    # A day more on each side: floating and all-day events are placed by the
    # library before we know their zone.
    occurrences = recurring_ical_events.of(calendar, skip_bad_series=True).between(
        start - timedelta(days=1), end + timedelta(days=1)
    )
    busy = []
    for event in occurrences:
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        try:
            begins, ends = _to_utc(event.start, zone), _to_utc(event.end, zone)
        except (KeyError, ValueError, TypeError, AttributeError):
            continue  # no usable DTSTART: nothing to block
        if ends > begins and ends > start and begins < end:
            busy.append((begins, ends))
    return busy


# --- Events ------------------------------------------------------------------------


def event_resource(session) -> bytes:
    """The session as a calendar object to store (a VCALENDAR without METHOD).

    Without ORGANIZER and ATTENDEE: a server that does scheduling (RFC 6638:
    iCloud, Fastmail, Nextcloud) would otherwise email its own invitation to the
    mentee on top of ours, and a cancellation on top of ours. The summary still
    names both people; the meeting link is in the URL, location and description.
    """
    from scheduling.notifications.ics import session_calendar

    calendar = Calendar.from_ical(session_calendar(session, method=None))
    for event in calendar.walk("VEVENT"):
        for name in ("ORGANIZER", "ATTENDEE"):
            while name in event:
                del event[name]
    return calendar.to_ical()


def event_url(calendar_id: str, event_id: str) -> str:
    return f"{calendar_id.rstrip('/')}/{quote(event_id, safe='')}.ics"


def _is_uid_conflict(content: bytes) -> bool:
    return b"no-uid-conflict" in content


# --- The client --------------------------------------------------------------------


class CalDAVClient:
    """One CalDAV account (a ``CalendarConnection`` with provider "caldav")."""

    @sensitive_variables()  # tokens and passwords stay out of error reports
    def __init__(self, connection):
        self.connection = connection
        self.http = requests.Session()
        # UTF-8 bytes: requests would encode text as Latin-1 and fail on other letters.
        self.http.auth = requests.auth.HTTPBasicAuth(
            (connection.caldav_username or "").encode(), (connection.caldav_password or "").encode()
        )
        self.http.headers["User-Agent"] = USER_AGENT
        self.http.mount("https://", GuardedAdapter())
        self.http.mount("http://", GuardedAdapter())

    # -- HTTP

    @sensitive_variables()  # tokens and passwords stay out of error reports
    def _send(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        allow: tuple[int, ...] = (),
        follow_redirects: bool = False,
        writing: bool = False,
    ) -> Reply:
        """One request, with redirects followed only when asked (each target
        checked like the first). Returns 2xx answers and those in ``allow``;
        raises for the rest."""
        for _ in range(MAX_REDIRECTS + 1):
            check_server_url(url)
            host = urlsplit(url).hostname
            try:
                with self.http.request(
                    method,
                    url,
                    data=body,
                    headers=headers,
                    timeout=TIMEOUT,
                    allow_redirects=False,
                    stream=True,
                ) as response:
                    content = _read_limited(response)
            except requests.exceptions.SSLError:
                raise CalendarError(
                    f"The secure connection to {host} could not be verified (its certificate "
                    "is not valid)."
                ) from None
            except (requests.exceptions.Timeout, requests.exceptions.ConnectionError):
                raise CalendarTemporaryError(
                    f"The calendar server at {host} did not answer; we will try again."
                ) from None
            except requests.exceptions.RequestException:
                raise CalendarTemporaryError(
                    f"The answer of the calendar server at {host} was cut off; we will try again."
                ) from None
            status = response.status_code
            location = response.headers.get("Location")
            if follow_redirects and status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            if 200 <= status < 300 or status in allow:
                return Reply(status, response.headers, content, url)
            if status == 401 or (status == 403 and not writing):
                raise CalendarAuthError(AUTH_MESSAGE)
            if status == 429 or status >= 500:
                raise CalendarTemporaryError(
                    f"The calendar server at {host} is busy or failing (HTTP {status}); "
                    "we will try again.",
                    retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                )
            raise CalendarError(f"The calendar server at {host} refused a request (HTTP {status}).")
        raise CalendarError("The calendar server sent us round in circles (too many redirects).")

    def _propfind(
        self, url: str, properties: tuple[str, ...], *, depth: str
    ) -> tuple[str, dict[str, dict[str, Element]]] | None:
        """(final URL, multistatus) of a PROPFIND, or None when there is no
        WebDAV resource at ``url``."""
        reply = self._send(
            "PROPFIND",
            url,
            body=_propfind_body(*properties),
            headers={"Depth": depth, "Content-Type": "application/xml; charset=utf-8"},
            allow=NOT_DAV,
            follow_redirects=True,
        )
        if reply.status != 207:
            return None
        return reply.url, _multistatus(reply.content, reply.url)

    @staticmethod
    def _own(found: dict[str, dict[str, Element]], url: str) -> dict[str, Element]:
        """The properties of ``url`` itself in a multistatus."""
        for href, properties in found.items():
            if _key(href) == _key(url):
                return properties
        return next(iter(found.values())) if len(found) == 1 else {}

    def _report(self, calendar_id: str, filter_xml: str) -> Reply:
        return self._send(
            "REPORT",
            calendar_id,
            body=_query_body(filter_xml),
            headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
            allow=(404, 410),
        )

    # -- Discovery

    def list_calendars(self) -> list[CalendarInfo]:
        start = self.connection.caldav_url
        parts = urlsplit(start)
        well_known = f"{parts.scheme}://{parts.netloc}/.well-known/caldav"
        for candidate in dict.fromkeys([start, well_known]):
            calendars = self._calendars_at(candidate)
            if calendars:
                return sorted(calendars, key=lambda calendar: (calendar.name.lower(), calendar.id))
        raise CalendarError(NOTHING_FOUND_MESSAGE)

    def _calendars_at(self, url: str) -> list[CalendarInfo]:
        answer = self._propfind(url, DISCOVERY_PROPERTIES, depth="0")
        if answer is None:
            return []
        url, found = answer
        properties = self._own(found, url)
        if _is_calendar(properties):
            calendar = _calendar_info(url, properties)
            return [calendar] if calendar else []
        homes = _hrefs(properties.get(f"{CALDAV}calendar-home-set"), url)
        if not homes:
            for principal in _hrefs(properties.get(f"{DAV}current-user-principal"), url):
                if _key(principal) == _key(url):
                    continue
                answer = self._propfind(principal, ("c:calendar-home-set",), depth="0")
                if answer is not None:
                    principal_url, principal_found = answer
                    homes = _hrefs(
                        self._own(principal_found, principal_url).get(f"{CALDAV}calendar-home-set"),
                        principal_url,
                    )
        calendars: dict[str, CalendarInfo] = {}
        for home in homes or [url]:
            answer = self._propfind(home, CALENDAR_PROPERTIES, depth="1")
            if answer is None:
                continue
            _home_url, children = answer
            for href, child in children.items():
                if _is_calendar(child):
                    calendar = _calendar_info(href, child)
                    if calendar is not None:
                        calendars.setdefault(_key(href), calendar)
        return list(calendars.values())

    # -- Busy times

    def _mentor_zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.connection.mentor.user.timezone or "UTC")
        except (ValueError, LookupError):
            return ZoneInfo("UTC")

    def busy_times(
        self, calendar_ids: list[str], start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]]:
        zone = self._mentor_zone()
        # The server compares floating and all-day events in a zone of its own
        # choosing: ask a day wider, and cut exactly here.
        time_range = (
            f'<c:time-range start="{_utc_stamp(start - timedelta(days=1))}" '
            f'end="{_utc_stamp(end + timedelta(days=1))}"/>'
        )
        busy: set[tuple[datetime, datetime]] = set()
        for calendar_id in calendar_ids:
            reply = self._report(calendar_id, time_range)
            if reply.status in (404, 410):
                raise CalendarError(
                    "A calendar chosen to count as busy no longer exists: choose your "
                    "calendars again."
                )
            for href, properties in _multistatus(reply.content, reply.url).items():
                data = properties.get(f"{CALDAV}calendar-data")
                if data is None or not (data.text or "").strip():
                    continue
                try:
                    busy.update(busy_intervals(data.text, start, end, zone))
                except Exception:  # one unreadable event must not stop the others
                    logger.warning(
                        "Skipped an unreadable CalDAV event %s", urlsplit(href).path, exc_info=True
                    )
        return sorted(busy)

    # -- Events

    def _find_by_uid(self, calendar_id: str, event_id: str) -> list[str]:
        """URLs of the calendar's objects whose UID starts with ``event_id``."""
        reply = self._report(
            calendar_id,
            '<c:prop-filter name="UID"><c:text-match collation="i;octet">'
            f"{escape(event_id)}</c:text-match></c:prop-filter>",
        )
        if reply.status in (404, 410):
            return []
        urls = []
        for href, properties in _multistatus(reply.content, reply.url).items():
            data = properties.get(f"{CALDAV}calendar-data")
            try:
                uids = {
                    str(component.get("UID", ""))
                    for component in Calendar.from_ical(data.text).walk("VEVENT")
                }
            except (AttributeError, TypeError, ValueError):
                uids = set()  # unreadable: not one of ours
            if any(uid.startswith(event_id) for uid in uids):
                urls.append(href)
        return urls

    def put_event(self, calendar_id: str, *, event_id: str, session) -> str:
        body = event_resource(session)
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        url = event_url(calendar_id, event_id)
        reply = self._send(
            "PUT", url, body=body, headers=headers, allow=(403, 404, 409, 410), writing=True
        )
        if reply.status in (403, 409) and _is_uid_conflict(reply.content):
            # Our UID is already there under another name: that is our event
            # (an emailed invitation filed by the mentor's mail app). Update it.
            for existing in self._find_by_uid(calendar_id, event_id):
                if _key(existing) != _key(url):
                    reply = self._send(
                        "PUT",
                        existing,
                        body=body,
                        headers=headers,
                        allow=(403, 404, 410),
                        writing=True,
                    )
                    break
        # WebDAV answers 409 to a PUT into a collection that is gone.
        if reply.status in (404, 409, 410):
            raise CalendarError(
                "The calendar chosen to receive sessions no longer exists: choose another one."
            )
        if reply.status == 403:
            raise CalendarError(
                "The calendar chosen to receive sessions does not let this account add "
                "events: choose another one."
            )
        return reply.headers.get("ETag", "")

    def delete_event(self, calendar_id: str, *, event_id: str) -> None:
        url = event_url(calendar_id, event_id)
        reply = self._send("DELETE", url, allow=(403, 404, 410), writing=True)
        if reply.status in (404, 410):
            # Perhaps it lives under another name (see put_event).
            for existing in self._find_by_uid(calendar_id, event_id):
                reply = self._send("DELETE", existing, allow=(403, 404, 410), writing=True)
        if reply.status == 403:
            raise CalendarError(
                "The calendar that holds your sessions does not let this account remove events."
            )


# --- Connecting (the service behind the connect form) ---------------------------------


@sensitive_variables()  # tokens and passwords stay out of error reports
def connect_caldav(*, mentor, url: str, username: str, password: str):
    """Check the credentials by discovering the account's calendars, then save
    them on the mentor's one CalDAV connection: created, or updated in place
    (a reconnect keeps the chosen calendars that still exist, and is active
    again). Raises ``CalendarError`` with plain words, saving nothing, when
    the server cannot be reached or refuses. Returns the connection."""
    from scheduling.models import CalendarConnection

    Provider, Status = CalendarConnection.Provider, CalendarConnection.Status
    probe = CalendarConnection(
        mentor=mentor,
        provider=Provider.CALDAV,
        caldav_url=url,
        caldav_username=username,
        caldav_password=password,
    )
    found = {calendar.id for calendar in CalDAVClient(probe).list_calendars()}
    with transaction.atomic():
        connection, _created = CalendarConnection.objects.select_for_update().get_or_create(
            mentor=mentor, provider=Provider.CALDAV
        )
        connection.caldav_url = url
        connection.caldav_username = username
        connection.caldav_password = password
        connection.account = f"{username} at {urlsplit(url).hostname}"[:254]
        connection.status = Status.ACTIVE
        connection.last_error = ""
        connection.busy_calendars = [
            calendar for calendar in connection.busy_calendars if calendar in found
        ]
        if connection.target_calendar not in found:
            connection.target_calendar = ""
        connection.save()
    return connection
