"""A fake of Google's OAuth and Calendar API v3 endpoints, over real HTTP.

``FakeGoogle().start()`` serves on a free loopback port from a thread, so the
real client (``scheduling.calendars.google``) runs against it unchanged. It
implements what the client uses, the way Google answers:

* ``GET /authorize``: the consent step. It checks the request and, as a user
  clicking "Allow" would, redirects to ``redirect_uri`` with a fresh code and
  the ``state``. The S256 ``code_challenge`` is kept with the code.
* ``POST /token``: ``authorization_code`` (the PKCE verifier must hash to the
  challenge; a code works once) and ``refresh_token`` (``refresh_error`` makes
  it answer that error, e.g. ``invalid_grant``; ``token_delay`` slows it).
* ``/calendar/v3``: calendarList (and ``/primary``), freeBusy (busy periods
  from ``add_busy`` plus the calendar's events; at most 50 calendars and 90
  days), events insert (409 on a duplicate id, also a deleted one), get,
  patch (restores a deleted event), delete (410 when already deleted).
  Bearer tokens and their scopes are checked (401 / 403).
* ``fail_next(count, status=429, retry_after=…)``: the next API requests fail.

Every request is recorded in ``requests`` for assertions.
"""

import base64
import hashlib
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import sleep
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

CLIENT_ID = "fake-client-id.apps.googleusercontent.com"
CLIENT_SECRET = "fake-client-secret"
EVENTS = "https://www.googleapis.com/auth/calendar.events"
FREEBUSY = "https://www.googleapis.com/auth/calendar.freebusy"
CALENDARLIST = "https://www.googleapis.com/auth/calendar.calendarlist.readonly"
ALL_SCOPES = (EVENTS, FREEBUSY, CALENDARLIST)
EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")  # base32hex, as Google requires


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    form: dict = field(default_factory=dict)
    body: dict = field(default_factory=dict)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _error(code: int, message: str, reason: str, status: str = "") -> dict:
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"domain": "global", "reason": reason, "message": message}],
            **({"status": status} if status else {}),
        }
    }


class FakeGoogle:
    def __init__(self, email: str = "mentor.calendar@gmail.example"):
        self.default_email = email
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.reset()

    # --- Control ------------------------------------------------------------------------

    def start(self) -> "FakeGoogle":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # quiet
                pass

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

            def do_PATCH(self):
                fake._handle(self, "PATCH")

            def do_PUT(self):
                fake._handle(self, "PUT")

            def do_DELETE(self):
                fake._handle(self, "DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        with self._lock:
            self.email = self.default_email
            self.requests: list[Recorded] = []
            self.codes: dict[str, dict] = {}
            self.access_tokens: dict[str, dict] = {}
            self.refresh_tokens: dict[str, dict] = {}
            self.calendars: dict[str, dict] = {
                self.default_email: {"summary": self.default_email, "accessRole": "owner"},
                "work@group.calendar.google.com": {"summary": "Work", "accessRole": "writer"},
                "holidays@group.v.calendar.google.com": {
                    "summary": "Holidays",
                    "accessRole": "reader",
                },
            }
            self.busy: dict[str, list[tuple[datetime, datetime]]] = {}
            self.events: dict[tuple[str, str], dict] = {}
            self.failures: list[tuple[int, float | None]] = []
            self.refresh_error = ""
            self.token_delay = 0.0
            self.granted_scopes: tuple[str, ...] | None = None  # None: what was asked
            self.include_id_token = False
            self.expires_in = 3599
            self._etag = 0

    def fail_next(self, count: int, *, status: int = 429, retry_after: float | None = None):
        """The next ``count`` Calendar API requests answer ``status``."""
        with self._lock:
            self.failures.extend([(status, retry_after)] * count)

    def add_busy(self, calendar_id: str, start: datetime, end: datetime) -> None:
        with self._lock:
            self.busy.setdefault(calendar_id, []).append((start, end))

    def revoke_access_tokens(self) -> None:
        """Access tokens stop working before they expire (the refresh token still works)."""
        with self._lock:
            self.access_tokens.clear()

    def token_requests(self, grant_type: str) -> list[Recorded]:
        return [
            request
            for request in self.requests
            if request.path == "/token" and request.form.get("grant_type") == grant_type
        ]

    def api_requests(self, method: str, path_part: str = "") -> list[Recorded]:
        return [
            request
            for request in self.requests
            if request.method == method
            and request.path.startswith("/calendar/v3")
            and path_part in request.path
        ]

    def live_events(self, calendar_id: str) -> list[dict]:
        return [
            event
            for (calendar, _id), event in self.events.items()
            if calendar == calendar_id and event["status"] != "cancelled"
        ]

    # --- HTTP plumbing --------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        content_type = handler.headers.get("Content-Type", "")
        form = (
            {key: values[0] for key, values in parse_qs(raw.decode()).items()}
            if "application/x-www-form-urlencoded" in content_type
            else {}
        )
        try:
            body = json.loads(raw) if raw and "json" in content_type else {}
        except ValueError:
            body = {}
        request = Recorded(
            method=method,
            path=parts.path,
            query={key: values[0] for key, values in parse_qs(parts.query).items()},
            headers=dict(handler.headers.items()),
            form=form,
            body=body if isinstance(body, dict) else {},
        )
        with self._lock:
            self.requests.append(request)
        status, payload, headers = self._route(request)
        data = b"" if payload is None else json.dumps(payload).encode()
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        if payload is not None:
            handler.send_header("Content-Type", "application/json; charset=UTF-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if data:
            handler.wfile.write(data)

    def _route(self, request: Recorded):
        if request.path == "/authorize" and request.method == "GET":
            return self._authorize(request)
        if request.path == "/token" and request.method == "POST":
            return self._token(request)
        if request.path.startswith("/calendar/v3/"):
            with self._lock:
                failure = self.failures.pop(0) if self.failures else None
            if failure is not None:
                status, retry_after = failure
                headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
                reason = "rateLimitExceeded" if status in (403, 429) else "backendError"
                return status, _error(status, "Try again later.", reason), headers
            grant = self._bearer(request)
            if grant is None:
                return (
                    401,
                    _error(401, "Request had invalid authentication credentials.", "authError"),
                    {},
                )
            return self._api(request, request.path[len("/calendar/v3") :], grant)
        return 404, {"error": "not_found"}, {}

    # --- OAuth --------------------------------------------------------------------------

    def _authorize(self, request: Recorded):
        query = request.query
        required = ("client_id", "redirect_uri", "response_type", "scope", "state")
        if any(not query.get(name) for name in required) or query["client_id"] != CLIENT_ID:
            return 400, {"error": "invalid_request"}, {}
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return 400, {"error": "invalid_request", "error_description": "PKCE S256 required"}, {}
        code = "4/" + secrets.token_urlsafe(24)
        asked = tuple(query["scope"].split())
        with self._lock:
            self.codes[code] = {
                "challenge": query["code_challenge"],
                "redirect_uri": query["redirect_uri"],
                "scopes": self.granted_scopes if self.granted_scopes is not None else asked,
            }
        target = f"{query['redirect_uri']}?" + urlencode(
            {"state": query["state"], "code": code, "scope": query["scope"]}
        )
        return 302, None, {"Location": target}

    def issue_tokens(self, scopes=ALL_SCOPES, *, refresh: bool = True) -> dict:
        access = "ya29." + secrets.token_urlsafe(32)
        grant = {"email": self.email, "scopes": tuple(scopes)}
        self.access_tokens[access] = grant
        answer = {
            "access_token": access,
            "expires_in": self.expires_in,
            "scope": " ".join(scopes),
            "token_type": "Bearer",
        }
        if refresh:
            token = "1//" + secrets.token_urlsafe(32)
            self.refresh_tokens[token] = grant
            answer["refresh_token"] = token
        return answer

    def _token(self, request: Recorded):
        form = request.form
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 401, {"error": "invalid_client"}, {}
        if self.token_delay:
            sleep(self.token_delay)
        invalid = {"error": "invalid_grant", "error_description": "Bad Request"}
        with self._lock:
            if form.get("grant_type") == "authorization_code":
                issued = self.codes.pop(form.get("code", ""), None)  # single use
                if issued is None or issued["redirect_uri"] != form.get("redirect_uri"):
                    return 400, invalid, {}
                verifier = form.get("code_verifier", "")
                digest = hashlib.sha256(verifier.encode()).digest()
                if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != issued["challenge"]:
                    return 400, invalid, {}
                answer = self.issue_tokens(issued["scopes"])
                if self.include_id_token:
                    claims = base64.urlsafe_b64encode(
                        json.dumps({"email": self.email, "email_verified": True}).encode()
                    )
                    answer["id_token"] = f"eyJhbGciOiJSUzI1NiJ9.{claims.rstrip(b'=').decode()}.sig"
                return 200, answer, {}
            if form.get("grant_type") == "refresh_token":
                if self.refresh_error:
                    return (
                        400,
                        {
                            "error": self.refresh_error,
                            "error_description": "Token has been expired or revoked.",
                        },
                        {},
                    )
                grant = self.refresh_tokens.get(form.get("refresh_token", ""))
                if grant is None:
                    return 400, invalid, {}
                answer = self.issue_tokens(grant["scopes"], refresh=False)
                return 200, answer, {}
        return 400, {"error": "unsupported_grant_type"}, {}

    def _bearer(self, request: Recorded) -> dict | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        with self._lock:
            return self.access_tokens.get(header[len("Bearer ") :])

    # --- Calendar API ---------------------------------------------------------------------

    def _api(self, request: Recorded, path: str, grant: dict):
        forbidden = (
            403,
            _error(
                403,
                "Request had insufficient authentication scopes.",
                "insufficientPermissions",
                "PERMISSION_DENIED",
            ),
            {},
        )
        scopes = set(grant["scopes"])
        if path.startswith("/users/me/calendarList"):
            if CALENDARLIST not in scopes:
                return forbidden
            return self._calendar_list(path)
        if path == "/freeBusy" and request.method == "POST":
            if not scopes & {FREEBUSY, EVENTS}:
                return forbidden
            return self._free_busy(request.body)
        match = re.fullmatch(r"/calendars/([^/]+)/events(?:/([^/]+))?", path)
        if match:
            if EVENTS not in scopes:
                return forbidden
            calendar_id = unquote(match.group(1))
            event_id = unquote(match.group(2)) if match.group(2) else ""
            return self._event(request, calendar_id, event_id)
        return 404, _error(404, "Not Found", "notFound"), {}

    def _entry(self, calendar_id: str) -> dict:
        calendar = self.calendars[calendar_id]
        return {
            "kind": "calendar#calendarListEntry",
            "id": calendar_id,
            "summary": calendar["summary"],
            "accessRole": calendar["accessRole"],
            **({"primary": True} if calendar_id == self.email else {}),
        }

    def _calendar_list(self, path: str):
        with self._lock:
            if path == "/users/me/calendarList":
                items = [self._entry(calendar_id) for calendar_id in self.calendars]
                return 200, {"kind": "calendar#calendarList", "items": items}, {}
            wanted = unquote(path.rsplit("/", 1)[1])
            wanted = self.email if wanted == "primary" else wanted
            if wanted not in self.calendars:
                return 404, _error(404, "Not Found", "notFound"), {}
            return 200, self._entry(wanted), {}

    def _free_busy(self, body: dict):
        try:
            start, end = _time(body["timeMin"]), _time(body["timeMax"])
            ids = [item["id"] for item in body["items"]]
        except (KeyError, TypeError, ValueError):
            return 400, _error(400, "Bad Request", "badRequest"), {}
        if end - start > timedelta(days=90):
            return 400, _error(400, "The requested time range is too long.", "timeRangeTooLong"), {}
        if len(ids) > 50:
            return 400, _error(400, "Too many calendars.", "tooManyCalendarsRequested"), {}
        calendars = {}
        with self._lock:
            for calendar_id in ids:
                if calendar_id not in self.calendars:
                    calendars[calendar_id] = {
                        "errors": [{"domain": "global", "reason": "notFound"}],
                        "busy": [],
                    }
                    continue
                periods = list(self.busy.get(calendar_id, []))
                periods += [
                    (_time(event["start"]["dateTime"]), _time(event["end"]["dateTime"]))
                    for (calendar, _id), event in self.events.items()
                    if calendar == calendar_id and event["status"] != "cancelled"
                ]
                calendars[calendar_id] = {
                    "busy": [
                        {
                            "start": busy_start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                            "end": busy_end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        }
                        for busy_start, busy_end in sorted(periods)
                        if busy_start < end and busy_end > start
                    ]
                }
        return (
            200,
            {
                "kind": "calendar#freeBusy",
                "timeMin": body["timeMin"],
                "timeMax": body["timeMax"],
                "calendars": calendars,
            },
            {},
        )

    def _next_etag(self) -> str:
        self._etag += 1
        return f'"{3_180_000_000_000_000 + self._etag}"'

    def _event(self, request: Recorded, calendar_id: str, event_id: str):
        body = request.body
        with self._lock:
            calendar = self.calendars.get(calendar_id)
            if calendar is None:
                return 404, _error(404, "Not Found", "notFound"), {}
            if request.method != "GET" and calendar["accessRole"] not in ("owner", "writer"):
                return 403, _error(403, "Forbidden", "requiredAccessLevel"), {}
            if not event_id and request.method == "POST":
                new_id = body.get("id") or secrets.token_hex(16)
                if not EVENT_ID.match(new_id):
                    return 400, _error(400, "Invalid resource id value.", "invalid"), {}
                if (calendar_id, new_id) in self.events:  # deleted ones too
                    return (
                        409,
                        _error(409, "The requested identifier already exists.", "duplicate"),
                        {},
                    )
                event = {
                    **body,
                    "kind": "calendar#event",
                    "id": new_id,
                    "status": body.get("status", "confirmed"),
                    "etag": self._next_etag(),
                }
                self.events[(calendar_id, new_id)] = event
                return 200, event, {}
            event = self.events.get((calendar_id, event_id))
            if event is None:
                return 404, _error(404, "Not Found", "notFound"), {}
            if request.method == "GET":
                return 200, event, {}
            if request.method in ("PATCH", "PUT"):
                updated = (
                    {**event, **body}
                    if request.method == "PATCH"
                    else {**body, "id": event_id, "kind": "calendar#event"}
                )
                if request.method == "PUT" or "status" in body:  # how a deleted one returns
                    updated["status"] = body.get("status", "confirmed")
                updated["etag"] = self._next_etag()
                self.events[(calendar_id, event_id)] = updated
                return 200, updated, {}
            if request.method == "DELETE":
                if event["status"] == "cancelled":
                    return 410, _error(410, "Resource has been deleted", "deleted"), {}
                event["status"] = "cancelled"
                event["etag"] = self._next_etag()
                return 204, None, {}
        return 405, _error(405, "Method Not Allowed", "badRequest"), {}
