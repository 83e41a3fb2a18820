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
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"


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
        default=100,
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
        default=10_000,
        metavar="N",
        help="bench mentors (seed_bench --mentors N --trim: more are deleted) "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--cache",
        choices=["auto", "local", "redis"],
        default="auto",
        help="the cache: Redis at REDIS_URL (default " + DEFAULT_REDIS_URL + "), local "
        "memory per process, or auto: Redis if REDIS_URL is set, else local (default: auto)",
    )
    parser.add_argument(
        "--scale-mentors",
        type=int,
        default=30_000,
        metavar="N",
        help="after the rest, grow the data to N mentors and measure the directory again "
        "(0: don't) (default: %(default)s)",
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
    mix = parser.add_argument_group("load mix")
    mix.add_argument(
        "--mix",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the load mix and the saturation run through gunicorn (default: on)",
    )
    mix.add_argument(
        "--mix-users", type=int, default=50, metavar="N", help="simulated users (default: 50)"
    )
    mix.add_argument(
        "--mix-seconds",
        type=float,
        default=60.0,
        metavar="S",
        help="length of the mix (default: %(default)s)",
    )
    mix.add_argument(
        "--think",
        type=float,
        default=1.0,
        metavar="S",
        help="mean think time between a user's requests, exponential (default: %(default)s)",
    )
    mix.add_argument(
        "--saturation-seconds",
        type=float,
        default=5.0,
        metavar="S",
        help="per concurrency level of the saturation run (0: no saturation run) "
        "(default: %(default)s)",
    )
    memory = parser.add_argument_group("memory")
    memory.add_argument(
        "--memory",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="gunicorn worker and Celery worker RSS (default: on)",
    )
    memory.add_argument(
        "--memory-requests",
        type=int,
        default=10_000,
        metavar="N",
        help="GETs before reading the gunicorn workers' RSS (default: %(default)s)",
    )
    memory.add_argument(
        "--celery-tasks",
        type=int,
        default=1000,
        metavar="N",
        help="notification tasks before reading the Celery worker's RSS (0: no Celery "
        "measurement) (default: %(default)s)",
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
    if args.mix_users < 1 or args.mix_seconds <= 0 or args.think < 0:
        parser.error("--mix-users must be at least 1, --mix-seconds positive, --think >= 0")
    if args.memory_requests < 1 or args.celery_tasks < 0:
        parser.error("--memory-requests must be at least 1, --celery-tasks at least 0")
    if args.scale_mentors and args.scale_mentors <= args.mentors:
        parser.error("--scale-mentors must be more than --mentors (or 0)")
    return args


def progress(message: str) -> None:
    print(f"· {message}", file=sys.stderr, flush=True)


def seed(
    *,
    mentors: int,
    migrate: bool = True,
    progress=progress,
    fixtures: str = "full",
    trim: bool = True,
    demo: bool = True,
) -> float:
    """Migrate the benchmark database and load the demo and bench data (the
    bench mentors numbered ``mentors`` and above deleted first when ``trim``);
    returns the seconds seed_bench took."""
    import time

    from django.core.cache import cache
    from django.core.management import call_command

    if migrate:
        progress("migrating the benchmark database")
        call_command("migrate", interactive=False, verbosity=0)
    if demo:
        progress("seed_demo")
        call_command("seed_demo", stdout=StringIO())
    progress(f"seed_bench --mentors {mentors}" + (" --trim" if trim else ""))
    began = time.monotonic()
    call_command("seed_bench", mentors=mentors, fixtures=fixtures, trim=trim, stdout=StringIO())
    seconds = time.monotonic() - began
    progress(f"seed_bench took {seconds:.1f}s")
    analyze()
    # seed_bench writes rows behind the services' backs: nothing cached may outlive it.
    cache.clear()
    return seconds


def analyze() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        # Fresh statistics for the planner and a fresh visibility map, as
        # autovacuum would have made on a live database (it may be off, or not
        # have run yet after bulk inserts). Without the visibility map an
        # index-only walk (the directory's deep pages) must visit the table,
        # and the planner prefers a scan and a sort.
        # (VACUUM cannot run in a transaction: the harness's tests, inside
        # one, get the statistics alone.)
        statement = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        progress(statement)
        with connection.cursor() as cursor:
            cursor.execute(statement)


def configure_cache(choice: str) -> tuple[str, str | None]:
    """Set REDIS_URL for the product settings (read at setup, inherited by
    gunicorn and Celery); returns the cache kind and its Redis URL."""
    if choice == "local" or (choice == "auto" and not os.environ.get("REDIS_URL")):
        os.environ.pop("REDIS_URL", None)
        return "local", None
    url = os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    return "redis", url


def check_redis(url: str) -> None:
    """Fail clearly if the cache's Redis is unreachable or is the broker's database
    (clearing the cache for cold requests would drop queued tasks)."""
    import redis

    from benchmarks.measure import BenchmarkError

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        raise BenchmarkError(f"the Redis cache at {url} is unreachable: {error}") from error
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if broker and broker.rstrip("/") == url.rstrip("/"):
        raise BenchmarkError(
            "REDIS_URL and CELERY_BROKER_URL are the same Redis database: cold requests "
            "clear the cache, which would drop the queued tasks; use another database number"
        )


def run_scale(*, mentors: int, base_rows, requests: int, warmup: int, progress=progress) -> dict:
    """Grow the bench data to ``mentors`` (seed_bench), VACUUM ANALYZE, and measure
    the directory endpoints again beside a bare view; ratios to the same
    endpoints' figures of the main run (``base_rows``), each as x bare."""
    from benchmarks.endpoints import directory_endpoints
    from benchmarks.measure import run_in_process

    seconds = seed(mentors=mentors, migrate=False, demo=False, trim=False, progress=progress)
    endpoints = directory_endpoints()
    rows = run_in_process(endpoints, requests=requests, warmup=warmup, progress=progress)
    base = {row.name: row for row in base_rows}
    ratios = {}
    for row in rows[1:]:
        before = base.get(row.name)
        if before and before.in_process_ratio == before.in_process_ratio:
            ratios[row.name] = row.in_process_ratio / before.in_process_ratio
    uncached = [
        ratios[name] for name in ("directory p1 cold", "directory deep cold") if name in ratios
    ]
    search = next((row for row in rows if row.name == "directory q cold"), None)
    return {
        "mentors": mentors,
        "seed_seconds": seconds,
        "rows": rows,
        "ratio_to_base": ratios,
        "worst_uncached_ratio": max(uncached) if uncached else None,
        "search_cold_x_bare": search.in_process_ratio if search else None,
    }


def format_scale(scale: dict, base_mentors: int) -> str:
    from benchmarks.measure import format_table

    lines = [
        f"directory at {scale['mentors']} mentors (grown by seed_bench in "
        f"{scale['seed_seconds']:.0f}s, VACUUM ANALYZEd), in-process:",
        format_table(scale["rows"]),
        f"x bare at {scale['mentors']} / x bare at {base_mentors}: "
        + ", ".join(f"{name} {value:.2f}" for name, value in scale["ratio_to_base"].items()),
    ]
    return "\n".join(lines)


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
    import time

    args = parse_args(argv)
    # The bare view exists only in the benchmark settings: always use them.
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    cache_kind, redis_url = configure_cache(args.cache)
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
    from benchmarks.memory import (
        MeasurementError,
        broker_url,
        celery_rss,
        format_memory,
        gunicorn_rss,
    )
    from benchmarks.mix import format_mix, run_mix
    from benchmarks.server import ServerError
    from benchmarks.targets import evaluate, format_targets

    started = datetime.now(tz=UTC).isoformat(timespec="seconds")
    run_began = time.monotonic()
    phases: dict[str, float] = {}
    booking = contention = scale = mix = gunicorn_memory = celery_memory = None
    seed_seconds = None
    memory_notes: list[str] = []
    if args.skip_contention:
        contention_skipped = "contention run skipped (--skip-contention)"
    elif args.skip_http:
        contention_skipped = "contention run skipped (--skip-http)"
    else:
        contention_skipped = unsupported_reason()
    mix_skipped = (
        ("--no-mix" if not args.mix else "--skip-http (the mix runs through gunicorn)")
        if not args.mix or args.skip_http
        else None
    )
    memory_skipped = (
        ("--no-memory" if not args.memory else "--skip-http (gunicorn is needed)")
        if not args.memory or args.skip_http
        else None
    )
    scale_skipped = "--scale-mentors 0" if not args.scale_mentors else None
    celery_skipped = None
    broker = broker_url(redis_url)
    if memory_skipped is None and not args.celery_tasks:
        celery_skipped = "--celery-tasks 0"
    elif memory_skipped is None and broker is None:
        celery_skipped = "no Redis broker: set CELERY_BROKER_URL=redis://… or use --cache redis"

    def phase(name: str, began: float) -> None:
        phases[name] = round(time.monotonic() - began, 1)

    try:
        if redis_url:
            check_redis(redis_url)
            progress(f"cache: Redis at {redis_url}")
        else:
            progress("cache: local memory (per process)")
        began = time.monotonic()
        if not args.no_seed:
            seed_seconds = seed(mentors=args.mentors)
        phase("seed", began)
        began = time.monotonic()
        rows = run_in_process(
            ENDPOINTS, requests=args.requests, warmup=args.warmup, progress=progress
        )
        phase("in_process", began)
        # After the GET endpoints: every booking makes the cached pages stale.
        began = time.monotonic()
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
        phase("booking_and_engine", began)
        if not args.skip_http:
            began = time.monotonic()
            check_schema_current()
            run_http(
                rows,
                [BARE, *ENDPOINTS],
                seconds=args.http_seconds,
                concurrency=args.concurrency,
                workers=args.workers,
            )
            phase("http", began)
        if contention_skipped is None:
            began = time.monotonic()
            check_schema_current()
            contention = run_contention(
                clients=args.contention_clients,
                rounds=args.contention_rounds,
                workers=args.contention_workers,
                threads=args.contention_threads,
                progress=progress,
            )
            phase("contention", began)
        if mix_skipped is None:
            began = time.monotonic()
            mix = run_mix(
                users=args.mix_users,
                seconds=args.mix_seconds,
                think=args.think,
                workers=args.workers,
                saturation=args.saturation_seconds > 0,
                saturation_seconds=args.saturation_seconds or 1.0,
                progress=progress,
            )
            phase("mix", began)
        if memory_skipped is None:
            began = time.monotonic()
            gunicorn_memory = gunicorn_rss(
                [BARE, *ENDPOINTS],
                requests=args.memory_requests,
                workers=args.workers,
                progress=progress,
            )
            phase("memory_gunicorn", began)
            if celery_skipped is None:
                began = time.monotonic()
                try:
                    celery_memory = celery_rss(
                        tasks=args.celery_tasks, broker=broker, progress=progress
                    )
                except MeasurementError as error:
                    celery_skipped = f"the Celery measurement failed: {error}"
                    print(f"error: {celery_skipped}", file=sys.stderr)
                phase("memory_celery", began)
        if args.scale_mentors:
            began = time.monotonic()
            progress(f"scale: growing the data to {args.scale_mentors} mentors")
            scale = run_scale(
                mentors=args.scale_mentors,
                base_rows=rows,
                requests=args.requests,
                warmup=args.warmup,
            )
            phase("scale", began)
    except (BenchmarkError, ServerError) as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

    env = environment()
    env["cache"] = cache_kind
    print()
    print(
        f"Python {env['python']}, Django {env['django']}, {env['database']}, "
        f"{env['cpus']} CPUs, cache {cache_kind}; in-process: {args.requests} requests per "
        "endpoint"
        + (
            ""
            if args.skip_http
            else f"; HTTP: {args.http_seconds:g}s per endpoint, {args.concurrency} connections, "
            f"gunicorn {args.workers} workers"
        )
    )
    if seed_seconds is not None:
        print(f"seed_bench --mentors {args.mentors}: {seed_seconds:.1f}s")
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
    print()
    print(format_mix(mix) if mix else f"load mix not run: {mix_skipped}")
    print()
    if gunicorn_memory or celery_memory:
        print(format_memory(gunicorn_memory, celery_memory, memory_notes))
    if memory_skipped or celery_skipped:
        print(f"memory not measured: {memory_skipped or celery_skipped}")
    print()
    print(format_scale(scale, args.mentors) if scale else f"scale not run: {scale_skipped}")
    targets = evaluate(
        rows=rows,
        booking=booking,
        contention=contention,
        contention_skipped=contention_skipped,
        scale=scale,
        scale_skipped=scale_skipped,
        mix=mix,
        mix_skipped=mix_skipped,
        gunicorn_memory=gunicorn_memory,
        celery_memory=celery_memory,
        memory_skipped=memory_skipped,
        celery_skipped=celery_skipped,
        cache=cache_kind,
    )
    print()
    print(format_targets(targets))
    total_seconds = time.monotonic() - run_began
    print(f"\nthe run took {total_seconds / 60:.1f} minutes")
    failed = [row for row in rows if row.http and row.http.failed]
    for row in failed:
        print(f"warning: {row.name}: {row.http.failed} HTTP requests failed", file=sys.stderr)
    contention_failures = contention.failures() if contention else []
    for failure in contention_failures:
        print(f"error: contention run: {failure}", file=sys.stderr)
    mix_failed = mix["mix"]["failed"] if mix else 0
    if mix_failed:
        print(f"warning: load mix: {mix_failed} requests failed", file=sys.stderr)

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "started": started,
            "seconds": round(total_seconds, 1),
            "phases_seconds": phases,
            "environment": env,
            "options": {
                "requests": args.requests,
                "warmup": args.warmup,
                "mentors": args.mentors,
                "cache": cache_kind,
                "redis_url": redis_url,
                "http_seconds": None if args.skip_http else args.http_seconds,
                "concurrency": args.concurrency,
                "workers": args.workers,
                "booking_requests": None if args.skip_booking else args.booking_requests,
                "contention_clients": args.contention_clients,
                "contention_rounds": args.contention_rounds,
                "contention_workers": args.contention_workers,
                "contention_threads": args.contention_threads,
                "scale_mentors": args.scale_mentors,
                "mix_users": args.mix_users,
                "mix_seconds": args.mix_seconds,
                "think_seconds_mean": args.think,
                "saturation_seconds": args.saturation_seconds,
                "memory_requests": args.memory_requests,
                "celery_tasks": args.celery_tasks,
            },
            "seed_bench_seconds": seed_seconds,
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
            "mix": _without_nan(mix) if mix else None,
            "mix_skipped": mix_skipped,
            "memory": {
                "gunicorn": gunicorn_memory,
                "celery": celery_memory,
                "skipped": memory_skipped,
                "celery_skipped": celery_skipped,
            },
            "scale": _without_nan({**scale, "rows": [row.as_dict() for row in scale["rows"]]})
            if scale
            else None,
            "scale_skipped": scale_skipped,
            "targets": [_without_nan(target.as_dict()) for target in targets],
        }
        args.json.write_text(json.dumps(payload, indent=2, allow_nan=False, default=str) + "\n")
        print(f"\nResults written to {args.json}")
    if contention_failures:
        return 3
    return 2 if failed or mix_failed else 0
