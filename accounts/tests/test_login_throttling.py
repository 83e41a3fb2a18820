"""Failed sign-ins are throttled without locking the owner out (issue 14).

The rule is written down in accounts/adapters.py and README.md: failures count
per address (10 a minute, 100 an hour), per address and account (5 in 5
minutes, 30 a day) and per account (30 an hour, 100 a day, except from the addresses the
account signed in from lately); a paused sign-in is a 429 page saying when to
try again and offering a password reset, whose link signs the owner in.

Each visitor is a Client of their own with their own REMOTE_ADDR. The
``clock`` fixture freezes the clock at NOW and ``attempt`` moves it on a
second after each attempt, so attempts have distinct times as they do in life
(allauth takes a right password's attempt back by its time). The test across
processes runs on the real clock, and says why.
"""

import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from playwright.sync_api import expect

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HOME = "198.51.100.10"  # where the owner usually signs in
CAFE = "198.51.100.77"  # somewhere the owner has never signed in from
PAUSED = "Too many failed sign-in attempts"


@pytest.fixture
def clock(time_machine):
    """The clock, frozen at NOW; ``attempt`` moves it on."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def owner(db):
    return UserFactory(email="owner@example.com", name="Olive Owner")


def stranger_address(number: int) -> str:
    """A distinct address per number: 10.0.<n // 250>.<n % 250 + 1>."""
    return f"10.0.{number // 250}.{number % 250 + 1}"


def attempt(clock, address, email, password, *, client=None, data=None, **headers):
    """One sign-in attempt from ``address`` (by a new visitor unless
    ``client`` is given); the clock then moves on a second."""
    client = client or Client()
    response = client.post(
        LOGIN_URL,
        {"login": email, "password": password, **(data or {})},
        REMOTE_ADDR=address,
        **headers,
    )
    clock.shift(timedelta(seconds=1))
    return response


def signed_in(response) -> bool:
    """The attempt signed its visitor in."""
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def sign_in(clock, address: str, email: str, password: str = PASSWORD) -> Client:
    """The owner signs in from ``address``; returns their signed-in client."""
    client = Client()
    response = attempt(clock, address, email, password, client=client)
    assert response.status_code == 302, response.status_code
    assert "_auth_user_id" in client.session
    return client


def exhaust_the_account_limit(clock, email: str) -> None:
    """Strangers from 30 addresses, one wrong password each: the per-account
    limit (30 an hour) is reached without any per-address limit being."""
    for number in range(30):
        response = attempt(clock, stranger_address(number), email, f"guess {number}")
        assert response.status_code == 200, number
    response = attempt(clock, stranger_address(30), email, "guess 30")
    assert response.status_code == 429
    assert "Someone has tried too many wrong passwords for this account" in response.text


# --- Per address and account: tight, and only for that address ----------------------------


def test_wrong_passwords_pause_that_address_for_that_account_only(clock, owner):
    for number in range(5):
        response = attempt(clock, HOME, owner.email, f"typo {number}")
        assert response.status_code == 200
        assert "The email address and/or password you specified are not correct." in response.text

    # The sixth is refused before the password is checked: the right one too.
    client = Client()
    response = attempt(clock, HOME, owner.email, PASSWORD, client=client)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "password for this account was entered wrongly too many times" in response.text

    # Elsewhere the owner signs in, and from HOME another account still can.
    assert signed_in(attempt(clock, CAFE, owner.email, PASSWORD))
    other = UserFactory(email="housemate@example.com")
    assert signed_in(attempt(clock, HOME, other.email, PASSWORD))

    # Five minutes after the first failure HOME may try the account again.
    clock.move_to(NOW + timedelta(minutes=5), tick=False)
    assert signed_in(attempt(clock, HOME, owner.email, PASSWORD))


def test_the_pause_does_not_tell_which_emails_have_accounts(clock, owner):
    answers = {}
    for email in [owner.email, "nobody@example.com"]:
        for number in range(5):
            attempt(clock, HOME, email, f"guess {number}")
        response = attempt(clock, HOME, email, "another guess")
        answers[email] = (response.status_code, PAUSED in response.text)
    assert answers == {owner.email: (429, True), "nobody@example.com": (429, True)}


def test_the_host_header_does_not_give_fresh_counts(clock, owner):
    # allauth's own key was "<host>:<email>", and the port in Host passes
    # ALLOWED_HOSTS: each port would have counted apart.
    for port in range(8001, 8006):
        response = attempt(clock, HOME, owner.email, "guess", HTTP_HOST=f"localhost:{port}")
        assert response.status_code == 200
    response = attempt(clock, HOME, owner.email, PASSWORD, HTTP_HOST="localhost:8006")
    assert response.status_code == 429


def test_refused_attempts_count_for_nothing(clock, owner):
    for number in range(5):
        attempt(clock, HOME, owner.email, f"typo {number}")
    for _ in range(10):
        assert attempt(clock, HOME, owner.email, "still wrong").status_code == 429
    # The address has 5 failures, not 15: under its 10 a minute, other
    # accounts still get their passwords checked from it.
    other = UserFactory(email="housemate@example.com")
    response = attempt(clock, HOME, other.email, "wrong")
    assert response.status_code == 200
    assert signed_in(attempt(clock, HOME, other.email, PASSWORD))


def test_a_right_password_does_not_count(clock, owner):
    for number in range(4):
        attempt(clock, HOME, owner.email, f"typo {number}")
    for _ in range(3):
        assert signed_in(attempt(clock, HOME, owner.email, PASSWORD))
    # Still four failures: one more wrong password is checked, then the pause.
    assert attempt(clock, HOME, owner.email, "typo 4").status_code == 200
    assert attempt(clock, HOME, owner.email, PASSWORD).status_code == 429


# --- Per address: one address trying many accounts -------------------------------------------


def test_one_address_trying_many_accounts_is_paused(clock, owner):
    for number in range(10):
        response = attempt(clock, HOME, f"person{number}@example.org", "password1")
        assert response.status_code == 200, number
    response = attempt(clock, HOME, owner.email, PASSWORD)
    assert response.status_code == 429
    assert "Too many wrong passwords were entered from your network" in response.text
    # Other addresses are not affected.
    assert signed_in(attempt(clock, CAFE, owner.email, PASSWORD))

    # A minute after its first failure the address is let through again, up
    # to 100 failures in an hour.
    clock.move_to(NOW + timedelta(minutes=1), tick=False)
    for minute in range(1, 10):
        for number in range(10):
            email = f"person{minute}-{number}@example.org"
            assert attempt(clock, HOME, email, "password1").status_code == 200
        clock.move_to(NOW + timedelta(minutes=minute + 1), tick=False)
    response = attempt(clock, HOME, owner.email, PASSWORD)
    assert response.status_code == 429
    # Free an hour after the first of the hundred.
    assert response["Retry-After"] == str(3600 - 10 * 60)


# --- Per account: loose, and never where the owner signs in ----------------------------------


def test_strangers_below_the_account_limit_do_not_stop_the_owner_anywhere(clock, owner):
    # 29 wrong passwords from 10 addresses (the old rule paused the account
    # for everybody after 5): the owner signs in even from a new place.
    for number in range(29):
        response = attempt(clock, stranger_address(number % 10), owner.email, f"guess {number}")
        assert response.status_code == 200, number
        if number % 10 == 9:
            clock.shift(timedelta(minutes=1))  # under each address's 10 a minute
    assert signed_in(attempt(clock, CAFE, owner.email, PASSWORD))


def test_strangers_over_the_account_limit_do_not_stop_the_owner_at_home(clock, owner):
    sign_in(clock, HOME, owner.email).post("/accounts/logout/")

    exhaust_the_account_limit(clock, owner.email)
    # More strangers, more addresses: all refused without a check.
    for number in range(31, 60):
        assert attempt(clock, stranger_address(number), owner.email, PASSWORD).status_code == 429

    assert signed_in(attempt(clock, HOME, owner.email, PASSWORD))
    # At home the owner is still held to the tight per-address limit.
    for number in range(5):
        assert attempt(clock, HOME, owner.email, f"typo {number}").status_code == 200
    assert attempt(clock, HOME, owner.email, PASSWORD).status_code == 429


def test_a_guesser_sharing_the_owners_address_gets_30_guesses_a_day(clock, owner):
    # The per-account limit lets the owner's usual address be; the daily cap
    # per address and account still holds whoever else uses it.
    sign_in(clock, HOME, owner.email)
    for window in range(6):
        clock.move_to(NOW + timedelta(minutes=5 * window), tick=False)
        for number in range(5):
            assert attempt(clock, HOME, owner.email, f"guess {window}-{number}").status_code == 200
    clock.move_to(NOW + timedelta(minutes=30), tick=False)
    response = attempt(clock, HOME, owner.email, PASSWORD)
    assert response.status_code == 429
    # Free a day after the first of the thirty, at NOW.
    assert response["Retry-After"] == str(24 * 3600 - 30 * 60)


def test_over_the_account_limit_a_new_place_is_paused_until_the_hour_is_over(clock, owner):
    exhaust_the_account_limit(clock, owner.email)
    response = attempt(clock, CAFE, owner.email, PASSWORD)
    assert response.status_code == 429
    # The first stranger's failure was at NOW: free an hour later.
    assert response["Retry-After"] == str(3600 - 31)
    clock.move_to(NOW + timedelta(hours=1), tick=False)
    assert signed_in(attempt(clock, CAFE, owner.email, PASSWORD))


def test_a_password_reset_lets_the_owner_in_after_the_account_limit(clock, owner):
    exhaust_the_account_limit(clock, owner.email)
    client = Client(REMOTE_ADDR=CAFE)
    response = attempt(clock, CAFE, owner.email, PASSWORD, client=client)
    assert response.status_code == 429
    assert '<a class="btn btn-primary" href="/accounts/password/reset/">' in response.text

    mail.outbox.clear()
    response = client.post("/accounts/password/reset/", {"email": owner.email})
    assert response.status_code == 302
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    response = client.get(link.group(1), follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"password1": "a brand new passphrase", "password2": "a brand new passphrase"}
    )
    # The link signs the owner in…
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)
    client.post("/accounts/logout/")

    # …and the account's count starts again: the new password works from
    # the café and from yet another new place.
    assert signed_in(attempt(clock, CAFE, owner.email, "a brand new passphrase"))
    assert signed_in(attempt(clock, "192.0.2.99", owner.email, "a brand new passphrase"))


# --- The answer --------------------------------------------------------------------------------


def test_the_paused_answer_is_a_429_page_saying_when_and_offering_a_reset(clock, owner):
    for number in range(5):
        attempt(clock, HOME, owner.email, f"typo {number}")
    response = attempt(clock, HOME, owner.email, PASSWORD)

    assert response.status_code == 429
    assert response["Retry-After"] == str(300 - 5)
    text = re.sub(r"\s+", " ", response.text)
    assert "<title>Sign-in paused · Mentorship</title>" in text
    assert f'<h1 class="h3">{PAUSED}</h1>' in text
    # An anonymous visitor whose browser has not told us its zone: UTC.
    assert "Try again after <strong>12:05 UTC</strong>" in text
    assert "(in about 4 minutes)" in text  # (the space was a no-break one)
    assert "Reset it: we'll email you a link that signs you straight in." in text
    assert 'href="/accounts/password/reset/">Reset your password</a>' in text
    assert 'href="/accounts/login/">Back to sign in</a>' in text


def test_the_paused_page_shows_the_time_in_the_visitors_zone(clock, owner):
    for number in range(5):
        attempt(clock, HOME, owner.email, f"typo {number}")
    client = Client()
    client.cookies["tz"] = "Europe%2FBerlin"
    response = attempt(clock, HOME, owner.email, PASSWORD, client=client)
    assert "Try again after <strong>13:05 CET</strong>" in response.text


def test_a_paused_day_names_the_day(clock, owner):
    # 100 failures in a day, 30 an hour at most: strangers over four hours.
    for number in range(100):
        hour, within = divmod(number, 30)
        clock.move_to(NOW + timedelta(hours=hour, seconds=within), tick=False)
        response = attempt(clock, stranger_address(number), owner.email, f"guess {number}")
        assert response.status_code == 200, number
    clock.move_to(NOW + timedelta(hours=4), tick=False)
    response = attempt(clock, CAFE, owner.email, PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == str(20 * 3600)
    assert "Try again after <strong>Friday 27 November, 12:00 UTC</strong>" in response.text


def test_other_limits_keep_the_short_429_page(settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "1/m/ip"}
    Client().post("/accounts/signup/", {"email": "a@example.com"}, REMOTE_ADDR=CAFE)
    response = Client().post("/accounts/signup/", {"email": "b@example.com"}, REMOTE_ADDR=CAFE)
    assert response.status_code == 429
    assert "Too many attempts" in response.text
    assert "Please wait a minute and try again." in response.text


# --- The admin --------------------------------------------------------------------------------


def test_the_admin_sign_in_is_the_same_throttled_form(clock):
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    for number in range(5):
        attempt(clock, HOME, staff.email, f"typo {number}", data={"next": "/admin/"})
    response = attempt(clock, HOME, staff.email, PASSWORD, data={"next": "/admin/"})
    assert response.status_code == 429
    # Back to the form, still on the way to the admin.
    assert 'href="/accounts/login/?next=%2Fadmin%2F">Back to sign in</a>' in response.text
    # The admin's own form cannot be posted to instead.
    response = Client().post(
        "/admin/login/", {"username": staff.email, "password": PASSWORD}, REMOTE_ADDR=HOME
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")

    client = Client()
    response = attempt(clock, CAFE, staff.email, PASSWORD, client=client, data={"next": "/admin/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/", REMOTE_ADDR=CAFE).status_code == 200


# --- Which address counts ----------------------------------------------------------------------


def test_a_forged_x_forwarded_for_does_not_dodge_the_address_limit(clock, owner):
    # Not behind a proxy (the default): the header is the client's own words.
    for number in range(10):
        response = attempt(
            clock,
            HOME,
            f"person{number}@example.org",
            "password1",
            HTTP_X_FORWARDED_FOR=stranger_address(number),
        )
        assert response.status_code == 200
    response = attempt(
        clock, HOME, owner.email, PASSWORD, HTTP_X_FORWARDED_FOR=stranger_address(99)
    )
    assert response.status_code == 429


def test_behind_our_proxy_the_address_is_the_hop_it_appended(clock, settings, owner):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = "10.9.9.9"
    # The client forges a first entry each time; the proxy appends the real one.
    for number in range(10):
        response = attempt(
            clock,
            proxy,
            f"person{number}@example.org",
            "password1",
            HTTP_X_FORWARDED_FOR=f"{stranger_address(number)}, {HOME}",
        )
        assert response.status_code == 200
    response = attempt(
        clock, proxy, owner.email, PASSWORD, HTTP_X_FORWARDED_FOR=f"{stranger_address(99)}, {HOME}"
    )
    assert response.status_code == 429
    # Another client through the same proxy is another address.
    assert signed_in(attempt(clock, proxy, owner.email, PASSWORD, HTTP_X_FORWARDED_FOR=CAFE))


@pytest.mark.parametrize(
    ("env", "count"),
    [
        ({}, 0),
        ({"DJANGO_BEHIND_PROXY": "1"}, 1),
        ({"DJANGO_BEHIND_PROXY": "1", "DJANGO_TRUSTED_PROXY_COUNT": "2"}, 2),
    ],
)
def test_x_forwarded_for_is_trusted_only_behind_our_proxy(run_django, env, count):
    code = "from django.conf import settings; print(settings.ALLAUTH_TRUSTED_PROXY_COUNT)"
    result = run_django(code, {"DJANGO_DEBUG": "1", **env})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(count)


# --- Across processes --------------------------------------------------------------------------

FAIL_FROM_ANOTHER_PROCESS = """
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
for number in range(5):
    response = Client().post(
        "/accounts/login/", {{"login": {email!r}, "password": f"guess {{number}}"}},
        REMOTE_ADDR={address!r},
    )
    assert response.status_code == 200, response.status_code
print("five failures")
"""


def database_url() -> str:
    """The test database, as DATABASE_URL, for a process of its own."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    return (
        f"postgres://{database['USER']}{password}@{database['HOST']}:{database['PORT']}"
        f"/{database['NAME']}"
    )


def test_failures_counted_in_another_process_count_here(settings, redis_url, run_django):
    # The real clock (no ``clock`` fixture): the other process's is not
    # frozen, and both must agree on when its failures happened.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    # The Redis database may be shared with other runs: names of this test's own.
    email = f"owner-{uuid.uuid4().hex}@example.com"
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    owner = UserFactory(email=email)

    result = run_django(
        FAIL_FROM_ANOTHER_PROCESS.format(email=email, address=address),
        {"DJANGO_DEBUG": "1", "REDIS_URL": redis_url, "DATABASE_URL": database_url()},
        settings_module="mentorship.settings_test",
    )
    assert result.returncode == 0, result.stderr
    assert "five failures" in result.stdout

    response = Client().post(
        LOGIN_URL, {"login": owner.email, "password": PASSWORD}, REMOTE_ADDR=address
    )
    assert response.status_code == 429
    response = Client().post(
        LOGIN_URL, {"login": owner.email, "password": PASSWORD}, REMOTE_ADDR=CAFE
    )
    assert signed_in(response)


# --- In the browser ------------------------------------------------------------------------------


@pytest.mark.browser
def test_a_paused_sign_in_in_the_browser(page, screenshot, browser_problems, time_machine):
    time_machine.move_to(NOW, tick=False)
    owner = UserFactory(email="owner@example.com", name="Olive Owner")

    page.goto("/accounts/login/")
    for number in range(5):
        page.locator("#id_login").fill(owner.email)
        page.locator("#id_password").fill(f"typo {number}")
        with page.expect_navigation():
            page.get_by_role("button", name="Sign In").click()
        expect(page.locator("form .alert-danger")).to_contain_text(
            "The email address and/or password you specified are not correct."
        )
    page.locator("#id_login").fill(owner.email)
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_response(lambda response: response.url.endswith(LOGIN_URL)) as answer:
        page.get_by_role("button", name="Sign In").click()
    assert answer.value.status == 429
    assert answer.value.headers["retry-after"] == "300"

    expect(page).to_have_title("Sign-in paused · Mentorship")
    expect(page.get_by_role("heading", level=1)).to_have_text(PAUSED)
    # The browser is in Berlin (the page fixture): 12:05 UTC is 13:05 CET.
    expect(page.locator("#retry-at")).to_contain_text("Try again after 13:05 CET")
    expect(page.locator("#retry-at")).to_contain_text("(in about 5 minutes).")
    expect(page.get_by_role("navigation", name="Main").locator("#account-menu")).to_have_count(0)
    screenshot("login-paused-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("login-paused-390")

    expect(page.get_by_role("link", name="Back to sign in")).to_have_attribute("href", LOGIN_URL)
    page.get_by_role("link", name="Reset your password").click()
    expect(page).to_have_url(re.compile(r"/accounts/password/reset/$"))
    expect(page.locator("#id_email")).to_be_visible()
    # Chromium reports the page's own status as a console error; nothing else
    # (no script error, no policy violation, no failed file) may show up.
    own_status = (
        "console error: Failed to load resource: the server responded with a status of "
        f"429 (Too Many Requests) ({page.url.split('/accounts/')[0]}{LOGIN_URL})"
    )
    assert browser_problems == [own_status]
