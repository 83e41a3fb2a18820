"""Google login is offered only when GOOGLE_CLIENT_ID/SECRET are set.

Settings are read at start-up, so each case runs in a fresh process with its
own SQLite file. Google's servers cannot be reached here: the test stops at the
redirect to Google's authorization endpoint, checking what we send there.
"""

import json

GOOGLE_FLOW = """
import django, json
from urllib.parse import urlsplit, parse_qs
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client()
login_page = client.get("/accounts/login/").content.decode()
result = {"offered": "Continue with Google" in login_page}
if result["offered"]:
    response = client.post("/accounts/google/login/")
    location = response["Location"]
    parts = urlsplit(location)
    query = parse_qs(parts.query)
    result.update(
        host=parts.netloc,
        client_id=query["client_id"][0],
        pkce=query.get("code_challenge_method", [""])[0],
        has_state=bool(query.get("state")),
        scope=query["scope"][0],
    )
print(json.dumps(result))
"""


def run_flow(run_django, tmp_path, extra_env):
    env = {"DJANGO_DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = run_django(GOOGLE_FLOW, {**env, **extra_env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_google_login_redirects_with_state_and_pkce_when_configured(run_django, tmp_path):
    outcome = run_flow(
        run_django,
        tmp_path,
        {"GOOGLE_CLIENT_ID": "client-123.apps.example", "GOOGLE_CLIENT_SECRET": "shh"},
    )
    assert outcome["offered"] is True
    assert outcome["host"] == "accounts.google.com"
    assert outcome["client_id"] == "client-123.apps.example"
    assert outcome["pkce"] == "S256"
    assert outcome["has_state"] is True
    assert set(outcome["scope"].split()) == {"openid", "profile", "email"}


def test_google_login_hidden_when_not_configured(run_django, tmp_path):
    assert run_flow(run_django, tmp_path, {}) == {"offered": False}
