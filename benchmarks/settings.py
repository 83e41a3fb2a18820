"""Benchmark settings: production-like (DEBUG off) on a local, throwaway database.

Used by ``python -m benchmarks`` for both the in-process client and the gunicorn
workers it starts. Adds the bare template view (``benchmarks.urls``), which is
not part of the product URLs.
"""

import os
import secrets

# Decided before the product settings read the environment. A generated key is
# exported so the gunicorn workers (children of the harness) share it and accept
# the session cookies the harness creates for signed-in endpoints.
os.environ["DJANGO_DEBUG"] = "0"
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + secrets.token_urlsafe(48))
# A booking writes notification rows and enqueues their delivery on commit. In
# production a broker takes the tasks and workers send the mail; with no broker
# the product would deliver in the request (eager), which is not what a booking
# costs there. Celery's in-memory broker keeps the enqueue; nothing consumes it.
os.environ.setdefault("CELERY_BROKER_URL", "memory://localhost/")

from benchmarks import TEMPLATES_DIR
from mentorship.settings import *  # noqa: F403
from mentorship.settings import DATABASES, TEMPLATES, VAR_DIR

DEBUG = False
ROOT_URLCONF = "benchmarks.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

# Plain HTTP on loopback: no HTTPS redirect, no Secure/__Host- cookies.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_NAME = "csrftoken"

# Its own SQLite file, never the development database, unless DATABASE_URL says otherwise.
if "DATABASE_URL" not in os.environ:
    DATABASES["default"]["NAME"] = str(VAR_DIR / "bench.sqlite3")

TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], TEMPLATES_DIR]

# Never send mail from a benchmark (the accounts are fictional).
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"

# No collectstatic needed: plain storage, files served from the finders.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# An (empty) root of its own, so WhiteNoise has no missing directory to warn about.
STATIC_ROOT = VAR_DIR / "bench-static"
STATIC_ROOT.mkdir(exist_ok=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
