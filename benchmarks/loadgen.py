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
