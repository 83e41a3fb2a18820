"""How the tests own their clock (STYLE.md habit 15): with time-machine, and
only with it.

``time_machine.move_to(moment, tick=False)`` freezes ``datetime.now``,
``date.today`` and ``time.time`` (so ``timezone.now``) in every thread of the
process, the live server's too, and leaves ``time.monotonic`` running, so
timeouts still expire. Patching ``django.utils.timezone.now`` instead reaches
only the code that calls it: not ``datetime.now``, ``time.time``, Django's
signing timestamps or model defaults that hold the function. A test that
patched it froze half of the clock; the scan below keeps that from coming back.
"""

import ast
import os
import threading
import time
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests
from django.utils import timezone

from conftest import PROJECT_DIR

# Far from any day these tests run on, real or faked (faketime +400d).
MOMENT = datetime(2009, 2, 13, 23, 31, 30, tzinfo=UTC)
SKIPPED_FOLDERS = {".venv", ".git", "var", "test-artifacts", "node_modules", "static"}


def clocks() -> dict[str, object]:
    """What the code under test may read as "now"."""
    return {
        "timezone.now()": timezone.now(),
        "datetime.now(UTC)": datetime.now(UTC),
        "time.time()": datetime.fromtimestamp(time.time(), UTC),
        "date.today()": date.today(),  # noqa: DTZ011 (what is under test)
    }


def frozen() -> dict[str, object]:
    """What each of ``clocks()`` reads at MOMENT."""
    return {
        "timezone.now()": MOMENT,
        "datetime.now(UTC)": MOMENT,
        "time.time()": MOMENT,
        # The process's local date (Django sets TZ to TIME_ZONE).
        "date.today()": date(*time.localtime(MOMENT.timestamp())[:3]),
    }


def test_the_freeze_reaches_every_clock_in_this_thread(time_machine):
    assert clocks() != frozen()  # the real clock, before
    time_machine.move_to(MOMENT, tick=False)
    assert clocks() == frozen()
    time_machine.shift(timedelta(minutes=5))
    assert (
        timezone.now() == datetime.fromtimestamp(time.time(), UTC) == MOMENT + timedelta(minutes=5)
    )


def test_the_freeze_reaches_other_threads(time_machine):
    time_machine.move_to(MOMENT, tick=False)
    seen = {}
    thread = threading.Thread(target=lambda: seen.update(clocks()))
    thread.start()
    thread.join(timeout=10)
    assert seen == frozen()


def test_the_freeze_reaches_the_live_server_thread(time_machine, live_server):
    # The live server's handler stamps each response's Date header with
    # time.time() in its own thread.
    time_machine.move_to(MOMENT, tick=False)
    response = requests.get(f"{live_server.url}/static/js/timezone.js", timeout=10)
    assert response.status_code == 200
    assert response.headers["Date"] == format_datetime(MOMENT, usegmt=True)


def test_monotonic_time_keeps_running_so_timeouts_still_expire(time_machine):
    time_machine.move_to(MOMENT, tick=False)
    started = time.monotonic()
    time.sleep(0.02)
    assert time.monotonic() - started >= 0.02
    assert timezone.now() == MOMENT


# --- Nothing patches timezone.now ------------------------------------------------------------


def _names(node: ast.expr) -> str:
    """``django.utils.timezone`` for that expression, ``timezone`` for a name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_names(node.value)}.{node.attr}"
    return ""


# (object, attribute) pairs that freeze part of the clock when replaced, and
# the same as dotted paths.
PATCHED_BY_HAND = {("timezone", "now"), ("time", "time"), ("time", "time_ns")}
DOTTED = {"django.utils.timezone.now", "time.time", "time.time_ns"}


def patches_of_the_clock(source: str) -> list[int]:
    """Lines of ``source`` that patch the clock by hand or use another
    freezing library: ``setattr`` of ``timezone`` (under any name ending so)
    and ``"now"``, monkeypatch's or not, ``patch.object`` of the same, the same
    for ``time.time``, any call given the dotted path
    (``"django.utils.timezone.now"``), and freezegun."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            args = node.args
            first = args[0] if args else None
            second = args[1] if len(args) > 1 else None
            if isinstance(second, ast.Constant) and first is not None:
                owner = _names(first).split(".")[-1]
                if any(
                    owner.endswith(name) and second.value == attribute
                    for name, attribute in PATCHED_BY_HAND
                ):
                    found.append(node.lineno)
            if isinstance(first, ast.Constant) and first.value in DOTTED:
                found.append(node.lineno)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            modules = [alias.name for alias in node.names]
            if isinstance(node, ast.ImportFrom):
                modules.append(node.module or "")
            if any(module.split(".")[0] == "freezegun" for module in modules):
                found.append(node.lineno)
    return sorted(found)


def project_sources() -> list[Path]:
    """The project's Python files, without walking into the virtualenv."""
    found = []
    for folder, subfolders, files in os.walk(PROJECT_DIR):
        subfolders[:] = [name for name in subfolders if name not in SKIPPED_FOLDERS]
        found += [Path(folder) / name for name in files if name.endswith(".py")]
    return sorted(found)


@pytest.mark.parametrize(
    "source",
    [
        # As the tests did (spaced otherwise here, so that a grep for the
        # old pattern finds nothing in this file).
        'monkeypatch.setattr(timezone,  "now", lambda: NOW)',
        'monkeypatch.setattr(\n    django_timezone,\n    "now",\n    lambda: NOW,\n)',
        'setattr(django.utils.timezone, "now", fake)',
        'monkeypatch.setattr(time, "time", lambda: 0.0)',
        'monkeypatch.setattr("time.time", lambda: 0.0)',
        'mock.patch.object(timezone, "now", return_value=NOW)',
        'monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)',
        '@mock.patch("django.utils.timezone.now")\ndef test(): pass',
        "from freezegun import freeze_time",
        "import freezegun",
    ],
)
def test_the_scan_finds_a_patched_clock(source):
    assert patches_of_the_clock(source) != []


def test_the_scan_leaves_time_machine_and_other_patches_alone():
    source = (
        "time_machine.move_to(NOW, tick=False)\n"
        'monkeypatch.setattr(outbox, "BACKOFF_BASE", timedelta(seconds=4))\n'
        'monkeypatch.setattr(timezone, "localdate", lambda: TODAY)\n'
        "now = timezone.now()\n"
    )
    assert patches_of_the_clock(source) == []


def test_no_test_patches_timezone_now_by_hand():
    sources = project_sources()
    # The scan reads the test modules (not an empty folder by mistake).
    names = {path.relative_to(PROJECT_DIR).as_posix() for path in sources}
    this_file = Path(__file__).resolve().relative_to(PROJECT_DIR).as_posix()
    assert {"conftest.py", "scheduling/tests/test_calendar_sync.py", this_file} <= names
    offenders = {
        path.relative_to(PROJECT_DIR).as_posix(): lines
        for path in sources
        if (lines := patches_of_the_clock(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, (
        "Freeze the clock with time-machine (the time_machine fixture's "
        "move_to(moment, tick=False)), not by patching timezone.now: "
        f"{offenders}"
    )
