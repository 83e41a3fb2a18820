"""Test settings: the real settings, with the few overrides tests need.

Everything else (DATABASE_URL, CELERY_BROKER_URL, REDIS_URL) still comes from
the environment, so `.ci/run` runs this same suite on PostgreSQL and Redis.
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "1")

from urllib.parse import urlsplit, urlunsplit

from mentorship.settings import *  # noqa: F403
from mentorship.settings import CACHES, CELERY_BROKER_URL, REDIS_URL, VAR_DIR

# Tests flush their Redis databases (the cache between tests, brokers in the
# worker tests), so each pytest-xdist worker gets its own block of databases:
# worker gwN adds 8 x N to every database number. A Redis server has 16.
REDIS_DATABASES_PER_WORKER = 8
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def worker_redis_url(url: str) -> str:
    """``url`` with its database number moved into this test worker's block."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("redis"):
        return url
    number = int(parts.path.strip("/") or 0)
    if number // REDIS_DATABASES_PER_WORKER == _WORKER:
        return url  # already in this worker's block (a child process of a test)
    if number >= REDIS_DATABASES_PER_WORKER or _WORKER > 1:
        raise ValueError(
            f"{url}: tests use Redis databases 0-{REDIS_DATABASES_PER_WORKER - 1}, "
            "with at most two xdist workers (-n 2)"
        )
    shifted = number + REDIS_DATABASES_PER_WORKER * _WORKER
    return urlunsplit(parts._replace(path=f"/{shifted}"))


if REDIS_URL:
    REDIS_URL = worker_redis_url(REDIS_URL)
    CACHES["default"]["LOCATION"] = REDIS_URL
if CELERY_BROKER_URL:
    CELERY_BROKER_URL = worker_redis_url(CELERY_BROKER_URL)

# Hashing strength is not under test; speed is.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run in the test's process and their errors fail the test; tests that
# need a real worker start one against the configured broker.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
MEDIA_ROOT = VAR_DIR / "test-media"
# A file, not the default shared in-memory database: concurrent connections
# (the booking race tests, the live server) then queue on BEGIN IMMEDIATE as
# in production instead of failing at once with "table is locked".
# Each test process has its own file (its process id in the name; pytest-django
# deletes it at the end), so two runs in one checkout never share (and break)
# one database; TEST_SQLITE_NAME names the file instead.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.environ.get("TEST_SQLITE_NAME")
        or str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests run with DEBUG off (pytest-django), where encrypted fields need a key:
# a fixed one, for tests only (scheduling/tests/test_crypto.py swaps keys).
FIELD_ENCRYPTION_KEYS = ["dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTA="]
