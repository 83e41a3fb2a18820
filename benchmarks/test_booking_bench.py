"""Smoke tests for the booking benchmarks: they run, check and report; no timing is asserted."""

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

import pytest
from django.db import connection

from benchmarks import booking
from benchmarks.booking import format_booking, measure_booking_posts
from benchmarks.contention import (
    ContentionResult,
    format_contention,
    run_contention,
    unsupported_reason,
)
from benchmarks.loadgen import PreparedRequest, race
from benchmarks.measure import BenchmarkError
from benchmarks.runner import _without_nan, parse_args
from conftest import served_database_url, serving
from scheduling.models import Session


@pytest.mark.django_db
def test_booking_posts_each_book_another_free_slot_and_are_checked(bench_urls):
    run = measure_booking_posts(requests=4, warmup=1, rounds=2)

    row = run.row
    assert row.name == "booking POST"
    assert row.in_process.requests == 4
    assert row.in_process.median_ms > 0
    assert row.in_process.queries > 0
    assert run.bare.requests == 4
    assert row.in_process_ratio > 0
    # Warm-up, timed and query-counting bookings: each its own session and slot.
    sessions = Session.objects.blocking().filter(mentor__slug__startswith="bench-booking-mentor-")
    assert sessions.count() == 1 + 4 + booking.QUERY_SAMPLES
    assert len({(session.mentor_id, session.start) for session in sessions}) == sessions.count()
    assert booking.double_bookings() == 0
    assert "booking POST (302, 4 different free slots" in format_booking(run)
    # The reference POSTs, timed in the same rounds: nothing booked, their queries counted.
    assert [reference.name for reference in run.references] == [
        "signed-in POST, no work",
        "signed-in POST, locked write",
    ]
    no_work, locked_write = run.references
    assert no_work.in_process.requests == locked_write.in_process.requests == 4
    assert 0 < no_work.in_process.queries < locked_write.in_process.queries
    assert locked_write.in_process_ratio > 0
    assert "for reference, signed-in POST, locked write" in format_booking(run)
    assert "the booking is " in format_booking(run).splitlines()[-1]
    # The --json payload: the references' missing HTTP figures become null.
    payload = _without_nan(
        {**run.row.as_dict(), "references": [r.as_dict() for r in run.references]}
    )
    assert json.loads(json.dumps(payload, allow_nan=False))["references"][0]["http_ratio"] is None


@pytest.mark.django_db
def test_reference_posts_need_a_signed_in_user_and_a_csrf_token(bench_urls, client):
    from benchmarks import LOCKED_WRITE_PATH, SIGNED_IN_POST_PATH

    for path in (SIGNED_IN_POST_PATH, LOCKED_WRITE_PATH):
        assert client.get(path).status_code == 405
        assert client.post(path).status_code == 302  # to sign in
        assert "/accounts/login/" in client.post(path).headers["Location"]


@pytest.mark.django_db
def test_booking_run_prepares_again_from_a_free_calendar(bench_urls):
    measure_booking_posts(requests=2, warmup=1, rounds=1)
    measure_booking_posts(requests=2, warmup=1, rounds=1)

    assert Session.objects.count() == 1 + 2 + booking.QUERY_SAMPLES


@pytest.mark.django_db
def test_a_booking_that_is_not_a_302_stops_the_run(bench_urls, monkeypatch):
    real = booking.free_slots
    # Every request for the same slot: the second one is refused.
    monkeypatch.setattr(
        booking, "free_slots", lambda mentor, count, now=None: real(mentor, 1, now=now) * count
    )

    with pytest.raises(BenchmarkError, match="answered 409"):
        measure_booking_posts(requests=2, warmup=1)


class _FirstWins(BaseHTTPRequestHandler):
    """Answers a POST only once every client of the round has sent one (so
    requests that were not in flight together time out with 503); the first
    POST of each ``start`` gets 302, the others 409."""

    protocol_version = "HTTP/1.1"
    clients = 2
    lock = threading.Lock()
    barriers: dict[str, threading.Barrier] = {}
    winners: set[str] = set()
    peers: dict[str, set] = {}

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        start = parse_qs(body)["start"][0]
        with self.lock:
            barrier = self.barriers.setdefault(start, threading.Barrier(self.clients, timeout=5))
            self.peers.setdefault(start, set()).add(self.client_address)
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            status = 503
        else:
            with self.lock:
                status = 409 if start in self.winners else 302
                self.winners.add(start)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_race_sends_each_round_together_on_separate_connections():
    _FirstWins.barriers, _FirstWins.winners, _FirstWins.peers = {}, set(), {}
    rounds = [
        [
            PreparedRequest("POST", "/book/", f"start=round-{number}&client={client}".encode())
            for client in range(2)
        ]
        for number in range(3)
    ]
    with serving(_FirstWins) as server:
        host, port = server.server_address[:2]
        outcomes = race(host, port, rounds, timeout=10)

    assert [sorted(outcome.status for outcome in row) for row in outcomes] == [[302, 409]] * 3
    assert all(outcome.seconds > 0 for row in outcomes for outcome in row)
    assert all(len(peers) == 2 for peers in _FirstWins.peers.values())  # two connections
    result = ContentionResult.from_outcomes(outcomes, clients=2, rounds=3, workers=1, threads=2)
    result.bookings_per_round = [1, 1, 1]
    assert result.statuses == Counter({302: 3, 409: 3})
    assert result.wins_per_round == [1, 1, 1]
    assert result.failures() == []
    report = format_contention(result)
    assert "302: 3, 409: 3, other: 0" in report
    assert "exactly one in 3/3 rounds (ok)" in report


def test_every_must_be_figure_is_checked():
    result = ContentionResult(
        clients=2,
        rounds=3,
        workers=1,
        threads=1,
        statuses=Counter({302: 3, 409: 1, 500: 1}),
        errors=Counter({"ConnectionResetError": 1}),
        latencies=[0.01] * 5,
        wins_per_round=[2, 1, 0],
        bookings_per_round=[2, 1, 0],
        double_bookings=1,
        deadlocks=2,
    )

    failures = result.failures()
    assert failures == [
        "2 of 3 rounds did not book exactly one session",
        "1 double bookings",
        "2 deadlocks",
        "1 server errors (5xx)",
    ]
    assert result.other == 2  # the 500 and the connection error
    report = format_contention(result)
    assert "other: 2 (500: 1, ConnectionResetError: 1)" in report
    assert report.count("FAILED") == 4
    assert result.as_dict()["failures"] == failures


def test_contention_needs_postgresql():
    assert "needs PostgreSQL" in unsupported_reason("sqlite")
    assert unsupported_reason("postgresql") is None


def test_booking_options():
    args = parse_args(["--requests", "40"])
    assert args.booking_requests == 40
    assert (args.contention_clients, args.contention_rounds) == (8, 100)
    assert parse_args(["--booking-requests", "5"]).booking_requests == 5
    with pytest.raises(SystemExit):
        parse_args(["--contention-clients", "1"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_contention_run_books_each_slot_once_through_gunicorn():
    if connection.vendor != "postgresql":
        # Not a missing service: CI's PostgreSQL pass runs this test.
        pytest.skip("the contention run measures PostgreSQL's locking; this run is on SQLite")

    # gunicorn serves the test database, with the test settings (same secret key
    # and cookie names as the sessions made here).
    result = run_contention(
        clients=3,
        rounds=3,
        workers=2,
        threads=2,
        settings_module="mentorship.settings_test",
        env={"DATABASE_URL": served_database_url()},
    )

    assert result.failures() == [], format_contention(result)
    assert result.bookings_per_round == [1, 1, 1]
    assert result.statuses == Counter({302: 3, 409: 6})
    assert len(result.latencies) == 9
    assert result.double_bookings == result.deadlocks == 0
