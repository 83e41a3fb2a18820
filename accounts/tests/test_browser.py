"""End-to-end tests: sign-up, sign-in and account settings driven through Chromium.

The ``page`` fixture (conftest.py) opens a browser context on the live server
with the time zone Europe/Berlin. The live server runs in a thread of this
process, so the test reads the same locmem email outbox and the same database.
"""

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import confirmation_link, log_in, submit_login, submit_signup

PASSWORD = "correct-Horse-battery-42"


def navbar(page):
    return page.get_by_role("navigation", name="Main")


def footer(page):
    return page.locator("footer.site-footer")


@pytest.mark.browser
def test_sign_up_confirm_email_log_out_and_log_in_again(page, screenshot, mailoutbox):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Learn from people")
    screenshot("home")

    navbar(page).get_by_role("link", name="Sign up", exact=True).click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    # static/js/timezone.js fills the hidden field with the browser's zone.
    expect(page.locator("input[name=timezone]")).to_have_value("Europe/Berlin")
    screenshot("signup")

    submit_signup(page, name="  Ada   Lovelace ", email="ada@example.com", password=PASSWORD)

    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    screenshot("verify-email")
    user = User.objects.get(email="ada@example.com")
    assert user.name == "Ada Lovelace"
    assert user.timezone == "Europe/Berlin"
    assert not EmailAddress.objects.get(user=user).verified

    page.goto(confirmation_link(mailoutbox, "ada@example.com"))
    expect(page.get_by_role("heading", name="Confirm Email Address")).to_be_visible()
    page.get_by_role("button", name="Confirm").click()

    page.wait_for_load_state()
    assert EmailAddress.objects.get(user=user).verified
    if page.url.rstrip("/").endswith("/accounts/login"):
        # Not logged in on confirmation (another session): sign in by hand.
        log_in(page, "ada@example.com", PASSWORD)
    account_menu = navbar(page).locator("#account-menu")
    expect(account_menu).to_have_text("AL Ada")

    # Log out through the account dropdown (a POST form).
    account_menu.click()
    log_out = navbar(page).get_by_role("button", name="Log out")
    expect(log_out).to_be_visible()
    screenshot("account-menu")
    log_out.click()
    page.wait_for_load_state()
    if "/accounts/logout/" in page.url:
        page.get_by_role("button", name="Sign Out").click()
    expect(navbar(page).get_by_role("link", name="Log in")).to_be_visible()
    expect(navbar(page).locator("#account-menu")).to_have_count(0)

    log_in(page, "ada@example.com", PASSWORD)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(navbar(page).locator("#account-menu")).to_contain_text("Ada")
    expect(footer(page)).to_contain_text("Times are shown in Europe/Berlin")


@pytest.mark.browser
def test_wrong_password_shows_an_error(page, screenshot):
    UserFactory(name="Grace Hopper", email="grace@example.com")

    submit_login(page, "grace@example.com", "not-the-password")

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    # crispy-forms renders the form's non-field errors in a red alert box.
    expect(page.locator("form .alert-danger")).to_contain_text(
        "The email address and/or password you specified are not correct."
    )
    expect(page.locator("#id_password")).to_have_value("")
    expect(navbar(page).locator("#account-menu")).to_have_count(0)
    screenshot("login-error")


@pytest.mark.browser
def test_account_settings_save_and_reject_a_future_birth_date(page, screenshot):
    user = UserFactory(name="Grace Hopper", email="grace@example.com")
    log_in(page, "grace@example.com")
    expect(navbar(page).locator("#account-menu")).to_contain_text("Grace")

    page.goto("/accounts/settings/")
    expect(page.get_by_role("heading", name="Account settings")).to_be_visible()
    page.get_by_label("Name").fill("Grace Brewster Hopper")
    time_zone = page.get_by_label("Time zone")
    expect(time_zone).to_have_attribute("list", "timezone-options")
    time_zone.fill("")
    time_zone.press_sequentially("Asia/Kolkata")
    page.get_by_role("button", name="Save settings").click()

    expect(page.get_by_role("status")).to_contain_text("Your settings were saved.")
    expect(footer(page)).to_contain_text("Times are shown in Asia/Kolkata")
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Kolkata")
    user.refresh_from_db()
    assert user.name == "Grace Brewster Hopper"
    assert user.timezone == "Asia/Kolkata"
    screenshot("settings")

    future = timezone.localdate() + timedelta(days=400)
    page.get_by_label("Name").fill("Someone Else")
    page.get_by_label("Date of birth").fill(future.isoformat())
    page.get_by_role("button", name="Save settings").click()

    expect(page.get_by_role("alert").first).to_contain_text(
        "Nothing was saved: please correct the fields marked below."
    )
    expect(page.get_by_text("The date of birth cannot be in the future.")).to_be_visible()
    screenshot("settings-error")
    user.refresh_from_db()
    assert user.name == "Grace Brewster Hopper"
    assert user.date_of_birth is None
    # The page around the form still shows what is stored, not the rejected input.
    expect(navbar(page).locator("#account-menu")).to_contain_text("Grace")
    expect(page.locator("main .card .fw-semibold").first).to_have_text("Grace Brewster Hopper")


@pytest.mark.browser
def test_anonymous_visitor_sees_times_in_the_browser_zone(page):
    responses = []
    page.on("response", lambda response: responses.append(response.url))
    page.goto("/")
    # The first response is rendered before the script has set the cookie
    # (UTC); the script stores the zone and shows the page again, once.
    expect(footer(page)).to_contain_text("Times are shown in Europe/Berlin")
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    assert cookies.get("tz") == "Europe%2FBerlin"
    page_loads = [url for url in responses if url.rstrip("/") == page.url.rstrip("/")]
    assert len(page_loads) == 2

    page.reload()
    expect(footer(page)).to_contain_text("Times are shown in Europe/Berlin")


@pytest.mark.browser
def test_pages_send_a_csp_and_log_no_console_errors(page, browser_problems):
    for path in ["/", "/accounts/signup/", "/accounts/login/"]:
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        policy = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy, path
        assert "script-src 'self'" in policy, path
        page.wait_for_load_state("networkidle")

    # The scripts really ran under the policy: Bootstrap and htmx are loaded.
    loaded = page.evaluate("[typeof window.bootstrap, typeof window.htmx]")
    assert loaded == ["object", "object"]
    assert browser_problems == []
