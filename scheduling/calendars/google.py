"""Google Calendar: the OAuth 2.0 connection flow and the API client.

The flow (``start_authorization`` → Google's consent screen →
``connect_google_calendar``) is the authorization-code grant with PKCE (S256)
and offline access, asking only for ``settings.GOOGLE_CALENDAR_SCOPES``.

``GoogleCalendarClient`` speaks the Calendar API v3 over ``requests`` with a
timeout on every call. It refreshes the access token when it expires within
``REFRESH_MARGIN``, under a row lock on the connection so that two workers
never refresh at once, and raises only the errors of ``base``: an
``invalid_grant`` (revoked or expired for good) is ``CalendarAuthError``, 429,
5xx and Google's rate-limit 403s are ``CalendarTemporaryError``.

Tokens never appear in logs, exceptions or error messages.

**Why not oauthlib** (4.0.1, installed with allauth; ``WebApplicationClient``
read December 2026; see README "Calendar connections"). It would build the
consent URL and the two token-request forms, a dict each here, and parse the
JSON answer; the timeouts and the mapping of 429, 5xx and ``invalid_grant``
to our errors would stay as they are, so the module would shrink by a few
lines at most. ``prepare_request_uri`` raises ``InsecureTransportError`` for
an endpoint that is not https (the tests' fake Google is plain http) unless
``OAUTHLIB_INSECURE_TRANSPORT`` is set for the whole process, and
``parse_request_body_response`` raises a ``Warning`` when the granted scopes
differ from those asked (with ``include_granted_scopes`` Google adds the
sign-in ones) unless ``OAUTHLIB_RELAX_TOKEN_SCOPE`` is set. So the requests
stay plain form POSTs.
"""

import base64
import binascii
import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import requests
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from core.cache import times_changed

from .base import (
    CalendarAuthError,
    CalendarError,
    CalendarInfo,
    CalendarTemporaryError,
    retry_after_seconds,
)

logger = logging.getLogger(__name__)

# Refresh this long before the access token expires: a call started just
# before expiry must not reach Google with a dead token.
REFRESH_MARGIN = timedelta(minutes=5)
# (connect, read) seconds. The token refresh runs under a row lock, so it
# must never hang.
TIMEOUT = (5, 15)
# freeBusy answers for at most 50 calendars and refuses long ranges (about
# 90 days): longer queries are split.
FREEBUSY_MAX_CALENDARS = 50
FREEBUSY_MAX_SPAN = timedelta(days=60)
# Google answers some rate limits with 403 instead of 429.
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}
# A pending authorization (the state and PKCE verifier in the session) lasts this long.
AUTHORIZATION_MAX_AGE = 600

RECONNECT = "Please reconnect Google Calendar on your calendar settings page."


# --- HTTP helpers ---------------------------------------------------------------------------


@sensitive_variables()  # tokens and passwords stay out of error reports
def _send(http: requests.Session, method: str, url: str, **kwargs) -> requests.Response:
    """One request with a timeout; network trouble becomes a temporary error
    (the exception text is left out: it may quote the request)."""
    try:
        return http.request(method, url, timeout=TIMEOUT, **kwargs)
    except requests.Timeout:
        raise CalendarTemporaryError("Google Calendar did not answer in time.") from None
    except requests.ConnectionError:
        raise CalendarTemporaryError("Google Calendar could not be reached.") from None
    except requests.RequestException:
        raise CalendarError("The request to Google Calendar failed.") from None


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _reasons(response: requests.Response) -> set[str]:
    """The ``reason`` codes of a Calendar API error body."""
    error = _json(response).get("error")
    if not isinstance(error, dict):
        return set()
    return {
        str(item.get("reason", "")) for item in error.get("errors") or [] if isinstance(item, dict)
    } | {str(error.get("status", ""))}


def _temporary_error(response: requests.Response) -> CalendarTemporaryError | None:
    status = response.status_code
    if status == 429 or (status == 403 and _reasons(response) & RATE_LIMIT_REASONS):
        return CalendarTemporaryError(
            "Google Calendar asked us to slow down; the sync will try again shortly.",
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
    if status >= 500:
        return CalendarTemporaryError(
            f"Google Calendar had a problem on its side (error {status}); "
            "the sync will try again shortly.",
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
    return None


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


# --- Tokens -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenGrant:
    """What the token endpoint gave. ``refresh_token`` is "" when Google kept
    the previous one; ``email`` comes from the id_token when there is one."""

    access_token: str
    refresh_token: str
    expires_at: datetime
    scopes: tuple[str, ...]
    email: str = ""

    def __repr__(self) -> str:  # never the tokens
        return f"<TokenGrant expires_at={self.expires_at:%Y-%m-%d %H:%M} scopes={self.scopes}>"


def _id_token_email(id_token: str) -> str:
    """The email claim of an id_token. It came straight from Google's token
    endpoint over TLS, so its signature need not be checked (OpenID Connect
    Core §3.1.3.7); it only labels the connection for the mentor."""
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return ""
    email = claims.get("email", "") if isinstance(claims, dict) else ""
    return email if isinstance(email, str) else ""


@sensitive_variables()  # tokens and passwords stay out of error reports
def _token_request(form: dict[str, str], *, refreshing: bool) -> TokenGrant:
    form = {
        **form,
        "client_id": settings.GOOGLE_CLIENT_ID,
        "client_secret": settings.GOOGLE_CLIENT_SECRET,
    }
    with requests.Session() as http:
        response = _send(
            http,
            "POST",
            settings.GOOGLE_OAUTH_TOKEN_URL,
            data=form,
            headers={"Accept": "application/json"},
        )
    temporary = _temporary_error(response)
    if temporary is not None:
        raise temporary
    body = _json(response)
    if response.status_code != 200 or not body.get("access_token"):
        error = str(body.get("error", ""))
        if error == "invalid_grant":
            if refreshing:
                raise CalendarAuthError(
                    "Google no longer accepts Mentorship's access to this calendar (it was "
                    f"revoked, or it expired). {RECONNECT}"
                )
            raise CalendarError(
                "Google did not accept this sign-in (it expired or was used already). "
                "Please start again."
            )
        # invalid_client and the like: our configuration, not the mentor's doing.
        logger.error(
            "Google token endpoint refused the request: HTTP %s, error %r",
            response.status_code,
            error,
        )
        raise CalendarError(
            "Google refused Mentorship's request for access; the site's team has been told."
        )
    try:
        lifetime = int(body.get("expires_in", 3600))
    except (TypeError, ValueError):
        lifetime = 3600
    return TokenGrant(
        access_token=str(body["access_token"]),
        refresh_token=str(body.get("refresh_token", "")),
        expires_at=timezone.now() + timedelta(seconds=lifetime),
        scopes=tuple(str(body.get("scope", "")).split()),
        email=_id_token_email(str(body.get("id_token", ""))),
    )


@sensitive_variables()  # tokens and passwords stay out of error reports
def refresh_access_token(refresh_token: str) -> TokenGrant:
    if not refresh_token:
        raise CalendarAuthError(f"Mentorship has no lasting access to this calendar. {RECONNECT}")
    return _token_request(
        {"grant_type": "refresh_token", "refresh_token": refresh_token}, refreshing=True
    )


def scope_text(scopes) -> str:
    """The calendar scopes of a grant, for ``CalendarConnection.scopes``
    (``include_granted_scopes`` also brings the sign-in scopes along)."""
    return " ".join(scope for scope in scopes if "/auth/calendar" in scope)


def _is_fresh(connection, now: datetime) -> bool:
    return bool(
        connection.access_token
        and connection.expires_at
        and connection.expires_at - now > REFRESH_MARGIN
    )


# --- The API client ---------------------------------------------------------------------------


class GoogleCalendarClient:
    """The Calendar API for one ``CalendarConnection`` (see ``base.CalendarClient``)."""

    def __init__(self, connection, *, http: requests.Session | None = None):
        self.connection = connection
        self.http = http or requests.Session()
        self.api = settings.GOOGLE_CALENDAR_API_URL.rstrip("/")

    # Tokens ---------------------------------------------------------------------------------

    @sensitive_variables()  # tokens and passwords stay out of error reports
    def _access_token(self, *, rejected: str | None = None) -> str:
        """A usable access token. ``rejected`` is one Google just answered 401
        to: it is replaced even if it has not expired yet.

        The refresh happens under a lock on the connection row: a second
        worker waits, re-reads the row and uses the token the first one got.
        (SQLite has no row locks, but its transactions begin IMMEDIATE here,
        which serialises them the same way.)"""
        from scheduling.models import CalendarConnection

        connection = self.connection
        if rejected is None and _is_fresh(connection, timezone.now()):
            return connection.access_token
        with transaction.atomic():
            locked = (
                CalendarConnection.objects.select_for_update()
                .only("access_token", "refresh_token", "expires_at", "scopes")
                .filter(pk=connection.pk)
                .first()
            )
            if locked is None:
                raise CalendarError("This calendar connection was removed.")
            fresh = _is_fresh(locked, timezone.now())
            if not fresh or (rejected is not None and locked.access_token == rejected):
                grant = refresh_access_token(locked.refresh_token)
                locked.access_token = grant.access_token
                locked.expires_at = grant.expires_at
                if grant.refresh_token:  # Google may issue a new one
                    locked.refresh_token = grant.refresh_token
                if grant.scopes:
                    locked.scopes = scope_text(grant.scopes)
                locked.save(
                    update_fields=[
                        "access_token",
                        "refresh_token",
                        "expires_at",
                        "scopes",
                        "updated_at",
                    ]
                )
        for field in ("access_token", "refresh_token", "expires_at", "scopes"):
            setattr(connection, field, getattr(locked, field))
        return connection.access_token

    # Requests -------------------------------------------------------------------------------

    @sensitive_variables()  # tokens and passwords stay out of error reports
    def _call(self, method: str, path: str, token: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        return _send(self.http, method, f"{self.api}{path}", headers=headers, **kwargs)

    @sensitive_variables()  # tokens and passwords stay out of error reports
    def _request(self, method: str, path: str, **kwargs) -> requests.Response:
        """Send with a usable token; after a 401 refresh once and try again.
        Temporary failures raise; other answers are the caller's to read."""
        token = self._access_token()
        response = self._call(method, path, token, **kwargs)
        if response.status_code == 401:
            token = self._access_token(rejected=token)
            response = self._call(method, path, token, **kwargs)
            if response.status_code == 401:
                raise CalendarAuthError(
                    f"Google Calendar no longer accepts our access. {RECONNECT}"
                )
        temporary = _temporary_error(response)
        if temporary is not None:
            raise temporary
        return response

    def _refused(self, response: requests.Response, *, missing: str) -> CalendarError:
        """The error for an answer that is neither success nor temporary.
        ``missing`` says in plain words what a 404 means for this call."""
        status = response.status_code
        reasons = _reasons(response)
        if status == 403 and "insufficientPermissions" in reasons:
            return CalendarAuthError(
                "Google Calendar access lacks a permission Mentorship needs (a box was "
                f"unticked when connecting). {RECONNECT}"
            )
        if status == 403:
            return CalendarError(
                "Google Calendar does not let this account change that calendar. "
                "Choose another calendar for your sessions."
            )
        if status in (404, 410):
            return CalendarError(missing)
        return CalendarError(f"Google Calendar refused the request (error {status}).")

    def _events_path(self, calendar_id: str, event_id: str = "") -> str:
        path = f"/calendars/{quote(calendar_id, safe='')}/events"
        return f"{path}/{quote(event_id, safe='')}" if event_id else path

    # The interface --------------------------------------------------------------------------

    def list_calendars(self) -> list[CalendarInfo]:
        calendars: list[CalendarInfo] = []
        primary: list[CalendarInfo] = []
        params = {"maxResults": "250"}
        while True:
            response = self._request("GET", "/users/me/calendarList", params=params)
            if response.status_code != 200:
                raise self._refused(response, missing="Your Google calendars could not be listed.")
            body = _json(response)
            for item in body.get("items") or []:
                if not isinstance(item, dict) or item.get("deleted") or not item.get("id"):
                    continue
                info = CalendarInfo(
                    id=str(item["id"]),
                    name=str(item.get("summaryOverride") or item.get("summary") or item["id"]),
                    writable=item.get("accessRole") in ("owner", "writer"),
                )
                (primary if item.get("primary") else calendars).append(info)
            if not body.get("nextPageToken"):
                break
            params = {**params, "pageToken": str(body["nextPageToken"])}
        return primary + sorted(calendars, key=lambda calendar: calendar.name.casefold())

    def primary_calendar_id(self) -> str:
        """The primary calendar's id, which is the account's email address."""
        response = self._request("GET", "/users/me/calendarList/primary")
        if response.status_code != 200:
            return ""
        return str(_json(response).get("id", ""))

    def busy_times(
        self, calendar_ids: list[str], start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]]:
        busy: set[tuple[datetime, datetime]] = set()
        ids = list(dict.fromkeys(calendar_ids))
        window_start = start
        while window_start < end:
            window_end = min(end, window_start + FREEBUSY_MAX_SPAN)
            for first in range(0, len(ids), FREEBUSY_MAX_CALENDARS):
                chunk = ids[first : first + FREEBUSY_MAX_CALENDARS]
                busy.update(self._free_busy(chunk, window_start, window_end))
            window_start = window_end
        return sorted(busy)

    def _free_busy(self, ids: list[str], start: datetime, end: datetime) -> set:
        response = self._request(
            "POST",
            "/freeBusy",
            json={
                "timeMin": _utc(start),
                "timeMax": _utc(end),
                "timeZone": "UTC",
                "items": [{"id": calendar_id} for calendar_id in ids],
            },
        )
        if response.status_code != 200:
            raise self._refused(response, missing="Google Calendar could not read busy times.")
        found = set()
        calendars = _json(response).get("calendars") or {}
        for calendar_id in ids:
            answer = calendars.get(calendar_id) or {}
            reasons = {
                str(error.get("reason", ""))
                for error in answer.get("errors") or []
                if isinstance(error, dict)
            }
            if "notFound" in reasons:
                raise CalendarError(
                    "A calendar chosen for busy times is no longer in your Google account. "
                    "Choose your calendars again."
                )
            if reasons:  # internalError, backendError: Google could not compute it now
                raise CalendarTemporaryError(
                    "Google Calendar could not read busy times just now; the sync will try "
                    "again shortly."
                )
            for period in answer.get("busy") or []:
                try:
                    found.add((_parse_time(period["start"]), _parse_time(period["end"])))
                except (KeyError, TypeError, ValueError):
                    continue
        return found

    def put_event(self, calendar_id: str, *, event_id: str, session) -> str:
        """Insert the event under ``event_id``; if that id exists (pushed
        before, by this connection or an earlier one, even if deleted since)
        update it, which also restores a deleted one. Returns the etag."""
        body = self._event_body(event_id, session)
        missing = (
            "The calendar chosen for your sessions is no longer in your Google account. "
            "Choose another one."
        )
        params = {"sendUpdates": "none"}
        response = self._request("POST", self._events_path(calendar_id), json=body, params=params)
        if response.status_code == 409:
            update = {key: value for key, value in body.items() if key != "id"}
            response = self._request(
                "PATCH", self._events_path(calendar_id, event_id), json=update, params=params
            )
        if response.status_code not in (200, 201):
            raise self._refused(response, missing=missing)
        return str(_json(response).get("etag", ""))

    def delete_event(self, calendar_id: str, *, event_id: str) -> None:
        response = self._request(
            "DELETE", self._events_path(calendar_id, event_id), params={"sendUpdates": "none"}
        )
        if response.status_code in (200, 204, 404, 410):  # 404/410: already gone
            return
        raise self._refused(response, missing="")

    def _event_body(self, event_id: str, session) -> dict:
        mentee = session.mentee.user
        page = f"{settings.SITE_URL}{reverse('scheduling:session_detail', args=[session.pk])}"
        parts = []
        if session.topic:
            parts.append(f"Topic: {session.topic}")
        if session.meeting_url:
            parts.append(f"Join: {session.meeting_url}")
        parts.append(f"Session page: {page}")
        body = {
            "id": event_id,
            "status": "confirmed",  # also restores an event deleted before
            "summary": f"{session.title} with {mentee.public_name}",
            "description": "\n\n".join(parts),
            "start": {"dateTime": _utc(session.start), "timeZone": "UTC"},
            "end": {"dateTime": _utc(session.end), "timeZone": "UTC"},
            # No attendees: Google would email the mentee its own invitation
            # besides ours. No iCalUID: Google takes either an id or an
            # iCalUID when creating an event, and the id is what makes pushes
            # idempotent.
        }
        if session.meeting_url:
            body["location"] = session.meeting_url
            body["source"] = {"title": "Join the session", "url": session.meeting_url}
        return body


# --- The connection flow ----------------------------------------------------------------------


class ConnectRefused(Exception):
    """The connection could not be made; the message is for the mentor."""


def redirect_uri() -> str:
    return f"{settings.SITE_URL}{reverse('scheduling:calendar_google_callback')}"


def is_configured() -> bool:
    return bool(settings.GOOGLE_CLIENT_ID and settings.GOOGLE_CLIENT_SECRET)


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def start_authorization(*, user) -> tuple[str, dict]:
    """Google's consent URL and what to keep in the user's session until
    the callback: a random ``state`` bound to the user and the PKCE verifier."""
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters, within RFC 7636's 43 to 128
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.GOOGLE_CLIENT_ID,
            "redirect_uri": redirect_uri(),
            "scope": " ".join(settings.GOOGLE_CALENDAR_SCOPES),
            "state": state,
            "code_challenge": code_challenge(verifier),
            "code_challenge_method": "S256",
            "access_type": "offline",
            "prompt": "consent",  # so Google issues a refresh token every time
            "include_granted_scopes": "true",
        }
    )
    pending = {
        "state": state,
        "verifier": verifier,
        "user": str(user.pk),
        "started": time.time(),
    }
    return f"{settings.GOOGLE_OAUTH_AUTHORIZE_URL}?{query}", pending


def pending_matches(pending, *, state: str, user) -> bool:
    """Whether the callback's ``state`` is the one this user's session is
    waiting for, and not too old."""
    if not isinstance(pending, dict) or not state:
        return False
    expected = str(pending.get("state", ""))
    started = pending.get("started")
    return bool(
        expected
        and secrets.compare_digest(expected.encode(), state.encode())
        and pending.get("user") == str(user.pk)
        and isinstance(started, int | float)
        and 0 <= time.time() - started <= AUTHORIZATION_MAX_AGE
    )


SCOPE_NAMES = {
    "https://www.googleapis.com/auth/calendar.events": "add your sessions to your calendar",
    "https://www.googleapis.com/auth/calendar.freebusy": "see when you are busy",
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly": "list your calendars",
}


@sensitive_variables()  # tokens and passwords stay out of error reports
def connect_google_calendar(*, mentor, code: str, verifier: str):
    """Exchange the authorization code (with the PKCE verifier) and store the
    mentor's Google connection: a reconnect updates the existing row and keeps
    the chosen calendars. Raises ``ConnectRefused`` (nothing stored) or a
    ``CalendarError`` from the token endpoint."""
    grant = _token_request(
        {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri(),
        },
        refreshing=False,
    )
    missing = [scope for scope in settings.GOOGLE_CALENDAR_SCOPES if scope not in grant.scopes]
    if missing:
        needs = " and ".join(SCOPE_NAMES.get(scope, scope) for scope in missing)
        raise ConnectRefused(
            f"Google did not give Mentorship permission to {needs}, so nothing was "
            "connected. Please connect again and leave every box ticked."
        )
    account = grant.email
    if not account:
        from scheduling.models import CalendarConnection

        probe = CalendarConnection(
            provider=CalendarConnection.Provider.GOOGLE,
            access_token=grant.access_token,
            expires_at=grant.expires_at,
        )
        try:
            account = GoogleCalendarClient(probe).primary_calendar_id()
        except CalendarError:
            account = ""  # only a label: the connection works without it
    return _store_connection(mentor=mentor, grant=grant, account=account)


@transaction.atomic
@sensitive_variables()  # tokens and passwords stay out of error reports
def _store_connection(*, mentor, grant: TokenGrant, account: str):
    from scheduling.models import CalendarConnection

    connection = (
        CalendarConnection.objects.select_for_update()
        .filter(mentor=mentor, provider=CalendarConnection.Provider.GOOGLE)
        .first()
    )
    if connection is None:
        connection = CalendarConnection(mentor=mentor, provider=CalendarConnection.Provider.GOOGLE)
    elif account and connection.account and account.casefold() != connection.account.casefold():
        # Another Google account: the calendars chosen before are not in it,
        # and neither are the events pushed before.
        connection.busy_calendars = []
        connection.target_calendar = ""
        connection.events.all().delete()
        connection.busy_intervals.all().delete()
        times_changed()  # their busy times no longer hold
    refresh_token = grant.refresh_token or connection.refresh_token
    if not refresh_token:
        raise ConnectRefused(
            "Google did not give Mentorship lasting access, so nothing was connected. "
            "Please try again."
        )
    connection.account = account or connection.account
    connection.access_token = grant.access_token
    connection.refresh_token = refresh_token
    connection.expires_at = grant.expires_at
    connection.scopes = scope_text(grant.scopes)
    connection.status = CalendarConnection.Status.ACTIVE
    connection.last_error = ""
    connection.full_clean(exclude=["mentor"], validate_unique=False, validate_constraints=False)
    connection.save()
    return connection
