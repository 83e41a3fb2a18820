"""A small concurrent HTTP load generator: threads, one keep-alive connection each.

Standard library only. Each thread sends GET requests back to back on its own
``http.client`` connection (reconnecting when the server closes it, as
gunicorn's sync workers do after every response) until the deadline. Threads
share the GIL, so on a small machine the generator itself costs CPU; ratios to
the bare view measured the same way cancel most of that out.
"""

import http.client
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from benchmarks.stats import percentile


@dataclass
class LoadResult:
    seconds: float
    concurrency: int
    latencies: list[float] = field(default_factory=list)  # seconds, expected-status responses
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)  # connection errors by exception name

    def add(self, other: "LoadResult") -> None:
        """Fold another run of the same endpoint into this one."""
        self.seconds += other.seconds
        self.latencies.extend(other.latencies)
        self.statuses.update(other.statuses)
        self.errors.update(other.errors)

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def failed(self) -> int:
        return sum(self.errors.values()) + sum(self.statuses.values()) - self.ok

    @property
    def requests_per_second(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000 if self.latencies else float("nan")

    @property
    def p95_ms(self) -> float:
        return percentile(self.latencies, 95) * 1000 if self.latencies else float("nan")


def run_load(
    host: str,
    port: int,
    path: str,
    *,
    seconds: float,
    concurrency: int,
    headers: dict[str, str] | None = None,
    expected_status: int = 200,
    timeout: float = 30.0,
) -> LoadResult:
    """GET ``path`` from ``concurrency`` threads for ``seconds``; latencies and counts."""
    result = LoadResult(seconds=seconds, concurrency=concurrency)
    request_headers = dict(headers or {})
    ready, lock = threading.Event(), threading.Lock()
    deadline = 0.0

    def worker() -> None:
        latencies: list[float] = []
        statuses: Counter = Counter()
        errors: Counter = Counter()
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        ready.wait()
        try:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                try:
                    connection.request("GET", path, headers=request_headers)
                    response = connection.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException) as error:
                    errors[type(error).__name__] += 1
                    connection.close()
                    time.sleep(0.01)  # the server is struggling: don't spin
                    continue
                elapsed = time.perf_counter() - began
                statuses[response.status] += 1
                if response.status == expected_status:
                    latencies.append(elapsed)
                if response.will_close:
                    connection.close()  # the next request() reconnects
        finally:
            connection.close()
            with lock:
                result.latencies.extend(latencies)
                result.statuses.update(statuses)
                result.errors.update(errors)

    threads = [
        threading.Thread(target=worker, name=f"load-{index}", daemon=True)
        for index in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline = began + seconds
    ready.set()
    for thread in threads:
        thread.join()
    # Requests in flight at the deadline still complete: count the time they took.
    result.seconds = time.perf_counter() - began
    return result


# --- Races: every client sends its request at the same moment -------------------------------


@dataclass(frozen=True)
class PreparedRequest:
    """One request of a race, built before it starts (nothing is encoded while timed)."""

    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    status: int | None  # None: no response (``error`` says why)
    seconds: float
    error: str | None = None


def race(
    host: str,
    port: int,
    rounds: list[list[PreparedRequest]],
    *,
    timeout: float = 60.0,
) -> list[list[Outcome]]:
    """Send each round's requests at the same moment, one client thread each.

    ``rounds[r][c]`` is what client ``c`` sends in round ``r``; every round has
    one request per client. Each client opens a new connection of its own and
    connects *before* waiting at a barrier with the others, then sends; a round
    starts when every client has its previous response. Latency runs from
    sending the request to reading the whole response. Returns the outcomes in
    the same shape.
    """
    clients = len(rounds[0]) if rounds else 0
    if any(len(requests) != clients for requests in rounds):
        raise ValueError("every round needs one request per client")
    barrier = threading.Barrier(clients, timeout=timeout) if clients else None
    outcomes: list[list[Outcome | None]] = [[None] * clients for _ in rounds]
    failures: list[BaseException] = []

    def client(index: int) -> None:
        try:
            for number, requests in enumerate(rounds):
                request = requests[index]
                connection = http.client.HTTPConnection(host, port, timeout=timeout)
                connect_error = None
                try:
                    connection.connect()
                except OSError as error:
                    connect_error = type(error).__name__
                barrier.wait()
                began = time.perf_counter()
                if connect_error:
                    outcomes[number][index] = Outcome(None, 0.0, connect_error)
                    continue
                try:
                    connection.request(
                        request.method, request.path, body=request.body, headers=request.headers
                    )
                    response = connection.getresponse()
                    response.read()
                    outcomes[number][index] = Outcome(response.status, time.perf_counter() - began)
                except (OSError, http.client.HTTPException) as error:
                    outcomes[number][index] = Outcome(
                        None, time.perf_counter() - began, type(error).__name__
                    )
                finally:
                    connection.close()
        except threading.BrokenBarrierError as error:
            failures.append(error)
            barrier.abort()

    threads = [
        threading.Thread(target=client, args=(index,), name=f"race-{index}", daemon=True)
        for index in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(
            f"a race client waited more than {timeout:g}s for the others at the barrier"
        )
    return outcomes  # type: ignore[return-value]
