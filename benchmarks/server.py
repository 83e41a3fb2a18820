"""Runs gunicorn on a free loopback port for the HTTP half of the benchmark."""

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HOST = "127.0.0.1"
PROJECT_DIR = Path(__file__).resolve().parent.parent


class ServerError(RuntimeError):
    pass


def free_port(host: str = HOST) -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _wait_until_ready(
    process: subprocess.Popen, port: int, path: str, log_path: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(
                f"gunicorn exited with status {process.returncode} before it was ready:\n"
                + log_path.read_text(errors="replace")[-4000:]
            )
        connection = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                return
            last_error = f"HTTP {response.status}"
        except (OSError, http.client.HTTPException) as error:
            last_error = f"{type(error).__name__}: {error}"
        finally:
            connection.close()
        time.sleep(0.1)
    raise ServerError(
        f"gunicorn did not answer {path} within {timeout:.0f}s ({last_error}):\n"
        + log_path.read_text(errors="replace")[-4000:]
    )


def _stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    if process.poll() is not None:
        return
    # SIGTERM is gunicorn's graceful shutdown; the arbiter stops its workers.
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        # The whole session: the arbiter and any worker it left behind.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=grace)


def _without_expected(output: str, expected: tuple[str, ...]) -> str:
    if not expected:
        return output.strip()
    lines = output.splitlines()
    kept = [line for line in lines if not any(text in line for text in expected)]
    if len(kept) < len(lines):
        kept.append(f"({len(lines) - len(kept)} expected lines left out: {', '.join(expected)})")
    return "\n".join(kept).strip()


@contextlib.contextmanager
def gunicorn(
    *,
    settings_module: str = "benchmarks.settings",
    workers: int = 2,
    threads: int = 1,
    env: dict[str, str] | None = None,
    expected_log: tuple[str, ...] = (),
    ready_path: str = "/healthz",
    startup_timeout: float = 30.0,
    pid_file: Path | None = None,
) -> Iterator[int]:
    """Start gunicorn with ``workers`` worker processes; yields its port; always stops it.

    ``threads`` > 1 makes them threaded workers (gunicorn's ``gthread``), each
    serving that many requests at once. ``env`` is added to the harness's own
    environment for gunicorn. Log lines containing any of ``expected_log``
    (e.g. the warning Django logs for every 409) are counted, not printed.
    ``pid_file``: gunicorn writes its arbiter's pid there (``worker_pids``).
    """
    port = free_port()
    env = {**os.environ, **(env or {}), "DJANGO_SETTINGS_MODULE": settings_module}
    with tempfile.NamedTemporaryFile(
        mode="w+b", prefix="bench-gunicorn-", suffix=".log", delete=False
    ) as log:
        log_path = Path(log.name)
        # Its own session, so a Ctrl-C in the terminal reaches only the harness,
        # which then stops gunicorn in order below.
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "mentorship.wsgi:application",
                "--bind",
                f"{HOST}:{port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--log-level",
                "warning",
                "--graceful-timeout",
                "5",
                *(["--pid", str(pid_file)] if pid_file else []),
            ],
            cwd=PROJECT_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ready = False
    try:
        _wait_until_ready(process, port, ready_path, log_path, startup_timeout)
        ready = True
        yield port
    finally:
        _stop(process)
        output = _without_expected(log_path.read_text(errors="replace"), expected_log)
        log_path.unlink(missing_ok=True)
        # A failed start already carries the log in its ServerError.
        if ready and output:
            print(f"--- gunicorn output ---\n{output[-4000:]}\n---", file=sys.stderr)


def child_pids(parent: int) -> list[int]:
    """The processes whose parent is ``parent`` (Linux ``/proc``)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == parent:
            children.append(int(entry.name))
    return sorted(children)


def worker_pids(pid_file: Path) -> list[int]:
    """The worker processes of the gunicorn whose arbiter wrote ``pid_file``."""
    return child_pids(int(pid_file.read_text().strip()))


def rss_mb(pid: int) -> float:
    """A process's resident set size (``VmRSS`` in ``/proc/<pid>/status``), in MB (MiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ServerError(f"no VmRSS for process {pid}")
