"""In-process measurement through ``django.test.Client``, and the results table."""

import gc
import time
from dataclasses import asdict, dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from benchmarks.endpoints import BARE, Endpoint
from benchmarks.loadgen import LoadResult
from benchmarks.stats import percentile, ratio


class BenchmarkError(RuntimeError):
    pass


@dataclass
class InProcessResult:
    requests: int
    median_ms: float
    p95_ms: float
    queries: int  # per request, the most seen over a few requests


@dataclass
class HttpResult:
    seconds: float
    concurrency: int
    requests: int
    failed: int
    requests_per_second: float
    p50_ms: float
    p95_ms: float

    @classmethod
    def from_load(cls, load: LoadResult) -> "HttpResult":
        return cls(
            seconds=load.seconds,
            concurrency=load.concurrency,
            requests=load.ok,
            failed=load.failed,
            requests_per_second=load.requests_per_second,
            p50_ms=load.p50_ms,
            p95_ms=load.p95_ms,
        )


@dataclass
class Row:
    name: str
    path: str
    user: str | None
    in_process: InProcessResult | None = None
    http: HttpResult | None = None
    # Both ratios read "times the cost of the bare view": 2.0 is twice as slow.
    in_process_ratio: float = float("nan")  # median / bare median
    http_ratio: float = float("nan")  # bare req/s / req/s

    def as_dict(self) -> dict:
        return asdict(self)


def signed_in_client(endpoint: Endpoint) -> Client:
    """A test client, signed in as ``endpoint.user`` when it names one."""
    client = Client()
    if endpoint.user:
        user = get_user_model().objects.filter(email__iexact=endpoint.user).first()
        if user is None:
            raise BenchmarkError(
                f"{endpoint.name}: no user {endpoint.user!r} in the benchmark database"
            )
        client.force_login(user)
    return client


def session_cookie(endpoint: Endpoint) -> str | None:
    """A ``Cookie`` header value signing an HTTP client in as ``endpoint.user``."""
    if not endpoint.user:
        return None
    session = signed_in_client(endpoint).cookies[settings.SESSION_COOKIE_NAME]
    return f"{settings.SESSION_COOKIE_NAME}={session.value}"


def _get(client: Client, endpoint: Endpoint, path: str):
    response = client.get(path)
    if response.status_code != endpoint.status:
        raise BenchmarkError(
            f"{endpoint.name}: GET {path} answered {response.status_code}, "
            f"expected {endpoint.status}"
        )
    return response


def _timed_requests(client: Client, endpoint: Endpoint, path: str, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        if endpoint.cold:
            cache.clear()
        began = time.perf_counter()
        _get(client, endpoint, path)
        timings.append(time.perf_counter() - began)
    return timings


def _queries_per_request(client: Client, endpoint: Endpoint, path: str, samples: int = 3) -> int:
    """The most queries seen in a few requests, counted apart from the timed ones
    (capturing makes every query slower)."""
    most = 0
    if not endpoint.cold:
        _get(client, endpoint, path)  # warm what a cold endpoint's run cleared
    for _ in range(samples):
        if endpoint.cold:
            cache.clear()
        with CaptureQueriesContext(connection) as captured:
            _get(client, endpoint, path)
        most = max(most, len(captured.captured_queries))
    return most


def run_in_process(
    endpoints: list[Endpoint], *, requests: int, warmup: int, rounds: int = 5, progress=None
) -> list[Row]:
    """The bare view, then every endpoint; one row each, with ratios to the bare view.

    Requests are timed in ``rounds`` passes over all endpoints rather than one
    endpoint after another, so a burst of background load on the machine hits
    the bare view and the endpoints alike instead of skewing one ratio.
    """
    if requests < 1:
        raise ValueError("requests must be at least 1")
    measured = [BARE, *endpoints]
    clients = [signed_in_client(endpoint) for endpoint in measured]
    paths = [endpoint.resolve_path() for endpoint in measured]
    for endpoint, client, path in zip(measured, clients, paths, strict=True):
        if progress:
            progress(f"in-process warm-up: {endpoint.name} ({warmup} requests)")
        for _ in range(warmup):
            _get(client, endpoint, path)
    rounds = max(1, min(rounds, requests))
    timings: list[list[float]] = [[] for _ in measured]
    for index in range(rounds):
        count = requests // rounds + (1 if index < requests % rounds else 0)
        if progress:
            progress(f"in-process: round {index + 1}/{rounds}, {count} requests per endpoint")
        gc.collect()
        for endpoint, client, path, samples in zip(measured, clients, paths, timings, strict=True):
            samples.extend(_timed_requests(client, endpoint, path, count))

    rows = [
        Row(
            name=endpoint.name,
            path=path,
            user=endpoint.user,
            in_process=InProcessResult(
                requests=len(samples),
                median_ms=percentile(samples, 50) * 1000,
                p95_ms=percentile(samples, 95) * 1000,
                queries=_queries_per_request(client, endpoint, path),
            ),
        )
        for endpoint, client, path, samples in zip(measured, clients, paths, timings, strict=True)
    ]
    bare_median = rows[0].in_process.median_ms
    for row in rows:
        row.in_process_ratio = ratio(row.in_process.median_ms, bare_median)
    return rows


def set_http_ratios(rows: list[Row]) -> None:
    """Bare throughput over each row's: how many times costlier the endpoint is."""
    bare = rows[0].http
    for row in rows:
        if bare and row.http and row.http.requests_per_second:
            row.http_ratio = ratio(bare.requests_per_second, row.http.requests_per_second)


# --- The table -----------------------------------------------------------------------

COLUMNS = [
    # header, width, cell
    ("endpoint", 0, lambda row: row.name + (f" ({row.user})" if row.user else "")),
    ("queries", 7, lambda row: _int(row.in_process and row.in_process.queries)),
    ("median ms", 9, lambda row: _num(row.in_process and row.in_process.median_ms, 3)),
    ("p95 ms", 8, lambda row: _num(row.in_process and row.in_process.p95_ms, 3)),
    ("x bare", 6, lambda row: _num(row.in_process_ratio, 2)),
    ("HTTP req/s", 10, lambda row: _num(row.http and row.http.requests_per_second, 1)),
    ("HTTP p95 ms", 11, lambda row: _num(row.http and row.http.p95_ms, 2)),
    ("x bare", 6, lambda row: _num(row.http_ratio, 2)),
]


def _num(value, places: int) -> str:
    if value is None or value != value:  # missing or NaN
        return "-"
    return f"{value:.{places}f}"


def _int(value) -> str:
    return "-" if value is None else str(value)


def format_table(rows: list[Row]) -> str:
    """A plain-text table, one line per row; numbers right-aligned."""
    cells = [[cell(row) for _, _, cell in COLUMNS] for row in rows]
    headers = [header for header, _, _ in COLUMNS]
    widths = [
        max(width, len(header), *(len(line[index]) for line in cells))
        for index, (header, width, _) in enumerate(COLUMNS)
    ]

    def line(values: list[str]) -> str:
        first = values[0].ljust(widths[0])
        rest = (value.rjust(width) for value, width in zip(values[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    group = (
        " " * (widths[0] + 2 + widths[1] + 2)
        + "in-process".center(widths[2] + widths[3] + widths[4] + 4, "-")
        + "  "
        + "HTTP (gunicorn)".center(widths[5] + widths[6] + widths[7] + 4, "-")
    )
    return "\n".join([group, line(headers), *(line(values) for values in cells)])
