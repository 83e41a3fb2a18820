"""The contention run: many mentees racing for the same slot, over HTTP, on PostgreSQL.

``clients`` threads, each with its own HTTP connection, against gunicorn
started with several worker processes (threaded, so every request of a round
is being served at once). In each of ``rounds`` rounds every client POSTs the
*same* slot (mentor, session type, start) as a different verified mentee, all
released together by a barrier. Exactly one booking per round must succeed.

Afterwards, from the database: the sessions booked per round, the double
bookings (overlapping upcoming/active sessions of one mentor, whole database)
and the deadlocks (``pg_stat_database.deadlocks`` for this database, read
before and after; gunicorn is stopped first so its connections report theirs).
Must be 0: double bookings, deadlocks, 5xx responses; and every round must
have made exactly one booking.
"""

import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, field

from django.db import connection

from benchmarks.booking import (
    MENTEE_EMAIL,
    SESSION_TYPE,
    PlannedBooking,
    double_bookings,
    ensure_mentees,
    ensure_mentors,
    free_slots,
    mentee_reuse,
    reset_sessions,
    sign_in,
)
from benchmarks.loadgen import Outcome, PreparedRequest, race, run_load
from benchmarks.measure import BenchmarkError
from benchmarks.stats import percentile

FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def unsupported_reason(vendor: str | None = None) -> str | None:
    """Why the contention run cannot run on this database, or None."""
    vendor = vendor or connection.vendor
    if vendor != "postgresql":
        return (
            f"contention run skipped: it needs PostgreSQL (the benchmark database is {vendor}; "
            "set DATABASE_URL=postgres://...)"
        )
    return None


@dataclass
class ContentionResult:
    clients: int
    rounds: int
    workers: int
    threads: int
    statuses: Counter = field(default_factory=Counter)  # responses by status
    errors: Counter = field(default_factory=Counter)  # no response, by exception name
    latencies: list[float] = field(default_factory=list)  # seconds, every response
    wins_per_round: list[int] = field(default_factory=list)  # 302 responses
    bookings_per_round: list[int] = field(default_factory=list)  # sessions in the database
    double_bookings: int = 0
    deadlocks: int = 0
    seconds: float = 0.0

    @classmethod
    def from_outcomes(cls, outcomes: list[list[Outcome]], **fields) -> "ContentionResult":
        result = cls(**fields)
        for round_outcomes in outcomes:
            result.wins_per_round.append(sum(o.status == 302 for o in round_outcomes))
            for outcome in round_outcomes:
                if outcome.status is None:
                    result.errors[outcome.error or "error"] += 1
                else:
                    result.statuses[outcome.status] += 1
                    result.latencies.append(outcome.seconds)
        return result

    @property
    def requests(self) -> int:
        return self.clients * self.rounds

    @property
    def bookings(self) -> int:
        return sum(self.bookings_per_round)

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    @property
    def other(self) -> int:
        """Neither 302 nor 409: other statuses, and requests that got no response."""
        return self.requests - self.statuses[302] - self.statuses[409]

    @property
    def rounds_with_one_booking(self) -> int:
        return sum(count == 1 for count in self.bookings_per_round)

    def latency_ms(self, pct: float) -> float:
        return percentile(self.latencies, pct) * 1000 if self.latencies else float("nan")

    def failures(self) -> list[str]:
        """Every must-be figure that is not what it must be."""
        failed = []
        if self.rounds_with_one_booking != self.rounds:
            failed.append(
                f"{self.rounds - self.rounds_with_one_booking} of {self.rounds} rounds did not "
                "book exactly one session"
            )
        if self.wins_per_round != self.bookings_per_round:
            failed.append("the 302 answers do not match the sessions in the database")
        if self.double_bookings:
            failed.append(f"{self.double_bookings} double bookings")
        if self.deadlocks:
            failed.append(f"{self.deadlocks} deadlocks")
        if self.server_errors:
            failed.append(f"{self.server_errors} server errors (5xx)")
        return failed

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("latencies")
        data["statuses"] = {str(status): count for status, count in self.statuses.items()}
        data.update(
            requests=self.requests,
            bookings=self.bookings,
            rounds_with_one_booking=self.rounds_with_one_booking,
            server_errors=self.server_errors,
            other=self.other,
            p50_ms=self.latency_ms(50),
            p99_ms=self.latency_ms(99),
            failures=self.failures(),
        )
        return data


def format_contention(result: ContentionResult) -> str:
    def must(value: int) -> str:
        return "ok" if not value else "FAILED"

    one = result.rounds_with_one_booking
    unusual = sorted(
        (status, count) for status, count in result.statuses.items() if status not in (302, 409)
    )
    other = ", ".join(
        [
            *(f"{status}: {count}" for status, count in unusual),
            *(f"{name}: {count}" for name, count in sorted(result.errors.items())),
        ]
    )
    lines = [
        f"contention (PostgreSQL): {result.clients} clients x {result.rounds} rounds, "
        f"every client POSTs the same slot each round as a different mentee; gunicorn "
        f"{result.workers} workers x {result.threads} threads; {result.seconds:.1f}s",
        f"  bookings made        {result.bookings:>6}  exactly one in {one}/{result.rounds} "
        f"rounds ({'ok' if one == result.rounds else 'FAILED'})",
        f"  double bookings      {result.double_bookings:>6}  must be 0 "
        f"({must(result.double_bookings)})",
        f"  deadlocks            {result.deadlocks:>6}  must be 0, pg_stat_database delta "
        f"({must(result.deadlocks)})",
        f"  server errors (5xx)  {result.server_errors:>6}  must be 0 "
        f"({must(result.server_errors)})",
        f"  responses            302: {result.statuses[302]}, 409: {result.statuses[409]}, "
        f"other: {result.other}" + (f" ({other})" if other else ""),
        f"  latency, all requests  p50 {result.latency_ms(50):.1f} ms, "
        f"p99 {result.latency_ms(99):.1f} ms",
    ]
    return "\n".join(lines)


# --- PostgreSQL ---------------------------------------------------------------------------


def pg_deadlocks() -> int:
    """``pg_stat_database.deadlocks`` of the current database, read afresh."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def wait_for_other_backends(timeout: float = 15.0) -> int:
    """Wait until no other client is connected to this database (a backend
    reports its statistics when it exits); returns how many still are."""
    deadline = time.monotonic() + timeout
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            others = int(cursor.fetchone()[0])
        if not others or time.monotonic() > deadline:
            return others
        time.sleep(0.1)


# --- The run ------------------------------------------------------------------------------


def _post(path: str, body: str, cookie: str) -> PreparedRequest:
    return PreparedRequest(
        "POST", path, body.encode(), {**FORM_HEADERS, "Cookie": cookie, "Connection": "close"}
    )


def prepare(clients: int, rounds: int, *, first_mentee: int = 100_000):
    """The contention mentor, ``rounds`` free slots plus one warm-up slot per
    client, and the mentees: in each round every client a different one, no
    mentee in more rounds than the limits let them win. Returns the mentor,
    the warm-up requests, the rounds' requests and the rounds' starts."""
    (mentor,) = ensure_mentors("contention", 1)
    reset_sessions([mentor])
    starts = free_slots(mentor, rounds + clients)
    warm_starts, round_starts = starts[:clients], starts[clients:]
    reuse = mentee_reuse()
    groups = math.ceil(rounds / reuse)
    # Mentee numbers: client c in round r is first + c + clients * (r // reuse);
    # the warm-up bookings have mentees of their own after those.
    users = ensure_mentees(range(first_mentee, first_mentee + clients * (groups + 1)))
    credentials = sign_in(users.values())

    def request(start, number: int) -> PreparedRequest:
        item = PlannedBooking(
            mentor_id=mentor.pk,
            mentor_slug=mentor.slug,
            start=start,
            mentee_email=MENTEE_EMAIL.format(number=number),
        )
        signed_in = credentials[item.mentee_email]
        return _post(item.path, item.form(signed_in.csrf_token), signed_in.cookie_header())

    warm_up = [
        request(start, first_mentee + clients * groups + index)
        for index, start in enumerate(warm_starts)
    ]
    plan = [
        [
            request(start, first_mentee + index + clients * (number // reuse))
            for index in range(clients)
        ]
        for number, start in enumerate(round_starts)
    ]
    return mentor, warm_up, plan, round_starts


def run_contention(
    *,
    clients: int = 8,
    rounds: int = 100,
    workers: int = 4,
    threads: int = 2,
    settings_module: str = "benchmarks.settings",
    env: dict[str, str] | None = None,
    progress=None,
) -> ContentionResult:
    """Prepare, race ``rounds`` times through gunicorn, and count from the database."""
    from benchmarks.server import HOST, gunicorn
    from scheduling.models import Session

    reason = unsupported_reason()
    if reason:
        raise BenchmarkError(reason)
    if clients < 2 or rounds < 1:
        raise ValueError("a race needs at least 2 clients and 1 round")
    if progress:
        progress(f"contention: preparing {rounds} slots and the mentees of {clients} clients")
    mentor, warm_up, plan, starts = prepare(clients, rounds)
    picker = f"/mentors/{mentor.slug}/book/?type={SESSION_TYPE}"
    deadlocks_before = pg_deadlocks()
    if progress:
        progress(f"contention: starting gunicorn ({workers} workers x {threads} threads)")
    with gunicorn(
        settings_module=settings_module,
        workers=workers,
        threads=threads,
        env=env,
        # Django logs a warning for every 409: seven a round, all expected.
        expected_log=("WARNING django.request Conflict: ",),
    ) as port:
        if progress:
            progress("contention: warm-up")
        run_load(HOST, port, picker, seconds=1.0, concurrency=clients)
        (warm,) = race(HOST, port, [warm_up])
        if any(outcome.status != 302 for outcome in warm):
            raise BenchmarkError(
                "contention warm-up: a booking of a free slot answered "
                + ", ".join(str(outcome.status or outcome.error) for outcome in warm)
            )
        if progress:
            progress(f"contention: {rounds} rounds of {clients} clients racing for one slot")
        began = time.perf_counter()
        outcomes = race(HOST, port, plan)
        seconds = time.perf_counter() - began
    # gunicorn has stopped: its database connections close, and each backend
    # reports its statistics (deadlocks among them) as it exits.
    connection.close()
    still = wait_for_other_backends()
    if still and progress:
        progress(f"contention: {still} other connections to the database remain")
    result = ContentionResult.from_outcomes(
        outcomes, clients=clients, rounds=rounds, workers=workers, threads=threads, seconds=seconds
    )
    result.deadlocks = pg_deadlocks() - deadlocks_before
    booked = Counter(
        Session.objects.blocking()
        .filter(mentor=mentor, start__in=starts)
        .values_list("start", flat=True)
    )
    result.bookings_per_round = [booked[start] for start in starts]
    result.double_bookings = double_bookings()
    return result
