"""The Celery app: configuration, eager mode without a broker, a real worker with Redis."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery, shared_task

from mentorship.celery import app

PROJECT_DIR = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


@shared_task
def add(a: int, b: int) -> int:
    return a + b


def test_configuration_is_json_only_with_time_limits():
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_soft_time_limit == 60
    assert app.conf.task_time_limit == 90
    assert app.conf.timezone == "UTC"


def test_tasks_run_in_process_without_a_broker(run_django):
    code = "import django; django.setup(); from mentorship.celery import app; "
    code += "print(app.conf.task_always_eager)"
    result = run_django(code, {"DJANGO_DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
    # In this test process (eager, as in the test settings) a task runs inline.
    # An eager result is already there: reading it cannot block, whatever an
    # in-process worker started by an earlier test left in Celery's
    # process-wide "a join would block" flag.
    result = add.delay(2, 3)
    assert result.ready()
    assert result.get(timeout=1, disable_sync_subtasks=False) == 5


@pytest.mark.redis
def test_worker_and_beat_start_against_redis(redis_url, monkeypatch):
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "mentorship.settings",
        "CELERY_BROKER_URL": redis_url,
    }
    env.pop("DATABASE_URL", None)
    worker = subprocess.Popen(
        [CELERY, "-A", "mentorship", "worker", "--pool=solo", "--loglevel=INFO", "-n", "ci@%h"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    beat = subprocess.Popen(
        [CELERY, "-A", "mentorship", "beat", "--loglevel=INFO", "--schedule", os.devnull],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # A separate client app: this test process runs tasks eagerly. Celery
        # lets a CELERY_BROKER_URL variable override the broker it is given.
        monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
        probe = Celery("probe", broker=redis_url)
        replies = []
        deadline = time.monotonic() + 30
        while not replies and time.monotonic() < deadline:
            replies = probe.control.ping(timeout=1)
    finally:
        for process in (worker, beat):
            process.terminate()
        for process in (worker, beat):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    worker_log, beat_log = worker.stdout.read(), beat.stdout.read()
    assert replies, f"the worker never answered a ping:\n{worker_log}"
    assert "beat: Starting" in beat_log, beat_log
