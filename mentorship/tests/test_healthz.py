"""/healthz: JSON state of the database, broker and cache."""

import json

import pytest

from conftest import port_open, service_missing


@pytest.mark.django_db
def test_healthy(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "not configured",
        "cache": "ok",
    }


@pytest.mark.django_db
def test_broker_reachable(client, settings, redis_url):
    settings.CELERY_BROKER_URL = redis_url
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"] == "ok"


@pytest.mark.django_db
def test_broker_down_is_degraded_but_serving(client, settings):
    # Nothing listens on port 1: the outbox keeps work safe, so the web stays up.
    assert not port_open("127.0.0.1", 1)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["broker"] == "error"


HEALTHZ_IN_FRESH_PROCESS = """
import django, json
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
response = Client().get("/healthz")
print(json.dumps({"status_code": response.status_code, "body": response.json()}))
"""


def test_database_down_answers_503_sqlite(run_django, tmp_path):
    # The database file's directory does not exist: SQLite cannot open it.
    missing = tmp_path / "no-such-dir" / "db.sqlite3"
    result = run_django(
        HEALTHZ_IN_FRESH_PROCESS,
        {"DJANGO_DEBUG": "1", "DATABASE_URL": f"sqlite:///{missing}"},
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status_code"] == 503
    assert outcome["body"]["status"] == "error"
    assert outcome["body"]["database"] == "error"


def test_database_down_answers_503_postgres(run_django):
    if not port_open("127.0.0.1", 5432):
        service_missing("PostgreSQL is not listening on 127.0.0.1:5432")
    # A server that is up but a database that does not exist is as unreachable
    # to us as a server that is down; port 1 checks the latter.
    for url in (
        "postgres://postgres@127.0.0.1:5432/mentorship_does_not_exist",
        "postgres://postgres@127.0.0.1:1/mentorship",
    ):
        result = run_django(HEALTHZ_IN_FRESH_PROCESS, {"DJANGO_DEBUG": "1", "DATABASE_URL": url})
        assert result.returncode == 0, result.stderr
        outcome = json.loads(result.stdout.strip().splitlines()[-1])
        assert outcome["status_code"] == 503, outcome
        assert outcome["body"]["database"] == "error"
