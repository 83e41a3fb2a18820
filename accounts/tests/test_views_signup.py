"""Sign-up, email verification, login, password reset and rate limits (allauth)."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from accounts.models import User

from .factories import PASSWORD, UserFactory

SIGNUP_URL = "/accounts/signup/"
LOGIN_URL = "/accounts/login/"


def signup(client, **overrides):
    data = {
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "timezone": "America/New_York",
        **overrides,
    }
    return client.post(SIGNUP_URL, data)


def confirmation_link(message) -> str:
    match = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s/]+/", message.body)
    assert match, message.body
    return match.group(0).split("://", 1)[1].split("/", 1)[1].join(["/", ""])


@pytest.mark.django_db
def test_signup_sends_verification_then_confirm_logs_in(client):
    response = signup(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="grace@example.com")
    assert user.name == "Grace Hopper"
    assert user.timezone == "America/New_York"
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["grace@example.com"]

    # Unverified: a login attempt is sent to the "verify your email" page.
    client.logout()
    response = client.post(LOGIN_URL, {"login": "grace@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session

    link = confirmation_link(mail.outbox[-1])
    assert client.get(link).status_code == 200
    response = client.post(link)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified

    client.logout()
    response = client.post(LOGIN_URL, {"login": "GRACE@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_signup_with_unknown_browser_timezone_falls_back_to_utc(client):
    signup(client, timezone="Mars/Olympus_Mons")
    assert User.objects.get(email="grace@example.com").timezone == "UTC"


@pytest.mark.django_db
def test_signup_requires_a_name(client):
    response = signup(client, name="   ")
    assert response.status_code == 200
    assert "This field is required." in response.text
    assert not User.objects.exists()


@pytest.mark.django_db
def test_signup_email_is_unique_case_insensitively(client):
    UserFactory(email="grace@example.com")
    mail.outbox.clear()
    signup(client, email="Grace@Example.com")
    assert User.objects.filter(email__iexact="grace@example.com").count() == 1


@pytest.mark.django_db
def test_wrong_password_gives_an_error(client, user):
    response = client.post(LOGIN_URL, {"login": user.email, "password": "not the password"})
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in response.text
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_rate_limit_answers_429(client, user, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    for _ in range(3):
        response = client.post(LOGIN_URL, {"login": user.email, "password": "wrong"})
        assert response.status_code == 200
    response = client.post(LOGIN_URL, {"login": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.text
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_repeated_failed_logins_pause_that_address_for_that_account(client, user):
    # Default limits: 5 failures per 5 minutes per address and account; the
    # rest of the rule is in test_login_throttling.py.
    for _ in range(5):
        client.post(LOGIN_URL, {"login": user.email, "password": "wrong"})
    response = client.post(LOGIN_URL, {"login": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.text
    assert "_auth_user_id" not in client.session

    response = client.post(
        LOGIN_URL, {"login": user.email, "password": PASSWORD}, REMOTE_ADDR="192.0.2.20"
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_password_reset_sends_a_working_link(client, user):
    response = client.post("/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/[^\s]+)", mail.outbox[0].body)
    assert match, mail.outbox[0].body
    response = client.get(match.group(1), follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else match.group(1)
    response = client.post(
        form_url, {"password1": "a brand new passphrase", "password2": "a brand new passphrase"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a brand new passphrase")


@pytest.mark.django_db
def test_change_password_requires_the_current_password(client, user):
    # Changing the password re-authenticates by asking for the current one.
    client.post(LOGIN_URL, {"login": user.email, "password": PASSWORD})
    response = client.post(
        "/accounts/password/change/",
        {
            "oldpassword": "a guess",
            "password1": "another long phrase",
            "password2": "another long phrase",
        },
    )
    assert response.status_code == 200
    assert "Please type your current password." in response.text
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_change_email_requires_reauthentication_after_timeout(client, user, settings):
    client.post(LOGIN_URL, {"login": user.email, "password": PASSWORD})
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0
    response = client.post("/accounts/email/", {"action_add": "", "email": "new@example.com"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert not EmailAddress.objects.filter(email="new@example.com").exists()


@pytest.mark.django_db
def test_change_password_right_after_login(client, user):
    client.post(LOGIN_URL, {"login": user.email, "password": PASSWORD})
    response = client.post(
        "/accounts/password/change/",
        {
            "oldpassword": PASSWORD,
            "password1": "another long phrase",
            "password2": "another long phrase",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another long phrase")


@pytest.mark.django_db
def test_logout_is_a_post(client, user):
    client.force_login(user)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_admin_login_goes_through_allauth(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    # The admin's own form cannot be posted to, so allauth's limits always apply.
    response = client.post("/admin/login/", {"username": "x@example.com", "password": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_admin_refuses_non_staff_and_admits_staff(client, user):
    client.force_login(user)
    assert client.get("/admin/login/").status_code == 403
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
