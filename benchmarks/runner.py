"""``python -m benchmarks``: seed, measure in-process and over HTTP, print the table."""

import argparse
import json
import os
import platform
import signal
import sys
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

SETTINGS_MODULE = "benchmarks.settings"
OLD_RULES_WEEKS = 520  # the slot engine again, with weekly hours set ten years earlier


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=(
            "Measure each endpoint in-process and over HTTP (gunicorn) and report it "
            "as a ratio to a bare template view measured in the same run."
        ),
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=300,
        metavar="N",
        help="in-process requests per endpoint (default: %(default)s)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        metavar="N",
        help="untimed in-process requests first (default: a tenth of --requests, at least 10)",
    )
    parser.add_argument(
        "--http-seconds",
        type=float,
        default=5.0,
        metavar="S",
        help="HTTP load per endpoint, in seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        metavar="C",
        help="concurrent HTTP connections (default: %(default)s)",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn workers (default: %(default)s)"
    )
    parser.add_argument("--skip-http", action="store_true", help="in-process measurements only")
    parser.add_argument(
        "--mentors",
        type=int,
        default=200,
        metavar="N",
        help="mentors for seed_bench, when that command exists (default: %(default)s)",
    )
    parser.add_argument(
        "--no-seed", action="store_true", help="use the benchmark database as it is"
    )
    booking = parser.add_argument_group("booking")
    booking.add_argument(
        "--booking-requests",
        type=int,
        default=None,
        metavar="N",
        help="timed in-process booking POSTs, each a different free slot (default: --requests)",
    )
    booking.add_argument("--skip-booking", action="store_true", help="no booking POST measurement")
    booking.add_argument(
        "--contention-clients",
        type=int,
        default=8,
        metavar="N",
        help="clients racing for the same slot in each round (default: %(default)s)",
    )
    booking.add_argument(
        "--contention-rounds",
        type=int,
        default=100,
        metavar="N",
        help="rounds of the contention run (default: %(default)s)",
    )
    booking.add_argument(
        "--contention-workers",
        type=int,
        default=4,
        metavar="W",
        help="gunicorn worker processes for the contention run (default: %(default)s)",
    )
    booking.add_argument(
        "--contention-threads",
        type=int,
        default=2,
        metavar="T",
        help="threads per gunicorn worker for the contention run (default: %(default)s)",
    )
    booking.add_argument(
        "--skip-contention",
        action="store_true",
        help="no contention run (it also needs PostgreSQL, and is skipped by --skip-http)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    if args.booking_requests is None:
        args.booking_requests = args.requests
    if args.booking_requests < 1:
        parser.error("--booking-requests must be at least 1")
    if args.contention_clients < 2:
        parser.error("--contention-clients must be at least 2")
    if args.contention_rounds < 1:
        parser.error("--contention-rounds must be at least 1")
    if args.contention_workers < 1 or args.contention_threads < 1:
        parser.error("--contention-workers and --contention-threads must be at least 1")
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    if args.http_seconds <= 0:
        parser.error("--http-seconds must be positive")
    if args.warmup is None:
        args.warmup = max(10, args.requests // 10)
    return args


def progress(message: str) -> None:
    print(f"· {message}", file=sys.stderr, flush=True)


def seed(*, mentors: int, migrate: bool = True, progress=progress) -> None:
    """Migrate the benchmark database and load the demo (and, once it exists, bench) data."""
    from django.core.management import call_command, get_commands

    if migrate:
        progress("migrating the benchmark database")
        call_command("migrate", interactive=False, verbosity=0)
    progress("seed_demo")
    call_command("seed_demo", stdout=StringIO())
    if "seed_bench" in get_commands():
        progress(f"seed_bench --mentors {mentors}")
        call_command("seed_bench", mentors=mentors, stdout=StringIO())
    else:
        progress("seed_bench does not exist yet: demo data only")
    from django.db import connection

    if connection.vendor == "postgresql":
        # Fresh statistics for the planner, as autovacuum would have gathered on
        # a live database (it may be off, or not have run yet after bulk inserts).
        progress("ANALYZE")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def check_schema_current() -> None:
    """Fail clearly, before gunicorn loads the code, if the code has migrations
    the benchmark database lacks (e.g. code changed since the run migrated)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from benchmarks.measure import BenchmarkError

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in plan)
        raise BenchmarkError(f"the benchmark database lacks migrations: {names}")


def run_http(
    rows, endpoints, *, seconds: float, concurrency: int, workers: int, rounds: int = 3
) -> None:
    """Load each endpoint through gunicorn; fills ``row.http`` in place.

    Like the in-process part, the time is split into ``rounds`` passes over all
    endpoints so that background load skews the bare view and the endpoints alike.
    """
    from benchmarks.loadgen import LoadResult, run_load
    from benchmarks.measure import HttpResult, session_cookie, set_http_ratios
    from benchmarks.server import HOST, gunicorn

    # Cold endpoints are in-process only: the workers' caches cannot be cleared
    # between requests from here.
    rows, endpoints = (
        [row for row, endpoint in zip(rows, endpoints, strict=True) if not endpoint.cold],
        [endpoint for endpoint in endpoints if not endpoint.cold],
    )
    # Sessions are rows in the benchmark database, which the workers share.
    cookies = [session_cookie(endpoint) for endpoint in endpoints]
    loads = [
        {
            "concurrency": concurrency,
            "headers": {"Cookie": cookie} if cookie else {},
            "expected_status": endpoint.status,
        }
        for endpoint, cookie in zip(endpoints, cookies, strict=True)
    ]
    totals = [LoadResult(seconds=0.0, concurrency=concurrency) for _ in endpoints]
    progress(f"starting gunicorn ({workers} workers)")
    with gunicorn(workers=workers) as port:
        progress("HTTP warm-up")
        for row, load in zip(rows, loads, strict=True):
            run_load(HOST, port, row.path, seconds=min(1.0, seconds / 5), **load)
        for index in range(rounds):
            progress(
                f"HTTP: round {index + 1}/{rounds}, {seconds / rounds:.2g}s per endpoint, "
                f"{concurrency} connections"
            )
            for row, load, total in zip(rows, loads, totals, strict=True):
                total.add(run_load(HOST, port, row.path, seconds=seconds / rounds, **load))
    for row, total in zip(rows, totals, strict=True):
        row.http = HttpResult.from_load(total)
    set_http_ratios(rows)


def _without_nan(value):
    """JSON has no NaN: missing measurements become null."""
    if isinstance(value, dict):
        return {key: _without_nan(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nan(item) for item in value]
    if isinstance(value, float) and value != value:
        return None
    return value


def environment() -> dict:
    import django
    from django.conf import settings

    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # The bare view exists only in the benchmark settings: always use them.
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    # A plain `kill` should still stop gunicorn: turn SIGTERM into SystemExit.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    import django

    django.setup()

    from benchmarks.booking import format_booking, measure_booking_posts
    from benchmarks.contention import format_contention, run_contention, unsupported_reason
    from benchmarks.endpoints import BARE, ENDPOINTS
    from benchmarks.engine import format_result as format_engine
    from benchmarks.engine import measure as measure_engine
    from benchmarks.measure import BenchmarkError, format_table, run_in_process
    from benchmarks.server import ServerError

    started = datetime.now(tz=UTC).isoformat(timespec="seconds")
    booking = contention = None
    if args.skip_contention:
        contention_skipped = "contention run skipped (--skip-contention)"
    elif args.skip_http:
        contention_skipped = "contention run skipped (--skip-http)"
    else:
        contention_skipped = unsupported_reason()
    try:
        if not args.no_seed:
            seed(mentors=args.mentors)
        rows = run_in_process(
            ENDPOINTS, requests=args.requests, warmup=args.warmup, progress=progress
        )
        # After the GET endpoints: every booking makes the cached pages stale.
        if not args.skip_booking:
            booking = measure_booking_posts(
                requests=args.booking_requests,
                warmup=max(10, args.booking_requests // 10),
                progress=progress,
            )
        progress("slot engine")
        engine = measure_engine()
        # The same mentor with weekly hours set ten years earlier.
        engine_old_rules = measure_engine(rules_age_weeks=OLD_RULES_WEEKS)
        if not args.skip_http:
            check_schema_current()
            run_http(
                rows,
                [BARE, *ENDPOINTS],
                seconds=args.http_seconds,
                concurrency=args.concurrency,
                workers=args.workers,
            )
        if contention_skipped is None:
            check_schema_current()
            contention = run_contention(
                clients=args.contention_clients,
                rounds=args.contention_rounds,
                workers=args.contention_workers,
                threads=args.contention_threads,
                progress=progress,
            )
    except (BenchmarkError, ServerError) as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

    env = environment()
    print()
    print(
        f"Python {env['python']}, Django {env['django']}, {env['database']}, "
        f"{env['cpus']} CPUs; in-process: {args.requests} requests per endpoint"
        + (
            ""
            if args.skip_http
            else f"; HTTP: {args.http_seconds:g}s per endpoint, {args.concurrency} connections, "
            f"gunicorn {args.workers} workers"
        )
    )
    print()
    print(format_table([*rows, *([*booking.references, booking.row] if booking else [])]))
    print()
    print("x bare: times the cost of the bare template view in this run (higher is slower);")
    print("in-process = median / bare median, HTTP = bare req/s / req/s.")
    if booking:
        print(
            "booking POST and the signed-in POSTs: median / median of the bare view timed in "
            "the same rounds."
        )
    print()
    print(format_engine(engine))
    print(format_engine(engine_old_rules))
    if booking:
        print()
        print(format_booking(booking))
    print()
    print(format_contention(contention) if contention else contention_skipped)
    failed = [row for row in rows if row.http and row.http.failed]
    for row in failed:
        print(f"warning: {row.name}: {row.http.failed} HTTP requests failed", file=sys.stderr)
    contention_failures = contention.failures() if contention else []
    for failure in contention_failures:
        print(f"error: contention run: {failure}", file=sys.stderr)

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "started": started,
            "environment": env,
            "options": {
                "requests": args.requests,
                "warmup": args.warmup,
                "http_seconds": None if args.skip_http else args.http_seconds,
                "concurrency": args.concurrency,
                "workers": args.workers,
                "booking_requests": None if args.skip_booking else args.booking_requests,
                "contention_clients": args.contention_clients,
                "contention_rounds": args.contention_rounds,
                "contention_workers": args.contention_workers,
                "contention_threads": args.contention_threads,
            },
            "rows": [_without_nan(row.as_dict()) for row in rows],
            "booking": _without_nan(
                {
                    **booking.row.as_dict(),
                    "bare_in_same_rounds": booking.bare.__dict__,
                    "references": [row.as_dict() for row in booking.references],
                }
            )
            if booking
            else None,
            "slot_engine": engine,
            "slot_engine_old_rules": engine_old_rules,
            "contention": _without_nan(contention.as_dict()) if contention else None,
            "contention_skipped": contention_skipped,
        }
        args.json.write_text(json.dumps(payload, indent=2, allow_nan=False, default=str) + "\n")
        print(f"\nResults written to {args.json}")
    if contention_failures:
        return 3
    return 2 if failed else 0
