"""The load mix (``--mix``): simulated users on journeys through the site, against gunicorn.

Each simulated user is a thread with a keep-alive connection of its own. A
journey is what a visitor does: a directory page (page 1, a later page or a
tag), sometimes a search, one or two mentor pages, the booking picker,
sometimes the slots JSON, sometimes a booking (a signed-in POST of the
picker's form for a free slot, which must answer 302), and their own
``/sessions/`` (signed in). Between two requests the user thinks for a time
drawn from an exponential distribution (mean ``think`` seconds); the next
journey starts at once after the last step.

Bookings use distinct free slots planned beforehand (``booking.plan_bookings``
with mentors of their own, ``bench-mix-mentor-<n>``, and mentees
``bench-mentee-200000`` on), so each must succeed; when the planned slots run
out, journeys stop booking (counted as ``bookings_skipped``).

The saturation run sends the same journeys without think time and without
bookings (GETs only: they need no planned slot), with 1, 2, 4, 8… users,
until two doublings in a row add less than 5 % throughput (and at least
twice as many users as workers were tried).
"""

import http.client
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field

from benchmarks.stats import percentile

MIX_FIRST_MENTEE = 200_000
MIX_MENTORS_KIND = "mix"
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
BOOKING_SHARE = 0.35  # of journeys end with a booking (while planned slots last)


@dataclass(frozen=True)
class Step:
    kind: str
    path: str
    method: str = "GET"
    body: bytes = b""
    cookie: str | None = None
    expected: int = 200


@dataclass
class MixData:
    """What the journeys choose from (paths, signed-in cookies, planned bookings)."""

    directory: list[str]
    search: list[str]
    mentor_pages: list[str]
    slots: list[str]
    pickers: list[str]
    session_cookies: list[str]
    bookings: deque = field(default_factory=deque)  # of Step (POSTs), taken once each
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_booking(self) -> Step | None:
        with self.lock:
            return self.bookings.popleft() if self.bookings else None


@dataclass
class MixResult:
    users: int
    seconds: float
    think_seconds: float
    latencies: dict[str, list[float]] = field(default_factory=dict)  # expected responses
    statuses: dict[str, Counter] = field(default_factory=dict)
    errors: dict[str, Counter] = field(default_factory=dict)  # no response, by exception
    bookings_skipped: int = 0

    def add(self, kind: str, status: int | None, seconds: float, expected: int, error=None):
        statuses = self.statuses.setdefault(kind, Counter())
        if status is None:
            self.errors.setdefault(kind, Counter())[error] += 1
            return
        statuses[status] += 1
        if status == expected:
            self.latencies.setdefault(kind, []).append(seconds)

    def merge(self, other: "MixResult") -> None:
        for kind, values in other.latencies.items():
            self.latencies.setdefault(kind, []).extend(values)
        for kind, counts in other.statuses.items():
            self.statuses.setdefault(kind, Counter()).update(counts)
        for kind, counts in other.errors.items():
            self.errors.setdefault(kind, Counter()).update(counts)
        self.bookings_skipped += other.bookings_skipped

    def requests(self, kind: str | None = None) -> int:
        kinds = [kind] if kind else list(self.statuses)
        return sum(sum(self.statuses.get(k, Counter()).values()) for k in kinds) + sum(
            sum(self.errors.get(k, Counter()).values()) for k in kinds
        )

    def failed(self, kind: str | None = None) -> int:
        """Responses with an unexpected status, and requests with no response."""
        kinds = [kind] if kind else list({*self.statuses, *self.errors})
        return sum(self.requests(k) - len(self.latencies.get(k, [])) for k in kinds)

    def server_errors(self) -> int:
        return sum(
            count
            for counts in self.statuses.values()
            for status, count in counts.items()
            if status >= 500
        )

    @property
    def requests_per_second(self) -> float:
        ok = sum(len(values) for values in self.latencies.values())
        return ok / self.seconds if self.seconds > 0 else 0.0

    def percentiles(self, kind: str | None = None) -> dict[str, float | None]:
        values = (
            self.latencies.get(kind, [])
            if kind
            else [value for items in self.latencies.values() for value in items]
        )
        if not values:
            return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
        return {f"p{q}_ms": percentile(values, q) * 1000 for q in (50, 95, 99)}

    def as_dict(self) -> dict:
        kinds = sorted({*self.statuses, *self.errors})
        return {
            "users": self.users,
            "seconds": self.seconds,
            "think_seconds_mean": self.think_seconds,
            "requests": self.requests(),
            "failed": self.failed(),
            "server_errors": self.server_errors(),
            "requests_per_second": self.requests_per_second,
            "bookings_skipped": self.bookings_skipped,
            **self.percentiles(),
            "kinds": {
                kind: {
                    "requests": self.requests(kind),
                    "failed": self.failed(kind),
                    "statuses": {str(k): v for k, v in sorted(self.statuses.get(kind, {}).items())},
                    "errors": dict(self.errors.get(kind, {})),
                    **self.percentiles(kind),
                }
                for kind in kinds
            },
        }


def journey(rng: random.Random, data: MixData, cookie: str, *, book: bool, skipped: list):
    """One visitor's journey, step by step (a generator of ``Step``). A journey
    that would book but finds no planned slot left appends to ``skipped``."""
    draw = rng.random()
    yield Step("directory", data.directory[0] if draw < 0.6 else rng.choice(data.directory))
    if rng.random() < 0.5:
        yield Step("search", rng.choice(data.search))
    for _ in range(1 if rng.random() < 0.6 else 2):
        yield Step("mentor page", rng.choice(data.mentor_pages))
    booking = None
    if book and rng.random() < BOOKING_SHARE:
        booking = data.take_booking()
        if booking is None:
            skipped.append(1)
    yield Step(
        "picker", booking.path + "?tz=Europe/Berlin" if booking else rng.choice(data.pickers)
    )
    if rng.random() < 0.5:
        yield Step("slots json", rng.choice(data.slots))
    if booking:
        yield booking
    yield Step("sessions", "/sessions/", cookie=cookie)


def _send(connection, step: Step):
    headers = {}
    if step.cookie:
        headers["Cookie"] = step.cookie
    if step.method == "POST":
        headers.update(FORM_HEADERS)
    connection.request(step.method, step.path, body=step.body or None, headers=headers)
    response = connection.getresponse()
    response.read()
    return response


def run_users(
    host: str,
    port: int,
    data: MixData,
    *,
    users: int,
    seconds: float,
    think: float,
    book: bool = True,
    seed: int = 1,
    timeout: float = 30.0,
) -> MixResult:
    """``users`` threads on journeys for ``seconds``; think time exponential
    with mean ``think`` seconds (0: none)."""
    result = MixResult(users=users, seconds=seconds, think_seconds=think)
    lock = threading.Lock()
    start_gate = threading.Event()
    deadline = 0.0

    def user(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        mine = MixResult(users=1, seconds=seconds, think_seconds=think)
        cookie = data.session_cookies[index % len(data.session_cookies)]
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        start_gate.wait()
        # Users start spread over the first think time, not all at once.
        if think:
            time.sleep(rng.uniform(0, think))
        skipped: list = []
        try:
            while time.perf_counter() < deadline:
                for step in journey(rng, data, cookie, book=book, skipped=skipped):
                    if time.perf_counter() >= deadline:
                        break
                    began = time.perf_counter()
                    try:
                        response = _send(connection, step)
                    except (OSError, http.client.HTTPException) as error:
                        mine.add(step.kind, None, 0.0, step.expected, type(error).__name__)
                        connection.close()
                        time.sleep(0.01)
                        continue
                    mine.add(step.kind, response.status, time.perf_counter() - began, step.expected)
                    if response.will_close:
                        connection.close()
                    if think:
                        time.sleep(rng.expovariate(1 / think))
        finally:
            connection.close()
            mine.bookings_skipped = len(skipped)
            with lock:
                result.merge(mine)

    threads = [
        threading.Thread(target=user, args=(index,), name=f"mix-{index}", daemon=True)
        for index in range(users)
    ]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline = began + seconds
    start_gate.set()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


# --- Data (needs Django) ------------------------------------------------------------------


def prepare(*, users: int, bookings: int, seed: int = 20261203) -> MixData:
    """Paths, signed-in mentees and ``bookings`` planned booking POSTs."""
    from urllib.parse import urlencode

    from benchmarks.booking import ensure_mentees, plan_bookings, sign_in
    from mentorship.models import ExpertiseTag, MentorProfile
    from mentorship.selectors import PAGE_SIZE

    rng = random.Random(seed)
    listed = MentorProfile.objects.listed()
    pages = max(1, -(-listed.count() // PAGE_SIZE))
    tags = list(ExpertiseTag.objects.order_by("slug").values_list("slug", "name"))
    slugs = list(
        listed.filter(slug__startswith="bench-mentor-")
        .order_by("slug")
        .values_list("slug", flat=True)[:2000]
    )
    sample = rng.sample(slugs, min(200, len(slugs))) or ["maya-mentor"]
    directory = ["/mentors/"]
    directory += [f"/mentors/?page={rng.randint(2, max(2, pages))}" for _ in range(10)]
    directory += [f"/mentors/?tag={slug}" for slug, _ in tags[:10]]
    directory.append("/mentors/?sort=rating")
    search = [f"/mentors/?{urlencode({'q': name.lower()})}" for _, name in tags[:20]] or [
        "/mentors/?q=python"
    ]
    search += ["/mentors/?q=kubernetes", "/mentors/?q=grace"]
    mentor_pages = [f"/mentors/{slug}/" for slug in sample]
    mentor_pages += ["/mentors/bench-reviews-30/", "/mentors/bench-reviews-30000/"]

    plan, credentials = plan_bookings(
        max(1, bookings), first_mentee=MIX_FIRST_MENTEE, kind=MIX_MENTORS_KIND
    )
    mix_mentors = sorted({item.mentor_slug for item in plan})
    pickers = [f"/mentors/{slug}/book/?tz=Europe/Berlin" for slug in mix_mentors]
    pickers.append("/mentors/maya-mentor/book/?tz=Europe/Berlin")
    slots = [
        f"/mentors/{slug}/slots/?type=intro-call&tz=Europe/Berlin"
        for slug in [*mix_mentors, "bench-busy-100", "bench-busy-1000"]
    ]
    # The users' own sign-ins (for /sessions/): mentees after the bookings' ones.
    first_user = MIX_FIRST_MENTEE + 50_000
    session_users = ensure_mentees(range(first_user, first_user + users))
    signed_in = sign_in(session_users.values())
    session_cookies = [item.cookie_header() for item in signed_in.values()]
    planned = deque(
        Step(
            "booking",
            item.path,
            method="POST",
            body=item.form(credentials[item.mentee_email].csrf_token).encode(),
            cookie=credentials[item.mentee_email].cookie_header(),
            expected=302,
        )
        for item in (plan if bookings else [])
    )
    return MixData(
        directory=directory,
        search=search,
        mentor_pages=mentor_pages,
        slots=slots,
        pickers=pickers,
        session_cookies=session_cookies,
        bookings=planned,
    )


def booked_in_database() -> int:
    """Upcoming sessions of the mix mentors (what the mix's bookings made)."""
    from scheduling.models import Session

    return (
        Session.objects.blocking()
        .filter(mentor__user__email__startswith=f"bench-{MIX_MENTORS_KIND}-mentor-")
        .count()
    )


# --- The run ------------------------------------------------------------------------------


@dataclass
class SaturationLevel:
    users: int
    requests_per_second: float
    p95_ms: float | None
    failed: int


def run_mix(
    *,
    users: int,
    seconds: float,
    think: float,
    workers: int,
    bookings: int | None = None,
    saturation_seconds: float = 5.0,
    saturation: bool = True,
    max_users: int = 128,
    settings_module: str = "benchmarks.settings",
    env: dict[str, str] | None = None,
    progress=None,
) -> dict:
    """Prepare, start gunicorn, run the mix, then the saturation run; a dict
    of every figure (``as_dict`` of the mix, the levels, the peak)."""
    from benchmarks.server import HOST, gunicorn

    if bookings is None:
        # About one booking per user and 10 s of mix, with room to spare.
        bookings = max(10, int(users * seconds / 10 * 1.5)) if think else 0
    if progress:
        progress(f"mix: preparing paths, {users} signed-in users and {bookings} free slots")
    data = prepare(users=users, bookings=bookings)
    planned = len(data.bookings)
    before = booked_in_database()
    levels: list[SaturationLevel] = []
    if progress:
        progress(f"mix: starting gunicorn ({workers} workers)")
    with gunicorn(workers=workers, settings_module=settings_module, env=env) as port:
        if progress:
            progress("mix: warm-up (GETs, 2 s)")
        run_users(
            HOST, port, data, users=min(users, 4), seconds=min(2.0, seconds), think=0.0, book=False
        )
        if progress:
            progress(f"mix: {users} users, think time mean {think:g}s, {seconds:g}s")
        result = run_users(HOST, port, data, users=users, seconds=seconds, think=think)
        if saturation:
            count, best, flat = 1, 0.0, 0
            min_users = 2 * workers
            while count <= max_users:
                if progress:
                    progress(f"saturation: {count} users, no think time, {saturation_seconds:g}s")
                level = run_users(
                    HOST,
                    port,
                    data,
                    users=count,
                    seconds=saturation_seconds,
                    think=0.0,
                    book=False,
                    seed=count,
                )
                levels.append(
                    SaturationLevel(
                        users=count,
                        requests_per_second=level.requests_per_second,
                        p95_ms=level.percentiles()["p95_ms"],
                        failed=level.failed(),
                    )
                )
                # Stop once doubling the users twice in a row added less than
                # 5 % throughput (a single dip may be noise), past
                # ``min_users`` (the workers need a few users to be busy).
                if level.requests_per_second >= best * 1.05:
                    flat = 0
                else:
                    flat += 1
                best = max(best, level.requests_per_second)
                if flat >= 2 and count >= min_users:
                    break
                count *= 2
    booked = booked_in_database() - before
    made = result.statuses.get("booking", Counter())[302]
    summary = result.as_dict()
    summary.update(
        {
            "workers": workers,
            "bookings_planned": planned,
            "bookings_made_302": made,
            "bookings_in_database": booked,
        }
    )
    peak = max(levels, key=lambda level: level.requests_per_second) if levels else None
    return {
        "mix": summary,
        "saturation": {
            "seconds_per_level": saturation_seconds,
            "levels": [level.__dict__ for level in levels],
            "peak_requests_per_second": peak.requests_per_second if peak else None,
            "peak_users": peak.users if peak else None,
        }
        if saturation
        else None,
    }


def format_mix(figures: dict) -> str:
    mix = figures["mix"]

    def ms(value):
        return "-" if value is None else f"{value:.1f}"

    lines = [
        f"load mix: {mix['users']} users, think time exponential mean "
        f"{mix['think_seconds_mean']:g}s, {mix['seconds']:.0f}s, gunicorn {mix['workers']} "
        f"workers: {mix['requests']} requests, {mix['requests_per_second']:.1f} req/s, "
        f"{mix['failed']} errors ({mix['server_errors']} 5xx)",
        f"  {'kind':<12} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}",
    ]
    for kind, row in mix["kinds"].items():
        lines.append(
            f"  {kind:<12} {row['requests']:>8} {row['failed']:>6} {ms(row['p50_ms']):>8} "
            f"{ms(row['p95_ms']):>8} {ms(row['p99_ms']):>8}"
        )
    lines.append(
        f"  {'all':<12} {mix['requests']:>8} {mix['failed']:>6} {ms(mix['p50_ms']):>8} "
        f"{ms(mix['p95_ms']):>8} {ms(mix['p99_ms']):>8}"
    )
    lines.append(
        f"  bookings: {mix['bookings_made_302']} answered 302, {mix['bookings_in_database']} "
        f"new sessions in the database, of {mix['bookings_planned']} planned slots"
        + (
            f"; {mix['bookings_skipped']} journeys found no planned slot left"
            if mix["bookings_skipped"]
            else ""
        )
    )
    saturation = figures.get("saturation")
    if saturation:
        steps = ", ".join(
            f"{level['users']}: {level['requests_per_second']:.0f}"
            for level in saturation["levels"]
        )
        lines.append(
            f"saturation (GET journeys, no think time, {saturation['seconds_per_level']:g}s per "
            f"level): peak {saturation['peak_requests_per_second']:.1f} req/s at "
            f"{saturation['peak_users']} users (users: req/s {steps})"
        )
    return "\n".join(lines)
