"""Smoke tests for the harness: it runs and reports; timings are never asserted."""

from http.server import BaseHTTPRequestHandler

import pytest
from django.urls import Resolver404, resolve

from benchmarks import BARE_PATH
from benchmarks.endpoints import BARE, ENDPOINTS, Endpoint
from benchmarks.loadgen import run_load
from benchmarks.measure import (
    HttpResult,
    Row,
    format_table,
    run_in_process,
    session_cookie,
    set_http_ratios,
)
from benchmarks.runner import seed
from benchmarks.stats import percentile
from conftest import serving


@pytest.mark.django_db
def test_in_process_run_reports_every_endpoint_against_the_bare_view(bench_urls):
    seed(mentors=3, migrate=False, progress=lambda message: None, fixtures="small")
    # Every configured endpoint, plus one signed in, so the login path is exercised
    # before the first real signed-in endpoint is added.
    endpoints = [*ENDPOINTS, Endpoint("home signed in", "/", user="mentee@example.com")]

    rows = run_in_process(endpoints, requests=3, warmup=1)

    assert [row.name for row in rows] == [BARE.name, *(endpoint.name for endpoint in endpoints)]
    bare = rows[0]
    assert bare.path == BARE_PATH
    assert bare.in_process.queries == 0
    assert bare.in_process_ratio == pytest.approx(1.0)
    for row in rows:
        assert row.in_process.requests == 3
        assert row.in_process.median_ms > 0
        assert row.in_process_ratio > 0
    assert rows[-1].in_process.queries > 0  # the session and the user
    table = format_table(rows).splitlines()
    for row in rows:
        assert any(line.startswith(row.name) for line in table), row.name


@pytest.mark.django_db
def test_session_cookie_for_http_load():
    seed(mentors=3, migrate=False, progress=lambda message: None, fixtures="none")

    assert session_cookie(BARE) is None
    cookie = session_cookie(Endpoint("signed in", "/", user="mentee@example.com"))
    assert cookie.startswith("sessionid=")


def test_bare_view_is_not_a_product_url():
    with pytest.raises(Resolver404):
        resolve(BARE_PATH, urlconf="mentorship.urls")


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the generator expects

    def do_GET(self):
        body = b"ok"
        self.send_response(200 if self.path == "/ok" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_load_generator_counts_responses_without_wrk():
    with serving(_Ok) as server:
        host, port = server.server_address[:2]
        ok = run_load(host, port, "/ok", seconds=0.2, concurrency=2)
        missing = run_load(host, port, "/missing", seconds=0.1, concurrency=1)

    assert ok.ok > 0
    assert ok.failed == 0
    assert ok.requests_per_second > 0
    assert ok.p95_ms >= ok.p50_ms > 0
    assert missing.ok == 0
    assert missing.failed > 0
    assert missing.statuses[404] == missing.failed


def test_table_shows_throughput_ratio_to_bare():
    def http(requests_per_second):
        return HttpResult(1.0, 1, 10, 0, requests_per_second, 1.0, 2.0)

    rows = [
        Row(name="bare template", path=BARE_PATH, user=None, http=http(400.0)),
        Row(name="slow page", path="/slow/", user="mentee@example.com", http=http(100.0)),
    ]
    set_http_ratios(rows)

    assert rows[1].http_ratio == pytest.approx(4.0)
    lines = format_table(rows).splitlines()
    assert lines[-1].startswith("slow page (mentee@example.com)")
    assert lines[-1].endswith("4.00")


def test_percentile_interpolates():
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0], 95) == pytest.approx(1.95)
    assert percentile([5.0], 95) == 5.0
