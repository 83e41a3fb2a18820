"""No request input gives a server error (DESIGN.md §10).

Every URL pattern of the URLconf, read from the resolver (not a list kept by
hand; object URLs filled with real objects), is requested as a visitor, a
mentee, a mentor and staff: first plainly, to learn the query parameters its
links use and the fields of its forms, then with hostile values in every
query parameter and form field — NUL bytes, 100,000-character strings, lone
surrogates and invalid UTF-8 in the raw query and body, out-of-range dates,
times and numbers, negative numbers, repeated parameters, missing fields,
wrong types. No answer may be a 5xx, and no view may raise.

Deterministic (one seeded generator) and bounded: a few thousand requests.
It runs in ``make test`` on SQLite and in CI again on PostgreSQL, which
refuses NUL bytes that SQLite stores. The number of requests is printed.
"""

import io
import random
import re
import sys
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import got_request_exception
from django.http import QueryDict
from django.test import Client
from django.test.client import encode_multipart
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils import timezone
from PIL import Image

from accounts.services import save_user
from accounts.tests.factories import UserFactory
from mentorship.services import become_mentee
from reviews.tests.factories import (
    CompletedSessionFactory,
    ReviewFactory,
    ReviewReplyFactory,
    ReviewReportFactory,
)
from scheduling import availability
from scheduling.booking import book_session
from scheduling.models import Availability
from scheduling.notifications.feeds import feed_for
from scheduling.slots import available_slots
from scheduling.tests.factories import new_york_mentor
from scheduling.tests.fake_calendar import (
    CalendarConnectionFactory,
    FakeCalendarClient,
    use_fake_clients,
)

SEED = 14
LONG = "x" * 100_000
# Values any parameter or field may get (text: the test client encodes it as UTF-8).
HOSTILE_VALUES = [
    "\x00",
    "a\x00b",
    LONG,
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "99999-01-01",
    "0000-00-00",
    "25:61",
    "23:59:60",
    "-1",
    "0",
    "-99999999999999999999",
    "99999999999999999999999999",
    "2147483648",
    "9223372036854775808",
    "1e309",
    "NaN",
    "-inf",
    "3.5",
    "[]",
    '{"a": 1}',
    "true",
    "",
    " ",
    "%",
    "%%00",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../../etc/passwd",
    "//evil.example/",
    "https://evil.example/",
    "javascript:alert(1)",
    "foo",
    "\u202e\u0000\ufeff",
    "😀" * 50,
    "a@b",
    "Europe/Nowhere",
    "00000000-0000-0000-0000-000000000000",
]
# Raw query strings and form bodies the test client would not make from text:
# bytes that are not UTF-8, a lone surrogate (as UTF-8 would encode it), NUL.
RAW_VALUES = ["%00", "%FF%FE", "%ED%A0%80", "%C3%28", "%F4%90%80%80", "a%00b", "%E2%82"]
# One value of each kind, given to every parameter of a request at once.
EVERY_KIND = [
    "\x00",
    LONG,
    "0001-01-01",
    "9999-12-31",
    "-1",
    "99999999999999999999999999",
    "foo",
    "",
    "[]",
    "25:61",
    "//evil.example/",
]
ROLES = ("visitor", "mentee", "mentor", "staff")
BOUNDARY = "HostileBoundary"
PROJECT = str(Path(__file__).resolve().parents[2])
VENV = "/.venv/"
# Posted last, so that the world they end (a session, a calendar, a login)
# serves the other URLs first.
ENDING = ("delete", "disconnect", "remove", "cancel", "logout", "no-show", "password")


# --- The URLconf ---------------------------------------------------------------------------


def every_pattern() -> list[tuple[str, URLPattern]]:
    """(route as written, pattern) for every URL pattern, includes followed."""

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern

    return list(walk(get_resolver().url_patterns, ""))


PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<group>\w+)>[^)]*\)")


def fill(route: str, values: dict[str, str]) -> str:
    """``route`` with each parameter replaced by its value in ``values``."""
    path = PARAMETER.sub(lambda match: values[match["name"] or match["group"]], route)
    return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


def parameter_names(route: str) -> list[str]:
    return [match["name"] or match["group"] for match in PARAMETER.finditer(route)]


# --- What pages show -----------------------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> input type
    values: dict[str, str] = field(default_factory=dict)  # what the form would send


class PageReader(HTMLParser):
    """The forms of a page (fields and the values they would send) and the
    query parameters of its links."""

    def __init__(self, page_path: str):
        super().__init__()
        self.page_path = page_path
        self.forms: list[Form] = []
        self.link_parameters: set[str] = set()
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def _field(self, name: str, kind: str, value: str | None):
        form = self._form
        if form is None:  # a field outside any form (an htmx control)
            form = Form("get", self.page_path)
            self.forms.append(form)
        form.fields[name] = kind
        if value is not None and name not in form.values:
            form.values[name] = value

    def handle_starttag(self, tag, attrs):
        attributes = {key: value or "" for key, value in attrs}
        name = attributes.get("name")
        if tag == "form":
            action = attributes.get("action") or self.page_path
            self._form = Form((attributes.get("method") or "get").lower(), action)
            self.forms.append(self._form)
        elif tag in ("input", "button") and name:
            kind = (attributes.get("type") or "text").lower()
            chosen = kind not in ("checkbox", "radio", "submit") or "checked" in attributes
            self._field(name, kind, attributes.get("value", "") if chosen else None)
        elif tag == "select" and name:
            self._select = name
            self._field(name, "select", None)
        elif tag == "option" and self._select and "selected" in attributes:
            self._field(self._select, "select", attributes.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self._field(name, "textarea", "")
        elif tag == "a" and attributes.get("href"):
            query = urlsplit(attributes["href"]).query
            self.link_parameters.update(key for key, _value in parse_qsl(query))
        for attribute in ("hx-get", "hx-post"):
            if attributes.get(attribute):
                query = urlsplit(attributes[attribute]).query
                self.link_parameters.update(key for key, _value in parse_qsl(query))

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form.values[self._textarea] = data.strip()

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


class ReadNames:
    """The names a view reads from ``request.GET`` and ``request.POST``
    (forms included), recorded while installed: the parameters it takes."""

    METHODS = ("__getitem__", "get", "getlist", "__contains__")

    def __init__(self, monkeypatch):
        self.names: set[str] = set()
        for method in self.METHODS:
            original = getattr(QueryDict, method)
            monkeypatch.setattr(QueryDict, method, self._recording(original))

    def _recording(self, original):
        def method(query_dict, key, *args, **kwargs):
            if isinstance(key, str):
                self.names.add(key)
            return original(query_dict, key, *args, **kwargs)

        return method

    def take(self) -> set[str]:
        names, self.names = self.names, set()
        return names


def route_of(path: str) -> str | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.route


# --- The world the requests act on ---------------------------------------------------------


@pytest.fixture
def world(db, monkeypatch, settings):
    """Objects for every kind of URL: a mentor with hours, types, time off, an
    override, an avatar and a calendar; a mentee with an upcoming session and a reviewed
    past one (reply and report); staff."""
    # Rate limits would turn most form posts into 429s before any field is read.
    settings.ACCOUNT_RATE_LIMITS = False
    today = timezone.localdate()
    mentor = new_york_mentor(starting=today - timedelta(days=7))
    mentee_user = UserFactory(name="Kiran Mentee", timezone="Asia/Kolkata")
    mentee = become_mentee(user=mentee_user)
    staff = UserFactory(name="Sam Staff", is_staff=True, is_superuser=True)
    intro = mentor.session_types.get(slug="intro-call")
    now = timezone.now()
    [first, *_] = available_slots(mentor, intro, now + timedelta(days=2), now + timedelta(days=30))
    upcoming = book_session(
        mentee_user=mentee_user, mentor=mentor, session_type=intro, start=first.start
    )
    past = CompletedSessionFactory(mentor=mentor, mentee=mentee, session_type=intro)
    review = ReviewFactory(session=past)
    ReviewReplyFactory(review=review)
    ReviewReportFactory(review=review, reporter=staff)
    availability.add_time_off(
        mentor=mentor,
        start=(now + timedelta(days=20)).replace(tzinfo=None, microsecond=0),
        end=(now + timedelta(days=21)).replace(tzinfo=None, microsecond=0),
    )
    override_day = today + timedelta(days=12)
    availability.set_date_override(mentor=mentor, day=override_day, ranges=[])
    picture = io.BytesIO()
    Image.new("RGB", (96, 96), "teal").save(picture, "PNG")
    mentor.user.avatar = SimpleUploadedFile("me.png", picture.getvalue(), "image/png")
    save_user(user=mentor.user)
    connection = CalendarConnectionFactory(mentor=mentor)
    # No calendar server exists here: calendar calls go to an in-memory one.
    use_fake_clients(monkeypatch, (connection.pk, FakeCalendarClient()))
    values = {
        "slug": mentor.slug,
        "type_slug": intro.slug,
        "session_id": str(upcoming.pk),
        "review_id": str(review.pk),
        "connection_id": str(connection.pk),
        "token": feed_for(user=mentee_user).token,
        "day": override_day.isoformat(),
        "pk": str(Availability.objects.get(mentor=mentor, kind="blocked").pk),
        "key": "not-a-key",
        "uidb36": "1",
        "path": mentor.user.avatar.name,
    }
    return {
        "users": {"mentee": mentee_user, "mentor": mentor.user, "staff": staff},
        "values": values,
        "review_session": str(past.pk),
    }


def admin_values(pattern: URLPattern) -> dict[str, str]:
    """Real ids for the admin's object URLs (``app_model_change`` and the like)."""
    values = {"app_label": "scheduling", "content_type_id": "1", "object_id": "1", "url": "x"}
    name = pattern.name or ""
    for model, _model_admin in admin.site._registry.items():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        if name.startswith(prefix):
            first = model._default_manager.order_by("pk").first()
            values["object_id"] = str(first.pk) if first else "1"
            values["app_label"] = model._meta.app_label
    if "content_type_id" in pattern.pattern.regex.pattern:
        from django.contrib.contenttypes.models import ContentType

        from accounts.models import User

        values["content_type_id"] = str(ContentType.objects.get_for_model(User).pk)
        values["object_id"] = str(User.objects.order_by("pk").first().pk)
    values["id"] = values["object_id"]  # the user admin's password page
    return values


# --- The run -------------------------------------------------------------------------------


class Run:
    """Sends the requests, as each role, and keeps the failures: one per URL
    pattern, method and cause."""

    def __init__(self, world, reader: ReadNames):
        self.rng = random.Random(SEED)
        self.users = world["users"]
        self.reader = reader
        self.clients = {role: Client(raise_request_exception=False) for role in ROLES}
        for role, client in self.clients.items():
            if role != "visitor":
                client.force_login(self.users[role])
        self.after_post: set[str] = set()  # roles whose last request may have signed them out
        self.count = 0
        self.counts: dict[str, int] = defaultdict(int)  # per method
        self.failures: list[str] = []
        self.causes: set[tuple] = set()
        self.errors: list[str] = []
        got_request_exception.connect(self._record_exception)

    def close(self):
        got_request_exception.disconnect(self._record_exception)

    def _record_exception(self, sender, request=None, **kwargs):
        """The exception and where in our code (or else in a library) it rose."""
        error_type, error, trace = sys.exc_info()
        frames = traceback.extract_tb(trace)
        ours = [
            frame for frame in frames if PROJECT in frame.filename and VENV not in frame.filename
        ]
        where = (ours or frames)[-1]
        self.errors.append(
            f"{error_type.__name__}: {str(error)[:200]}\n"
            f"  at {where.filename}:{where.lineno} in {where.name}"
            + (f"\n  raised in {frames[-1].filename}:{frames[-1].lineno}" if ours else "")
        )

    def send(self, role: str, method: str, path: str, **options):
        client = self.clients[role]
        if role in self.after_post and "_auth_user_id" not in client.session:
            client.force_login(self.users[role])  # a logout or a deletion ended it
        self.after_post.discard(role)
        self.count += 1
        self.counts[method] += 1
        errors_before = len(self.errors)
        self.reader.take()
        response = client.generic(method, path, **options)
        if method == "POST" and role != "visitor":
            self.after_post.add(role)
        if response.status_code >= 500 or len(self.errors) > errors_before:
            raised = self.errors[-1] if len(self.errors) > errors_before else ""
            cause = (route_of(path) or path, method, raised.split(":")[0], raised.split("\n")[1:2])
            cause = (*cause[:3], tuple(cause[3]))
            if cause not in self.causes:
                self.causes.add(cause)
                shown = path if len(path) < 200 else path[:200] + "…"
                self.failures.append(
                    f"{role} {method} {shown} -> {response.status_code}\n{raised}".strip()
                )
        return response

    def get(self, role: str, path: str, pairs: list[tuple[str, str]] | str):
        query = pairs if isinstance(pairs, str) else urlencode(pairs)
        headers = {"HTTP_HX_REQUEST": "true"} if self.rng.random() < 0.3 else {}
        return self.send(role, "GET", f"{path}?{query}" if query else path, **headers)

    def post(self, role: str, path: str, data: dict | bytes):
        headers = {"HTTP_HX_REQUEST": "true"} if self.rng.random() < 0.3 else {}
        if isinstance(data, bytes):
            content_type = "application/x-www-form-urlencoded"
        else:
            data, content_type = (
                encode_multipart(BOUNDARY, data),
                f"multipart/form-data; boundary={BOUNDARY}",
            )
        return self.send(role, "POST", path, data=data, content_type=content_type, **headers)

    # What to send ------------------------------------------------------------------

    def hostile(self, count: int) -> list[str]:
        return self.rng.sample(HOSTILE_VALUES, count)

    def raw(self, names) -> str:
        """Bytes that are not UTF-8 (and NUL) as every value and as a name."""
        pairs = [f"{quote(name)}={self.rng.choice(RAW_VALUES)}" for name in sorted(names)]
        return "&".join([*pairs, "%FF%FE=%ED%A0%80", "=", "a"])

    def queries(self, names: set[str], depth: str) -> list:
        """Query strings: every parameter with one kind of value at a time;
        each parameter alone with a few hostile values (so the others keep
        their defaults and the code behind them runs); repeated parameters;
        raw bytes. Fewer of them at a lighter ``depth``."""
        names = sorted(names)
        if depth == TURNED_AWAY:
            return [[(name, "\x00") for name in names], self.raw(names)]
        kinds = EVERY_KIND if depth == OURS else EVERY_KIND[:6]
        queries = [[(name, value) for name in names] for value in kinds]
        for name in names:
            # Alone, so that the others keep their defaults and the code that
            # reads this one runs: each kind of value (our views), and one more.
            alone = [*EVERY_KIND[:6], *self.hostile(1)] if depth == OURS else self.hostile(1)
            queries += [[(name, value)] for value in alone]
        queries.append([(name, value) for name in names for value in self.hostile(2)])
        queries.append(self.raw(names))
        return queries

    def bodies(self, fields: dict[str, str], base: dict[str, str], depth: str) -> list:
        """Form bodies: one kind of value in every field (hostile files in
        file fields); the form as the page would send it with one field made
        hostile at a time; raw bytes. Fewer of them at a lighter ``depth``."""
        if depth == TURNED_AWAY:
            return [self._every_field(fields, "\x00"), self.raw(fields).encode()]
        if depth == ADMIN:
            bodies = [self._every_field(fields, value) for value in EVERY_KIND[:3]]
            return [*bodies, self.raw(fields).encode()]
        bodies = [self._every_field(fields, value) for value in EVERY_KIND[:6]]
        for name, kind in fields.items():
            if kind in ("file", "submit"):
                continue
            bodies.append({**base, name: self.hostile(1)[0]})
        bodies.append(self.raw(fields).encode())
        return bodies

    def _every_field(self, fields: dict[str, str], value: str) -> dict:
        return {name: self._file() if kind == "file" else value for name, kind in fields.items()}

    def _file(self) -> SimpleUploadedFile:
        name, content = self.rng.choice(
            [
                ("portrait.png", b"<html><script>alert(1)</script></html>"),
                ("portrait.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
                ("x" * 300 + ".jpg", b""),
                ("\x00.png", b"GIF89a"),
            ]
        )
        return SimpleUploadedFile(name, content, content_type="image/png")


def concrete_urls(world) -> list[tuple[str, str]]:
    """(route, path) for every pattern, with real objects in its parameters."""
    urls = []
    for route, pattern in every_pattern():
        values = {**world["values"], **admin_values(pattern)}
        if pattern.name in ("session_review",):
            values["session_id"] = world["review_session"]
        names = parameter_names(route)
        missing = [name for name in names if name not in values]
        assert not missing, f"no value for {missing} in {route}: add one to the world"
        path = fill(route, values)
        urls.append((route, path))
    return urls


# How hard each URL and role is tried: views of ours fully; Django's admin,
# 119 patterns of largely the same code, with fewer kinds of value; a role the
# URL turns away (sign in, 403, 404, 405) with NUL and raw bytes only.
OURS, ADMIN, TURNED_AWAY = "ours", "admin", "turned away"


def depth(route: str, response, names: set[str]) -> str:
    if response.status_code not in (200, 400, 409) and not names:
        return TURNED_AWAY
    return ADMIN if route.startswith("admin/") else OURS


def test_no_input_gives_a_server_error(world, monkeypatch, capsys, record_property):
    reader = ReadNames(monkeypatch)
    run = Run(world, reader)
    try:
        urls = concrete_urls(world)
        routes = {route for route, _path in urls}
        read: dict[tuple[str, str], set[str]] = {}
        reached: dict[tuple[str, str], str] = {}
        form_fields: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
        form_values: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)

        # 1. Each URL as each role, plainly: the parameters it reads, the
        #    parameters its links use, the forms on it and where they post.
        for route, path in urls:
            for role in ROLES:
                response = run.send(role, "GET", path)
                names = reader.take()
                if response.get("Content-Type", "").startswith("text/html"):
                    page = PageReader(path)
                    page.feed(response.content.decode(errors="replace"))
                    names |= page.link_parameters
                    for form in page.forms:
                        target = route_of(form.action)
                        if form.method == "get":
                            names |= set(form.fields)
                        elif target in routes:
                            form_fields[(target, role)].update(form.fields)
                            form_values[(target, role)].update(form.values)
                read[(route, role)] = names
                reached[(route, role)] = depth(route, response, names)

        # 2. Hostile query strings.
        for route, path in urls:
            for role in ROLES:
                for query in run.queries(read[(route, role)], reached[(route, role)]):
                    run.get(role, path, query)

        # 3. Hostile bodies, for what takes a POST; what ends things last.
        for route, path in sorted(urls, key=lambda url: any(w in url[0] for w in ENDING)):
            for role in ROLES:
                response = run.post(role, path, {})
                fields = {**dict.fromkeys(reader.take(), "text"), **form_fields[(route, role)]}
                if response.status_code == 405:
                    continue
                reach = depth(route, response, set(fields))
                for body in run.bodies(fields, form_values[(route, role)], reach):
                    run.post(role, path, body)
    finally:
        run.close()

    summary = (
        f"hostile input: {run.count} requests ({run.counts['GET']} GET, "
        f"{run.counts['POST']} POST) to {len(urls)} URL patterns as {len(ROLES)} roles; "
        f"server errors from {len(run.failures)} causes"
    )
    record_property("hostile_requests", run.count)
    with capsys.disabled():
        print(f"\n{summary}")
    assert not run.failures, summary + "\n\n" + "\n\n".join(run.failures)
