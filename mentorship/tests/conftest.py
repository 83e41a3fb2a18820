import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def run_django():
    """Runs Python in a fresh process with the project's settings and a clean
    environment, so settings are read exactly as a deployment would read them."""

    def run(code: str, env: dict[str, str], settings_module: str = "mentorship.settings"):
        base = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_URL", "CELERY_", "REDIS_URL", "EMAIL_URL"))
        }
        base["DJANGO_SETTINGS_MODULE"] = settings_module
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=PROJECT_DIR,
            env={**base, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run
