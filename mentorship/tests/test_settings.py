"""Settings as deployments read them: each case runs in a fresh process."""

import json
import os
import secrets

import pytest

from conftest import port_open, service_missing
from mentorship.tests.factories import PRODUCTION_ENVIRONMENT

PRINT_SETTINGS = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "options": db.get("OPTIONS", {}),
    "eager": settings.CELERY_TASK_ALWAYS_EAGER, "cache": settings.CACHES["default"]["BACKEND"],
    "email": settings.EMAIL_BACKEND, "session_age": settings.SESSION_COOKIE_AGE,
    "session_cookie": settings.SESSION_COOKIE_NAME, "csrf_cookie": settings.CSRF_COOKIE_NAME,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT, "hsts": settings.SECURE_HSTS_SECONDS,
    "secure_cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
    "csp": settings.CONTENT_SECURITY_POLICY,
}))
"""


def settings_of(run_django, env):
    result = run_django(PRINT_SETTINGS, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_refuses_to_start_without_secret_key(run_django):
    result = run_django("import django; django.setup()", {"DJANGO_DEBUG": "0"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_debug_off_is_the_default(run_django):
    result = run_django("import django; django.setup()", {})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_local_defaults_just_work(run_django):
    values = settings_of(run_django, {"DJANGO_DEBUG": "1"})
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"].endswith("var/db.sqlite3")
    assert values["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in values["options"]["init_command"]
    assert values["eager"] is True
    assert values["cache"].endswith("LocMemCache")
    # The console, readable (core/mail.py); EMAIL_URL=consolemail:// is Django's own.
    assert values["email"] == "core.mail.ReadableConsoleBackend"
    explicit = settings_of(run_django, {"DJANGO_DEBUG": "1", "EMAIL_URL": "consolemail://"})
    assert explicit["email"] == "django.core.mail.backends.console.EmailBackend"


def test_services_from_environment(run_django):
    values = settings_of(
        run_django,
        {
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/mentorship",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
            "REDIS_URL": "redis://127.0.0.1:6379/1",
            "EMAIL_URL": "smtp://mailer:secret@mail.example.com:587",
        },
    )
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["eager"] is False
    assert values["cache"].endswith("RedisCache")
    assert values["email"] == "django.core.mail.backends.smtp.EmailBackend"


def test_production_values(run_django):
    values = settings_of(run_django, PRODUCTION_ENVIRONMENT)
    assert values["session_age"] == 12 * 3600
    assert values["session_cookie"] == "__Host-sessionid"
    assert values["csrf_cookie"] == "__Host-csrftoken"
    assert values["secure_cookies"] == [True, True]
    assert values["ssl_redirect"] is True
    assert values["hsts"] >= 31_536_000
    assert "script-src 'self'" in values["csp"]
    assert "unsafe-inline" not in values["csp"]


def test_check_deploy_reports_nothing(run_django):
    code = (
        "import sys\nfrom django.core.management import execute_from_command_line\n"
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'DEBUG'])"
    )
    # Production also needs keys for the calendar secrets (scheduling/crypto.py).
    keys = "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTA="
    result = run_django(code, {**PRODUCTION_ENVIRONMENT, "FIELD_ENCRYPTION_KEYS": keys})
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_sqlite_file_database_uses_wal_and_immediate_transactions(run_django, tmp_path):
    code = """
import django, json
django.setup()
from django.db import connection, transaction
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    mode = cursor.fetchone()[0]
with transaction.atomic():
    # BEGIN IMMEDIATE holds the RESERVED lock at once: a second connection's
    # write attempt must fail fast instead of the first failing at commit.
    import sqlite3
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        locked = False
    except sqlite3.OperationalError:
        locked = True
print(json.dumps({"mode": mode, "locked": locked}))
"""
    result = run_django(
        code, {"DJANGO_DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"mode": "wal", "locked": True}


@pytest.mark.postgres
def test_postgres_migrations_enable_btree_gist(run_django):
    if not port_open("127.0.0.1", 5432):
        service_missing("PostgreSQL is not listening on 127.0.0.1:5432")
    import psycopg

    name = f"mentorship_migrate_check_{secrets.token_hex(4)}"
    admin_url = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        code = """
import django, json
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT extname FROM pg_extension")
    extensions = sorted(row[0] for row in cursor.fetchall())
print(json.dumps({"vendor": connection.vendor, "extensions": extensions}))
"""
        url = f"postgres://postgres@127.0.0.1:5432/{name}"
        result = run_django(code, {"DJANGO_DEBUG": "1", "DATABASE_URL": url})
        assert result.returncode == 0, result.stderr
        outcome = json.loads(result.stdout.strip().splitlines()[-1])
        assert outcome["vendor"] == "postgresql"
        assert "btree_gist" in outcome["extensions"]
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db
def test_suite_runs_on_the_database_of_database_url():
    from django.db import connection

    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres", "pgsql")) else "sqlite"
    assert connection.vendor == expected
    if expected == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'btree_gist'")
            assert cursor.fetchone() == (1,)
