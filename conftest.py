"""Fixtures shared by every app's tests.

Services (Chromium, PostgreSQL, Redis) that are absent skip the tests that need
them, with the reason, except when ``MENTORSHIP_REQUIRE_SERVICES=1`` (set by
``.ci/run``): then an absent service is a failure.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent
ARTIFACTS_DIR = PROJECT_DIR / "test-artifacts"


def service_missing(reason: str) -> None:
    """Skip the current test for ``reason``, or fail it in CI."""
    if os.environ.get("MENTORSHIP_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@contextmanager
def serving(handler):
    """An HTTP server on a free loopback port, answering with ``handler`` (a
    ``BaseHTTPRequestHandler`` class) in threads; yields the server and stops
    it on the way out. Its handler threads are daemons, so one still waiting
    does not hold up the test."""
    from http.server import ThreadingHTTPServer

    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters and cached values must not leak between tests
    (the cache may be a shared Redis in CI)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def redis_url() -> str:
    from mentorship.settings_test import worker_redis_url

    url = worker_redis_url(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/4"))
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        service_missing(f"Redis is not reachable at {url}: {error}")
    return url


# --- Signed-in clients, the admin, messages ---------------------------------------------------


@pytest.fixture
def staff(db):
    """A superuser with staff access: the back office's user."""
    from accounts.tests.factories import UserFactory

    return UserFactory(is_staff=True, is_superuser=True, name="Sam Staff")


@pytest.fixture
def staff_client(client, staff):
    """The test client, signed in as ``staff``."""
    client.force_login(staff)
    return client


@pytest.fixture
def owner_client(client, mentor):
    """The test client, signed in as the user of ``mentor`` (the fixture the
    test module or its app's conftest defines)."""
    client.force_login(mentor.user)
    return client


def result_rows(response) -> list[str]:
    """An admin changelist's result rows (the HTML of each ``<tr>``); none
    when the list is empty (the admin then draws no table, only "0 …")."""
    assert response.status_code == 200
    if "<tbody>" not in response.text:
        return []
    body = response.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>.*?</tr>", body, flags=re.S)


def messages_of(response) -> list[str]:
    """The messages pending after ``response`` (not yet shown on a page)."""
    from django.contrib.messages import get_messages

    return [str(message) for message in get_messages(response.wsgi_request)]


def login_required_url(path: str) -> str:
    """Where ``login_required`` sends anonymous visitors (slashes kept)."""
    from django.urls import reverse

    return f"{reverse('account_login')}?next={path}"


@pytest.fixture
def run_django():
    """Runs Python in a fresh process with the project's settings and a clean
    environment, so settings are read exactly as a deployment would read them."""

    def run(code: str, env: dict[str, str], settings_module: str = "mentorship.settings"):
        base = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_URL", "CELERY_", "REDIS_URL", "EMAIL_URL"))
        }
        base["DJANGO_SETTINGS_MODULE"] = settings_module
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=PROJECT_DIR,
            env={**base, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


# --- Benchmarks ------------------------------------------------------------------------------


@pytest.fixture
def bench_urls(settings):
    """What benchmarks.settings adds: the bare view's URL and template directory."""
    from benchmarks import TEMPLATES_DIR

    settings.ROOT_URLCONF = "benchmarks.urls"
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [*engine["DIRS"], TEMPLATES_DIR]}]


# --- Browser -------------------------------------------------------------------


def chromium_path() -> str | None:
    candidate = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    return candidate if candidate and Path(candidate).exists() else None


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if executable is None:
        service_missing("Chromium is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # test makes between browser steps are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page_zone() -> str:
    """The time zone the ``page`` fixture's browser is in; a module that needs
    another defines its own ``page_zone``."""
    return "Europe/Berlin"


@pytest.fixture
def page(browser, live_server, page_zone):
    """A page in a fresh context on the live server, in ``page_zone``."""
    context, page = new_page(
        browser, live_server, page_zone, viewport={"width": 1280, "height": 900}
    )
    yield page
    context.close()


def watch_browser_problems(page) -> list[str]:
    """Console errors (CSP violations among them), page errors and failed
    requests that ``page`` sees from now on; a test asserts the list stays empty."""
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text} ({page.url})")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error} ({page.url})"))
    page.on(
        "requestfailed",
        lambda request: (
            # A navigation cancels the previous page's pending loads (the
            # favicon, typically): that is the browser, not a broken link.
            None
            if request.failure == "net::ERR_ABORTED"
            else problems.append(f"request failed: {request.url} ({request.failure})")
        ),
    )
    return problems


@pytest.fixture
def browser_problems(page) -> list[str]:
    return watch_browser_problems(page)


@pytest.fixture
def screenshot(page):
    """Saves a full-page PNG under test-artifacts/screenshots/ for review."""

    def take(name: str) -> Path:
        return shoot(page, name)

    return take


def pytest_report_header(config):
    url = os.environ.get("DATABASE_URL", "")
    database = "PostgreSQL" if url.startswith(("postgres", "pgsql")) else "SQLite"
    broker = os.environ.get("CELERY_BROKER_URL") or "none (eager)"
    return f"mentorship: database {database}, broker {broker}"


# --- CalDAV (Radicale) ---------------------------------------------------------------


class RadicaleServer:
    """A Radicale CalDAV server on loopback with plain-text htpasswd users,
    run as a subprocess with its own storage folder."""

    USERS = {"alice": "alice-app-password", "bob": "bob-app-password"}

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        users = self.folder / "users"
        users.write_text("".join(f"{name}:{secret}\n" for name, secret in self.USERS.items()))
        config = self.folder / "config"
        config.write_text(
            "[server]\n"
            f"hosts = 127.0.0.1:{self.port}\n"
            "[auth]\n"
            "type = htpasswd\n"
            f"htpasswd_filename = {users}\n"
            "htpasswd_encryption = plain\n"
            "delay = 0\n"
            "[rights]\n"
            "type = owner_only\n"
            "[storage]\n"
            f"filesystem_folder = {self.folder / 'collections'}\n"
            "[web]\n"
            "type = none\n"
            "[logging]\n"
            "level = warning\n"
        )
        self.log = self.folder / "radicale.log"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "radicale", "--config", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        while not port_open("127.0.0.1", self.port, timeout=0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"Radicale did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def make_calendar(self, user: str = "alice", name: str | None = None) -> str:
        """A new, empty calendar collection of ``user`` (MKCALENDAR); its URL."""
        import requests

        slug = uuid.uuid4().hex[:12]
        url = f"{self.url}/{user}/{slug}/"
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
            f"<d:set><d:prop><d:displayname>{name or slug}</d:displayname></d:prop></d:set>"
            "</c:mkcalendar>"
        )
        response = requests.request(
            "MKCALENDAR", url, data=body.encode(), auth=(user, self.USERS[user]), timeout=10
        )
        assert response.status_code == 201, response.text
        return url


def radicale_available() -> None:
    import importlib.util

    if importlib.util.find_spec("radicale") is None:
        service_missing("Radicale is not installed (pip install -r requirements-dev.txt)")


@pytest.fixture(scope="session")
def radicale(tmp_path_factory):
    """A Radicale server for the whole run (each xdist worker has its own).
    Tests make their own calendars with ``make_calendar`` so they never share one."""
    radicale_available()
    server = RadicaleServer(tmp_path_factory.mktemp("radicale"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def radicale_calendar(radicale, settings):
    """A fresh calendar of "alice" on the shared Radicale; its URL. Lets the
    CalDAV client reach loopback over plain http (``CALDAV_ALLOW_LOCAL_HTTP``)."""
    settings.CALDAV_ALLOW_LOCAL_HTTP = True
    return radicale.make_calendar("alice", name="Work")


# --- Helpers shared by the browser tests and the race tests ------------------------------


def new_page(browser, live_server, zone: str = "UTC", **options):
    """A fresh browser context on the live server in ``zone``; returns (context, page).

    The locale is British English unless told (its clock is 24-hour; the
    site reads the browser's clock from it, see ``static/js/timezone.js``)."""
    options.setdefault("locale", "en-GB")
    context = browser.new_context(base_url=live_server.url, timezone_id=zone, **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def submit_login(page, email: str, password: str | None = None) -> None:
    """Fill in and send the login form (the factories' password by default),
    whether or not the server accepts it."""
    from accounts.tests.factories import PASSWORD

    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(password or PASSWORD)
    page.get_by_role("button", name="Sign In").click()


def submit_signup(page, *, name: str, email: str, password: str) -> None:
    """Fill in and send the sign-up form the page shows."""
    page.locator("#id_name").fill(name)
    page.locator("#id_email").fill(email)
    page.locator("#id_password1").fill(password)
    page.locator("#id_password2").fill(password)
    page.get_by_role("button", name="Sign Up").click()


def log_in(page, email: str, password: str | None = None) -> None:
    """Sign in through the login form (the factories' password by default)."""
    from playwright.sync_api import expect

    submit_login(page, email, password)
    expect(page.locator("#account-menu")).to_be_visible()


CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)")


def confirmation_link(mailoutbox, address: str, pattern: re.Pattern = CONFIRM_LINK) -> str:
    """The path of the one email-confirmation link (``pattern``, whose group
    1 is the path) sent to ``address``."""
    links = [
        match.group(1)
        for message in mailoutbox
        if address in message.to
        for match in [pattern.search(message.body)]
        if match
    ]
    assert len(links) == 1, [message.body for message in mailoutbox]
    return links[0]


def shoot(page, name: str) -> Path:
    """A full-page screenshot in test-artifacts/screenshots/<name>.png; its path."""
    target = ARTIFACTS_DIR / "screenshots" / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True)
    return target


def run_together(calls, *, timeout: float = 60):
    """Run each callable in its own thread (so on its own database
    connection), all released at once by a barrier. Returns one
    ``("ok", result)`` or ``("error", exception)`` per callable, in order;
    each thread closes its connection when done."""
    from django.db import connection

    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=timeout)
            outcomes[index] = ("ok", call())
        except BaseException as error:  # noqa: BLE001 (reported to the test)
            outcomes[index] = ("error", error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(index, call), daemon=True)
        for index, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return outcomes


def describe_outcomes(outcomes) -> str:
    """``run_together``'s outcomes, one a line (errors with their cause), for
    a failure message."""
    return "\n".join(
        f"{kind}: {type(value).__name__}: {value} (cause: {value.__cause__!r})"
        if kind == "error"
        else f"{kind}: {value!r}"
        for kind, value in outcomes
    )


def split_outcomes(outcomes, refusal: type[Exception]):
    """``run_together``'s (results, errors); fails on any error that is not a
    ``refusal`` (the rule's own exception)."""
    done = [value for kind, value in outcomes if kind == "ok"]
    refused = [value for kind, value in outcomes if kind == "error"]
    unexpected = [error for error in refused if not isinstance(error, refusal)]
    assert not unexpected, describe_outcomes(outcomes)
    return done, refused


# --- Accessibility (axe-core) ----------------------------------------------------------------

AXE_SCRIPT = PROJECT_DIR / "mentorship" / "tests" / "vendor" / "axe.min.js"


def axe_violations(page, *, context=None) -> list[str]:
    """What axe-core (vendored, ``mentorship/tests/vendor/``) finds wrong on the
    page as it is now, with every default rule (WCAG 2.0-2.2 A and AA and
    best practices), one line per failing element:
    ``"<rule id> (<impact>): <target selector> — <failure summary>"``.
    A test asserts the list is empty, so a failure prints what to fix.

    ``context`` narrows the check (an axe context: a selector, or
    ``{"exclude": [...]}``); only for markup we do not serve. The page's
    context must be made with ``bypass_csp=True``: our Content-Security-Policy
    rightly refuses the injected script."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate(
        """async (context) => {
            const results = await axe.run(context ?? document, {resultTypes: ["violations"]});
            return results.violations.flatMap((violation) =>
                violation.nodes.map((node) => ({
                    rule: violation.id,
                    impact: node.impact ?? violation.impact,
                    target: node.target.map((part) => [].concat(part).join(" >>> ")).join(", "),
                    summary: node.failureSummary ?? violation.help,
                })),
            );
        }""",
        context,
    )
    return [
        f"{row['rule']} ({row['impact']}): {row['target']} — {' '.join(row['summary'].split())}"
        for row in results
    ]


def served_database_url() -> str:
    """The URL of the test database this process uses, for a subprocess
    (gunicorn in the benchmarks' tests) to serve the same data."""
    from django.db import connection

    database = connection.settings_dict
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    return (
        f"postgres://{credentials}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
        f"/{database['NAME']}"
    )


def discouraged_plan(sql: str) -> dict:
    """PostgreSQL's plan of ``sql`` (``EXPLAIN (FORMAT JSON)``, its root
    node) with sequential scans and sorts discouraged, not forbidden: on a
    test's small tables the planner may rightly prefer reading a whole table,
    but a Sort node still appears if no index gives the order."""
    import json

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        document = cursor.fetchone()[0]
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_sort")
    if isinstance(document, str):
        document = json.loads(document)
    return document[0]["Plan"]


def plan_nodes(node: dict) -> list[dict]:
    """A plan node (of ``EXPLAIN (FORMAT JSON)``) and every node below it."""
    found, stack = [], [node]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.get("Plans", []))
    return found
