"""Memory of the processes that serve: gunicorn workers after N requests,
a Celery worker after N notification tasks.

Resident set size (``VmRSS`` of ``/proc/<pid>/status``, in MiB, reported as
MB) read from the outside, as an operator's ``ps`` or a container limit sees
it.

* **gunicorn**: sync workers (``--workers``), ``requests`` GETs spread round
  robin over the benchmark endpoints (those not measured cold) from a few
  client threads; the largest worker is the figure, after the warm-up too.
* **Celery**: a real ``celery -A mentorship worker --pool solo`` process on a
  Redis broker (solo: the process that takes the messages runs the tasks, so
  its RSS is the one that grows). The harness writes ``tasks`` confirmation
  notifications (``outbox.notify_many``, two rows a session) for sessions of
  ``bench-sessions-4000``; each row is enqueued on commit, as in production,
  and the worker sends it (the benchmark settings' dummy mail backend: the
  message is rendered, its ICS attached, nothing leaves) and marks it sent.
  The figure is the worker's RSS once every row is sent, beside its RSS when
  it was idle before the first task.
"""

import os
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from pathlib import Path

from benchmarks.server import HOST, PROJECT_DIR, gunicorn, rss_mb, worker_pids


class MeasurementError(RuntimeError):
    pass


def _drive(port: int, paths: list[tuple[str, dict]], requests: int, concurrency: int) -> Counter:
    """Send ``requests`` GETs, path ``i`` being ``paths[i % len(paths)]``."""
    import http.client

    statuses: Counter = Counter()
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker() -> None:
        mine: Counter = Counter()
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            path, headers = paths[index % len(paths)]
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                mine[response.status] += 1
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                mine[type(error).__name__] += 1
                connection.close()
        connection.close()
        with lock:
            statuses.update(mine)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def gunicorn_rss(
    endpoints,
    *,
    requests: int,
    workers: int,
    concurrency: int = 4,
    settings_module: str = "benchmarks.settings",
    env: dict[str, str] | None = None,
    progress=None,
) -> dict:
    """The gunicorn workers' RSS after a warm-up and after ``requests`` GETs."""
    from benchmarks.measure import session_cookie

    paths = []
    for endpoint in endpoints:
        if endpoint.cold:
            continue
        cookie = session_cookie(endpoint)
        paths.append((endpoint.resolve_path(), {"Cookie": cookie} if cookie else {}))
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as directory:
        pid_file = Path(directory) / "gunicorn.pid"
        if progress:
            progress(f"memory: gunicorn ({workers} workers), {requests} requests")
        with gunicorn(
            workers=workers, pid_file=pid_file, settings_module=settings_module, env=env
        ) as port:
            _drive(port, paths, len(paths) * 2, concurrency)
            pids = worker_pids(pid_file)
            after_warmup = {pid: rss_mb(pid) for pid in pids}
            began = time.perf_counter()
            statuses = _drive(port, paths, requests, concurrency)
            seconds = time.perf_counter() - began
            after = {pid: rss_mb(pid) for pid in worker_pids(pid_file)}
    unexpected = sum(count for status, count in statuses.items() if status != 200)
    return {
        "workers": workers,
        "requests": requests,
        "endpoints": len(paths),
        "seconds": seconds,
        "statuses": {str(key): value for key, value in statuses.items()},
        "unexpected": unexpected,
        "rss_mb_after_warmup": sorted(after_warmup.values()),
        "rss_mb_after": sorted(after.values()),
        "max_rss_mb": max(after.values()) if after else None,
        "workers_restarted": sorted(set(after) - set(after_warmup)),
    }


# --- Celery -----------------------------------------------------------------------------


def broker_url(cache_redis_url: str | None) -> str | None:
    """The Redis broker for the Celery measurement: ``CELERY_BROKER_URL`` if it
    is Redis, else the cache's Redis with database 0 (or 2 if the cache uses 0)."""
    configured = os.environ.get("CELERY_BROKER_URL", "")
    if configured.startswith(("redis://", "rediss://")):
        return configured
    if not cache_redis_url:
        return None
    base, _, database = cache_redis_url.rstrip("/").rpartition("/")
    number = 2 if database == "0" else 0
    return f"{base}/{number}" if database.isdigit() else f"{cache_redis_url.rstrip('/')}/0"


def _notifications(count: int, *, mentor_slug: str = "bench-sessions-4000") -> list[int]:
    """``count`` pending confirmation rows for sessions of ``mentor_slug`` (two
    rows a session, the rows ``outbox.notify`` writes), the rows of earlier
    runs deleted first. Returns their ids; nothing is enqueued here."""
    from scheduling.models import Notification, Session
    from scheduling.notifications import outbox

    sessions = list(
        Session.objects.filter(mentor__slug=mentor_slug)
        .exclude(status=Session.Status.CANCELLED)  # whose confirmation would be skipped
        .select_related("mentor__user", "mentee__user", "session_type")
        .order_by("start")[: (count + 1) // 2]
    )
    if len(sessions) * 2 < count:
        raise MeasurementError(
            f"{mentor_slug} has {len(sessions)} sessions that are not cancelled, "
            f"{(count + 1) // 2} needed"
        )
    Notification.objects.filter(session__in=sessions).delete()
    rows = Notification.objects.bulk_create(outbox._rows(sessions, Notification.Kind.CONFIRMATION))
    return [row.pk for row in rows][:count]


def celery_rss(
    *,
    tasks: int,
    broker: str,
    timeout: float = 600.0,
    settings_module: str = "benchmarks.settings",
    env: dict[str, str] | None = None,
    mentor_slug: str = "bench-sessions-4000",
    progress=None,
) -> dict:
    """Start a solo Celery worker on ``broker``, have it send ``tasks``
    notifications, and read its RSS (idle before, after the last)."""
    import redis

    from scheduling.models import Notification

    env = {
        **os.environ,
        **(env or {}),
        "DJANGO_SETTINGS_MODULE": settings_module,
        "CELERY_BROKER_URL": broker,
    }
    queue_name = "celery"
    # Messages left by earlier runs (or by the in-process bookings) would be
    # counted as this run's work: start from an empty queue.
    redis.Redis.from_url(broker).delete(queue_name)
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below
        mode="w+b", prefix="bench-celery-", suffix=".log", delete=False
    )
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "mentorship",
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-Q",
        queue_name,
    ]
    if progress:
        progress(f"memory: celery worker (solo) on {broker}, {tasks} notification tasks")
    process = subprocess.Popen(
        command,
        cwd=PROJECT_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        idle = _wait_idle(process, Path(log.name))
        from celery.exceptions import AlwaysEagerIgnored

        from mentorship.celery import app
        from scheduling.tasks import deliver_notification

        began = time.perf_counter()
        ids = _notifications(tasks, mentor_slug=mentor_slug)
        # One task per row, as outbox.enqueue sends them (send_task publishes
        # even where the harness's own settings would run tasks eagerly).
        with app.connection_for_write(broker) as connection, warnings.catch_warnings():
            # Settings that run tasks eagerly (the tests') do not apply to
            # send_task, which is the point here: say nothing about it.
            warnings.simplefilter("ignore", AlwaysEagerIgnored)
            for notification_id in ids:
                app.send_task(
                    deliver_notification.name, args=[notification_id], connection=connection
                )
        deadline = time.monotonic() + timeout
        while True:
            left = (
                Notification.objects.filter(pk__in=ids)
                .filter(status__in=[Notification.Status.PENDING, Notification.Status.SENDING])
                .count()
            )
            if not left:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise MeasurementError(
                    f"the Celery worker sent {len(ids) - left} of {len(ids)} notifications "
                    f"({'it exited' if process.poll() is not None else 'timed out'}):\n"
                    + Path(log.name).read_text(errors="replace")[-3000:]
                )
            time.sleep(0.5)
        seconds = time.perf_counter() - began
        after = rss_mb(process.pid)
        outcomes = Counter(Notification.objects.filter(pk__in=ids).values_list("status", flat=True))
        children = list(_children(process.pid))
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        output = Path(log.name).read_text(errors="replace").strip()
        Path(log.name).unlink(missing_ok=True)
    return {
        "pool": "solo",
        "broker": broker,
        "tasks": len(ids),
        "seconds": seconds,
        "outcomes": dict(outcomes),
        "rss_mb_idle": idle,
        "rss_mb_after": after,
        "pid_measured": "the worker process itself (solo pool: it runs the tasks)",
        "child_processes": len(children),
        "log_tail": output[-2000:] if output else "",
    }


def _children(pid: int) -> list[int]:
    from benchmarks.server import child_pids

    return child_pids(pid)


def _wait_idle(process: subprocess.Popen, log_path: Path, timeout: float = 60.0) -> float:
    """Wait until the worker has started (its RSS stops growing); its RSS then."""
    deadline = time.monotonic() + timeout
    last, steady = 0.0, 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise MeasurementError(
                f"the Celery worker exited with status {process.returncode}:\n"
                + log_path.read_text(errors="replace")[-3000:]
            )
        current = rss_mb(process.pid)
        steady = steady + 1 if current == last and current > 30 else 0
        last = current
        if steady >= 6:
            return current
        time.sleep(0.5)
    return last


def format_memory(gunicorn_figures: dict | None, celery_figures: dict | None, notes) -> str:
    lines = []
    if gunicorn_figures:
        g = gunicorn_figures
        lines.append(
            f"memory, gunicorn: {g['workers']} sync workers after {g['requests']} GETs over "
            f"{g['endpoints']} endpoints ({g['seconds']:.0f}s): RSS "
            + ", ".join(f"{value:.1f}" for value in g["rss_mb_after"])
            + f" MB (max {g['max_rss_mb']:.1f}; after the warm-up "
            + ", ".join(f"{value:.1f}" for value in g["rss_mb_after_warmup"])
            + ")"
            + (f"; {g['unexpected']} responses not 200" if g["unexpected"] else "")
        )
    if celery_figures:
        c = celery_figures
        lines.append(
            f"memory, Celery: worker --pool solo after {c['tasks']} notification tasks "
            f"({c['seconds']:.0f}s; {c['outcomes']}): RSS {c['rss_mb_after']:.1f} MB "
            f"(idle before the first: {c['rss_mb_idle']:.1f} MB)"
        )
    lines.extend(notes)
    return "\n".join(lines)
