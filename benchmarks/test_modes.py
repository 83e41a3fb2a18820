"""Smoke tests for the load mix, the memory figures, the scale run, the
cache option and the targets: they run and report; no timing is asserted."""

import json
import os
from collections import deque
from http.server import BaseHTTPRequestHandler

import pytest
from django.db import connection

from benchmarks import memory, runner
from benchmarks.endpoints import ENDPOINTS, Endpoint
from benchmarks.measure import InProcessResult, Row
from benchmarks.mix import MixData, Step, format_mix, run_mix, run_users
from benchmarks.runner import _without_nan, configure_cache, parse_args, seed
from benchmarks.targets import MET, NOT_MEASURED, NOT_MET, evaluate, format_targets
from conftest import served_database_url, serving


class _Site(BaseHTTPRequestHandler):
    """200 for every GET but /missing, 302 for every POST."""

    protocol_version = "HTTP/1.1"

    def _answer(self, status):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_GET(self):
        self._answer(404 if self.path == "/missing" else 200)

    def do_POST(self):
        self._answer(302)

    def log_message(self, *args):
        pass


def _data(bookings: int, directory=("/mentors/",)) -> MixData:
    return MixData(
        directory=list(directory),
        search=["/mentors/?q=python"],
        mentor_pages=["/mentors/a/", "/mentors/b/"],
        slots=["/mentors/a/slots/"],
        pickers=["/mentors/a/book/"],
        session_cookies=["sessionid=x"],
        bookings=deque(
            Step("booking", "/mentors/a/book/", method="POST", body=b"x=1", expected=302)
            for _ in range(bookings)
        ),
    )


def test_mix_users_journey_through_every_kind_of_page():
    with serving(_Site) as server:
        host, port = server.server_address[:2]
        data = _data(bookings=50)
        result = run_users(host, port, data, users=2, seconds=1.0, think=0.005)

    figures = result.as_dict()
    assert figures["failed"] == 0
    assert figures["requests"] > 10
    assert set(figures["kinds"]) >= {"directory", "mentor page", "picker", "sessions"}
    assert figures["p95_ms"] >= figures["p50_ms"] > 0
    assert result.requests_per_second > 0
    # Each planned booking is sent once (302 from the stub), the rest left.
    booked = figures["kinds"].get("booking", {"requests": 0})["requests"]
    assert booked == 50 - len(data.bookings)
    json.dumps(figures, allow_nan=False)


def test_mix_counts_unexpected_statuses_and_skipped_bookings():
    with serving(_Site) as server:
        host, port = server.server_address[:2]
        result = run_users(
            host, port, _data(bookings=0, directory=["/missing"]), users=1, seconds=0.5, think=0
        )

    assert result.failed("directory") == result.requests("directory") > 0
    assert result.failed() == result.failed("directory")
    assert result.bookings_skipped > 0
    report = format_mix(
        {
            "mix": {
                **result.as_dict(),
                "workers": 1,
                "bookings_planned": 0,
                "bookings_made_302": 0,
                "bookings_in_database": 0,
            },
            "saturation": None,
        }
    )
    assert "journeys found no planned slot left" in report


def test_new_options():
    args = parse_args([])
    assert (args.mentors, args.scale_mentors, args.cache) == (10_000, 30_000, "auto")
    assert (args.mix, args.mix_users, args.think, args.memory) == (True, 50, 1.0, True)
    assert (args.memory_requests, args.celery_tasks) == (10_000, 1000)
    args = parse_args(["--no-mix", "--no-memory", "--scale-mentors", "0", "--cache", "redis"])
    assert (args.mix, args.memory, args.scale_mentors, args.cache) == (False, False, 0, "redis")
    with pytest.raises(SystemExit):
        parse_args(["--mentors", "100", "--scale-mentors", "50"])


def test_cache_option_sets_redis_url(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert configure_cache("auto") == ("local", None)
    assert configure_cache("redis") == ("redis", runner.DEFAULT_REDIS_URL)
    assert os.environ["REDIS_URL"] == runner.DEFAULT_REDIS_URL
    assert configure_cache("auto") == ("redis", runner.DEFAULT_REDIS_URL)
    assert configure_cache("local") == ("local", None)
    assert "REDIS_URL" not in os.environ


def test_celery_broker_is_never_the_cache_database(monkeypatch):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    assert memory.broker_url(None) is None
    assert memory.broker_url("redis://h:6379/1") == "redis://h:6379/0"
    assert memory.broker_url("redis://h:6379/0") == "redis://h:6379/2"
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://h:6379/5")
    assert memory.broker_url("redis://h:6379/1") == "redis://h:6379/5"
    monkeypatch.setenv("CELERY_BROKER_URL", "memory://localhost/")
    assert memory.broker_url("redis://h:6379/1") == "redis://h:6379/0"


def _row(name, median, ratio, queries=3):
    return Row(
        name=name,
        path="/",
        user=None,
        in_process=InProcessResult(requests=3, median_ms=median, p95_ms=median, queries=queries),
        in_process_ratio=ratio,
    )


def test_targets_say_met_not_met_or_not_measured_and_why():
    rows = [
        _row("bare template", 2.0, 1.0, 0),
        _row("sessions (40)", 4.0, 2.0, 9),
        _row("sessions (4000)", 8.0, 4.0, 9),
        _row("directory p1", 3.0, 1.5),
        _row("slot picker", 5.0, 2.5),
    ]

    targets = evaluate(rows=rows, cache="redis", mix_skipped="--no-mix")
    by_what = {(t.area, t.what): t for t in targets}

    sessions = by_what[("/sessions/", "4,000 sessions / 40 sessions (page 1)")]
    assert (sessions.measured, sessions.status) == (2.0, NOT_MET)
    assert by_what[("/sessions/", "queries, 4,000 sessions minus 40 sessions")].status == MET
    assert by_what[("directory", "page 1, cached, with Redis, x bare")].status == MET
    mix = by_what[("load mix", "50 users with think time: p95")]
    assert (mix.status, mix.note) == (NOT_MEASURED, "--no-mix")
    # The rows of the table, every one present.
    assert {t.area for t in targets} == {
        "booking POST",
        "/sessions/",
        "directory",
        "mentor page",
        "slots",
        "load mix",
        "memory",
    }
    local = {(t.area, t.what): t for t in evaluate(rows=rows, cache="local")}
    assert "not Redis" in local[("directory", "page 1, cached, with Redis, x bare")].note
    assert "not met" in format_targets(targets)
    json.dumps([_without_nan(t.as_dict()) for t in targets], allow_nan=False)


@pytest.mark.django_db
def test_scale_run_measures_the_directory_again(bench_urls):
    from benchmarks.measure import run_in_process
    from mentorship.models import MentorProfile

    seed(mentors=3, migrate=False, demo=False, progress=lambda message: None, fixtures="none")
    rows = run_in_process(
        [e for e in ENDPOINTS if e.name.startswith("directory")], requests=2, warmup=1
    )

    scale = runner.run_scale(
        mentors=6, base_rows=rows, requests=2, warmup=1, progress=lambda message: None
    )

    assert MentorProfile.objects.filter(slug__startswith="bench-mentor-").count() == 6
    assert set(scale["ratio_to_base"]) == {
        "directory p1",
        "directory deep",
        "directory q",
        "directory p1 cold",
        "directory deep cold",
        "directory q cold",
    }
    assert scale["worst_uncached_ratio"] > 0
    assert scale["search_cold_x_bare"] > 0
    assert "x bare at 6 / x bare at 3" in runner.format_scale(scale, 3)


def _require_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("gunicorn serves the test database only on PostgreSQL; this run is on SQLite")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_mix_and_gunicorn_memory_through_gunicorn():
    _require_postgresql()
    seed(mentors=3, migrate=False, progress=lambda message: None, fixtures="small")
    env = {"DATABASE_URL": served_database_url()}

    figures = run_mix(
        users=2,
        seconds=2.0,
        think=0.05,
        workers=1,
        bookings=3,
        saturation_seconds=0.5,
        max_users=2,
        settings_module="mentorship.settings_test",
        env=env,
    )

    mix = figures["mix"]
    assert mix["failed"] == 0, mix
    assert mix["requests"] > 0
    assert mix["bookings_in_database"] == mix["bookings_made_302"]
    assert figures["saturation"]["peak_requests_per_second"] > 0
    assert "load mix: 2 users" in format_mix(figures)

    endpoints = [
        Endpoint("home", "/"),
        Endpoint("sessions", "/sessions/", user="bench-sessions-40@bench.example.com"),
    ]
    measured = memory.gunicorn_rss(
        endpoints, requests=20, workers=1, settings_module="mentorship.settings_test", env=env
    )
    assert measured["unexpected"] == 0, measured["statuses"]
    assert measured["max_rss_mb"] > 10
    assert len(measured["rss_mb_after"]) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_celery_worker_memory_after_notification_tasks(redis_url):
    _require_postgresql()
    seed(mentors=3, migrate=False, progress=lambda message: None, fixtures="small")

    measured = memory.celery_rss(
        tasks=4,
        broker=redis_url,
        settings_module="mentorship.settings_test",
        env={"DATABASE_URL": served_database_url()},
        timeout=60,
    )

    # The statuses of the task's rows, read from the database after the worker ran.
    assert measured["outcomes"] == {"sent": 4}
    assert measured["tasks"] == 4
    assert measured["rss_mb_after"] > 10
    assert "after 4 notification tasks" in memory.format_memory(None, measured, [])
