"""The issue's targets, row by row: the figure this run measured, the limit,
and met / not met / not measured (with why).

Every ratio is from this run (in-process medians unless a row says otherwise).
"""

from dataclasses import asdict, dataclass

MET, NOT_MET, NOT_MEASURED = "met", "not met", "not measured"


@dataclass
class Target:
    area: str
    what: str
    limit: str
    measured: float | None = None
    unit: str = "x"
    status: str = NOT_MEASURED
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _check(target: Target, value, limit: float, *, note: str = "") -> Target:
    if value is None or value != value:
        target.status = NOT_MEASURED
        target.note = note or "no figure"
        return target
    target.measured = value
    target.status = MET if value <= limit else NOT_MET
    target.note = note
    return target


def _skip(target: Target, why: str) -> Target:
    target.status = NOT_MEASURED
    target.note = why
    return target


def evaluate(
    *,
    rows,
    booking=None,
    contention=None,
    contention_skipped: str | None = None,
    scale: dict | None = None,
    scale_skipped: str | None = None,
    mix: dict | None = None,
    mix_skipped: str | None = None,
    gunicorn_memory: dict | None = None,
    celery_memory: dict | None = None,
    memory_skipped: str | None = None,
    celery_skipped: str | None = None,
    cache: str = "local",
) -> list[Target]:
    by_name = {row.name: row for row in rows}

    def median(name):
        row = by_name.get(name)
        return row.in_process.median_ms if row and row.in_process else None

    def x_bare(name):
        row = by_name.get(name)
        return row.in_process_ratio if row and row.in_process else None

    def between(a, b):
        first, second = median(a), median(b)
        return first / second if first and second else None

    redis = cache == "redis"
    targets: list[Target] = []
    add = targets.append

    # --- booking POST ---
    t = Target("booking POST", "median / 'signed-in POST, locked write' median", "<= 2x")
    if booking:
        locked = next(r for r in booking.references if r.name.endswith("locked write"))
        add(_check(t, booking.row.in_process.median_ms / locked.in_process.median_ms, 2.0))
        t = Target("booking POST", "SQL statements", "<= 6", unit="statements")
        add(_check(t, booking.row.in_process.queries, 6))
    else:
        add(_skip(t, "--skip-booking"))
        add(_skip(Target("booking POST", "SQL statements", "<= 6", unit="statements"), "skipped"))
    t = Target("booking POST", "contention: double bookings + deadlocks + errors", "0", unit="")
    t99 = Target("booking POST", "contention: p99 latency", "<= 150 ms", unit="ms")
    if contention:
        bad = contention.double_bookings + contention.deadlocks + contention.server_errors
        bad += contention.other
        add(
            _check(
                t,
                bad,
                0,
                note=f"{contention.double_bookings} double bookings, {contention.deadlocks} "
                f"deadlocks, {contention.server_errors} 5xx, {contention.other} other",
            )
        )
        add(_check(t99, contention.latency_ms(99), 150.0))
    else:
        add(_skip(t, contention_skipped or "no contention run"))
        add(_skip(t99, contention_skipped or "no contention run"))

    # --- /sessions/ ---
    add(
        _skip(
            Target("/sessions/", "paginated", "yes", unit=""),
            "not a figure: the /sessions/ tests (one page, query count with 1 and 500 sessions)",
        )
    )
    add(
        _check(
            Target("/sessions/", "4,000 sessions / 40 sessions (page 1)", "<= 1.5x"),
            between("sessions (4000)", "sessions (40)"),
            1.5,
        )
    )
    q40 = by_name.get("sessions (40)")
    q4000 = by_name.get("sessions (4000)")
    t = Target("/sessions/", "queries, 4,000 sessions minus 40 sessions", "0", unit="queries")
    if q40 and q4000:
        add(
            _check(
                t,
                q4000.in_process.queries - q40.in_process.queries,
                0,
                note=f"{q40.in_process.queries} and {q4000.in_process.queries} queries",
            )
        )
    else:
        add(_skip(t, "endpoints not measured"))
    worst = max((x_bare("sessions (40)") or 0), (x_bare("sessions (4000)") or 0)) or None
    floor = x_bare("bare template, signed in")
    add(
        _check(
            Target("/sessions/", "p50 x bare (worse of 40, 4,000)", "<= 3x"),
            worst,
            3.0,
            note=f"the bare view signed in is {floor:.2f}x bare" if floor else "",
        )
    )
    t = Target("/sessions/", "p50 / the bare view signed in (the floor)", "<= 3x")
    add(_check(t, worst / floor if worst and floor else None, 3.0, note="not the issue's row"))

    # --- directory ---
    t = Target("directory", "page 1, cached, with Redis, x bare", "<= 2x")
    if redis:
        add(_check(t, x_bare("directory p1"), 2.0))
    else:
        add(_skip(t, f"the cache was {cache}, not Redis (--cache redis)"))
    add(
        _check(
            Target("directory", "page 1 uncached x bare", "<= 8x"),
            x_bare("directory p1 cold"),
            8.0,
        )
    )
    add(
        _check(
            Target("directory", "page 500 / page 1, uncached", "<= 1.25x"),
            between("directory deep cold", "directory p1 cold"),
            1.25,
        )
    )
    t30 = Target("directory", "30k mentors / 10k, uncached (worse of page 1, page 500)", "<= 1.2x")
    tq = Target("directory", "search uncached x bare at 30k mentors", "<= 10x")
    if scale:
        add(_check(t30, scale.get("worst_uncached_ratio"), 1.2))
        add(_check(tq, scale.get("search_cold_x_bare"), 10.0))
    else:
        add(_skip(t30, scale_skipped or "no --scale-mentors run"))
        add(_skip(tq, scale_skipped or "no --scale-mentors run"))

    # --- mentor page ---
    add(
        _check(
            Target("mentor page", "30,000 reviews / 30 reviews, uncached", "<= 1.2x"),
            between("mentor page 30000 reviews cold", "mentor page 30 reviews cold"),
            1.2,
            note="cached: "
            + (
                f"{between('mentor page 30000 reviews', 'mentor page 30 reviews'):.2f}x"
                if between("mentor page 30000 reviews", "mentor page 30 reviews")
                else "-"
            ),
        )
    )

    # --- slots ---
    names = [f"slots json busy {n} cold" for n in (100, 1000, 4000)]
    values = [x_bare(name) for name in names if x_bare(name)]
    add(
        _check(
            Target("slots", "JSON uncached x bare (worst of 100/1,000/4,000 busy)", "<= 8x"),
            max(values) if values else None,
            8.0,
            note=", ".join(f"{v:.2f}x" for v in values),
        )
    )
    t = Target("slots", "picker, cached, with Redis, x bare", "<= 3x")
    if redis:
        add(_check(t, x_bare("slot picker"), 3.0))
    else:
        add(_skip(t, f"the cache was {cache}, not Redis (--cache redis)"))
    add(
        _check(
            Target("slots", "4,000 busy intervals / 100, JSON uncached", "<= 2x"),
            between(names[2], names[0]),
            2.0,
        )
    )

    # --- load mix ---
    t95 = Target("load mix", "50 users with think time: p95", "<= 100 ms", unit="ms")
    terr = Target("load mix", "errors (unexpected status, no answer)", "0", unit="")
    tsat = Target("load mix", "saturation throughput", "reported", unit="req/s")
    if mix:
        figures = mix["mix"]
        add(
            _check(
                t95,
                figures["p95_ms"],
                100.0,
                note=f"{figures['users']} users, {figures['requests']} requests",
            )
        )
        add(_check(terr, figures["failed"], 0, note=f"{figures['server_errors']} 5xx"))
        saturation = mix.get("saturation")
        if saturation and saturation.get("peak_requests_per_second"):
            tsat.measured = saturation["peak_requests_per_second"]
            tsat.status = MET
            tsat.note = f"at {saturation['peak_users']} users, GET journeys"
            add(tsat)
        else:
            add(_skip(tsat, "no saturation run"))
    else:
        for target in (t95, terr, tsat):
            add(_skip(target, mix_skipped or "no --mix run"))

    # --- memory ---
    tg = Target("memory", "gunicorn worker RSS after the requests", "<= 110 MB", unit="MB")
    if gunicorn_memory:
        add(
            _check(
                tg,
                gunicorn_memory["max_rss_mb"],
                110.0,
                note=f"after {gunicorn_memory['requests']} requests, largest of "
                f"{gunicorn_memory['workers']} workers",
            )
        )
    else:
        add(_skip(tg, memory_skipped or "no memory run"))
    tc = Target("memory", "Celery worker RSS after the notification tasks", "<= 100 MB", unit="MB")
    if celery_memory:
        add(
            _check(
                tc,
                celery_memory["rss_mb_after"],
                100.0,
                note=f"after {celery_memory['tasks']} tasks, --pool solo",
            )
        )
    else:
        add(_skip(tc, celery_skipped or memory_skipped or "no memory run"))
    return targets


def format_targets(targets: list[Target]) -> str:
    def figure(target: Target) -> str:
        if target.measured is None:
            return "-"
        if isinstance(target.measured, int):
            return f"{target.measured}{(' ' + target.unit) if target.unit not in ('', 'x') else ''}"
        if target.unit == "x":
            return f"{target.measured:.2f}x"
        return f"{target.measured:.1f} {target.unit}".strip()

    width = max(len(f"{t.area}: {t.what}") for t in targets)
    lines = ["targets (the issue's table; ratios in this run):"]
    for target in targets:
        label = f"{target.area}: {target.what}"
        lines.append(
            f"  {label:<{width}}  {figure(target):>12}  {target.limit:>10}  {target.status}"
            + (f" ({target.note})" if target.note else "")
        )
    return "\n".join(lines)
