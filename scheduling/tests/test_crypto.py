"""Calendar secrets at rest (``scheduling/crypto.py``) and key rotation
(``manage.py rotate_encryption_keys``).

The token columns are read back with raw SQL: what a database dump, a replica
or a stolen backup would hold.
"""

import secrets
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.views.debug import SafeExceptionReporterFilter

from mentorship.tests.factories import PRODUCTION_ENVIRONMENT
from scheduling import crypto
from scheduling.models import CalendarConnection

from .fake_calendar import SECRET_FIELDS, CalendarConnectionFactory, stored_secrets

pytestmark = pytest.mark.django_db

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


stored = stored_secrets


def secrets_of(connection) -> dict[str, str]:
    return {name: getattr(connection, name) for name in SECRET_FIELDS}


def google_connection(**fields) -> CalendarConnection:
    values = {
        "provider": CalendarConnection.Provider.GOOGLE,
        "caldav_url": "",
        "caldav_username": "",
        "caldav_password": "",
        "access_token": f"ya29.{secrets.token_urlsafe(30)}",
        "refresh_token": f"1//{secrets.token_urlsafe(30)}",
    }
    return CalendarConnectionFactory(**{**values, **fields})


def reloaded(connection) -> CalendarConnection:
    return CalendarConnection.objects.get(pk=connection.pk)


def test_values_round_trip():
    connection = CalendarConnectionFactory(
        caldav_password="pässwörd with ünïcode ✓",
        access_token="ya29.access",
        refresh_token="1//refresh",
    )
    assert secrets_of(reloaded(connection)) == {
        "caldav_password": "pässwörd with ünïcode ✓",
        "access_token": "ya29.access",
        "refresh_token": "1//refresh",
    }


def test_the_columns_hold_no_plaintext_and_equal_values_differ():
    token = "ya29.the-same-token-twice"
    first = google_connection(access_token=token, refresh_token=token)
    second = google_connection(access_token=token, refresh_token="1//another")
    first_stored, second_stored = stored(first), stored(second)
    for column in (first_stored["access_token"], first_stored["refresh_token"]):
        assert column
        assert token not in column
        assert "the-same-token" not in column
        assert column.startswith("gAAAAA")  # a Fernet token, version byte 0x80
    # A random IV per value: equal secrets are not recognizable as equal.
    assert first_stored["access_token"] != first_stored["refresh_token"]
    assert first_stored["access_token"] != second_stored["access_token"]
    assert "1//another" not in second_stored["refresh_token"]
    assert reloaded(first).access_token == reloaded(second).access_token == token


def test_an_empty_value_stays_empty():
    connection = google_connection(caldav_password="", refresh_token="")
    assert stored(connection)["caldav_password"] == ""
    assert stored(connection)["refresh_token"] == ""
    assert reloaded(connection).refresh_token == ""


def test_a_wrong_key_is_a_clear_error_that_never_shows_the_value(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    connection = google_connection(access_token="ya29.secret-value")
    ciphertext = stored(connection)["access_token"]
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]  # A removed without rotating
    with pytest.raises(ImproperlyConfigured) as raised:
        reloaded(connection)
    message = str(raised.value)
    assert "could not be decrypted with FIELD_ENCRYPTION_KEYS" in message
    assert "rotate_encryption_keys" in message
    assert "secret-value" not in message
    assert ciphertext not in message
    assert ciphertext not in repr(raised.value.__cause__)


def test_a_malformed_key_is_a_clear_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        crypto.encrypt("anything")


def test_the_first_key_writes_and_any_key_reads(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    connection = google_connection(access_token="ya29.written-with-a")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    assert reloaded(connection).access_token == "ya29.written-with-a"
    connection.refresh_token = "1//written-with-b"
    connection.save(update_fields=["refresh_token"])
    written = stored(connection)["refresh_token"]
    assert Fernet(KEY_B.encode()).decrypt(written.encode()) == b"1//written-with-b"


def test_the_cached_fernet_follows_changed_settings(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    with_a = crypto.encrypt("value")
    assert Fernet(KEY_A.encode()).decrypt(with_a.encode()) == b"value"
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    with_b = crypto.encrypt("value")
    assert Fernet(KEY_B.encode()).decrypt(with_b.encode()) == b"value"
    with pytest.raises(ImproperlyConfigured):
        crypto.decrypt(with_a)
    settings.FIELD_ENCRYPTION_KEYS = [" ", KEY_A]  # blanks (a trailing comma) are ignored
    assert crypto.decrypt(with_a) == "value"


def test_debug_without_keys_uses_a_key_derived_from_the_secret_key(settings):
    settings.DEBUG = True
    settings.FIELD_ENCRYPTION_KEYS = []
    token = crypto.encrypt("value")
    assert crypto.decrypt(token) == "value"
    settings.SECRET_KEY = "another secret key for this test only"
    with pytest.raises(ImproperlyConfigured):
        crypto.decrypt(token)


def test_production_without_keys_refuses(settings):
    settings.DEBUG = False
    settings.FIELD_ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS must be set"):
        crypto.encrypt("value")
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS must be set"):
        CalendarConnectionFactory(caldav_password="app-password")
    with pytest.raises(CommandError, match="FIELD_ENCRYPTION_KEYS must be set"):
        call_command("rotate_encryption_keys", stdout=StringIO(), stderr=StringIO())


# --- Key rotation --------------------------------------------------------------------------


def rotate() -> str:
    out = StringIO()
    call_command("rotate_encryption_keys", "--batch-size", "2", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_rotation_keeps_every_connection_working(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    connections = [
        CalendarConnectionFactory(caldav_password="caldav-one"),
        CalendarConnectionFactory(caldav_password="caldav-two"),
        google_connection(),
        google_connection(refresh_token=""),
        # Nothing to re-encrypt: skipped, and not counted.
        CalendarConnectionFactory(caldav_password=""),
    ]
    before = {connection.pk: secrets_of(reloaded(connection)) for connection in connections}
    stored_before = {connection.pk: stored(connection) for connection in connections}

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    assert crypto.values_not_on_first_key() == {"scheduling.CalendarConnection": 5}
    output = rotate()
    assert "scheduling.CalendarConnection: 4 rows re-encrypted." in output
    assert "older keys can be removed" in output
    assert crypto.values_not_on_first_key() == {"scheduling.CalendarConnection": 0}

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]  # A removed
    for connection in connections:
        assert secrets_of(reloaded(connection)) == before[connection.pk]
        for name, value in stored(connection).items():
            if value:
                assert value != stored_before[connection.pk][name]
                assert before[connection.pk][name] not in value
            else:
                assert before[connection.pk][name] == ""
    assert "caldav-one" not in output


def test_without_rotation_removing_the_old_key_breaks_reading(settings):
    """The control for the test above: rotation is what makes it work."""
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    connection = CalendarConnectionFactory()
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    with pytest.raises(ImproperlyConfigured):
        reloaded(connection)


def test_rotating_twice_is_harmless(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    connection = CalendarConnectionFactory(caldav_password="caldav-secret")
    rotate()
    rotate()
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    assert reloaded(connection).caldav_password == "caldav-secret"


def test_rotation_stops_on_a_value_no_key_reads(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    connection = CalendarConnectionFactory(caldav_password="caldav-secret")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]  # A is gone already
    with pytest.raises(CommandError, match="could not be decrypted"):
        rotate()
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    assert reloaded(connection).caldav_password == "caldav-secret"  # untouched


def test_rotation_refuses_a_batch_size_below_one():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("rotate_encryption_keys", "--batch-size", "0", stdout=StringIO())


# --- Never shown -----------------------------------------------------------------------------


def test_repr_and_str_never_contain_secrets():
    connection = google_connection(access_token="ya29.repr-secret", refresh_token="1//repr-secret")
    connection.caldav_password = "caldav-repr-secret"
    for text in (repr(connection), str(connection), repr(reloaded(connection))):
        assert "repr-secret" not in text
        assert "ya29" not in text


def test_error_reports_hide_the_keys(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    shown = SafeExceptionReporterFilter().get_safe_settings()["FIELD_ENCRYPTION_KEYS"]
    assert KEY_A not in str(shown)


# --- Deployment (fresh processes, settings read as production reads them) ---------------------

PRODUCTION = {
    name: value for name, value in PRODUCTION_ENVIRONMENT.items() if name != "FIELD_ENCRYPTION_KEYS"
}
CHECK_DEPLOY = (
    "from django.core.management import execute_from_command_line\n"
    "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'DEBUG'])"
)


def test_check_deploy_reports_missing_keys(run_django):
    result = run_django(CHECK_DEPLOY, PRODUCTION)
    assert result.returncode != 0
    assert "mentorship.E001" in result.stderr + result.stdout


def test_check_deploy_accepts_keys(run_django):
    result = run_django(CHECK_DEPLOY, {**PRODUCTION, "FIELD_ENCRYPTION_KEYS": f"{KEY_B},{KEY_A}"})
    assert result.returncode == 0, result.stderr + result.stdout
    assert "mentorship.E001" not in result.stderr + result.stdout


def test_production_command_without_keys_refuses(run_django):
    code = (
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(['manage.py', 'rotate_encryption_keys'])"
    )
    result = run_django(code, PRODUCTION)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set" in result.stderr
