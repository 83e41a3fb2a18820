"""The home page, the base layout, error pages and the time-zone middleware."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from django.utils import timezone

from accounts.middleware import TimezoneMiddleware
from accounts.tests.factories import UserFactory

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.django_db
def test_home_explains_the_product_with_calls_to_action(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        response = client.get("/")
    assert response.status_code == 200
    text = response.text
    assert "Learn from people who have done it." in text
    assert 'href="/accounts/signup/"' in text
    assert 'href="/accounts/login/"' in text


@pytest.mark.django_db
def test_base_layout_is_accessible_and_self_hosted(client):
    text = client.get("/").text
    assert 'class="visually-hidden-focusable skip-link" href="#main"' in text
    assert '<main id="main"' in text
    assert "<header>" in text
    assert '<nav class="navbar' in text
    assert "<footer" in text
    assert '<html lang="en"' in text
    assert "/static/vendor/bootstrap/bootstrap.min.css" in text
    assert "/static/vendor/htmx/htmx.min.js" in text
    # Nothing is loaded from another origin.
    assert not re.search(r'(src|href)="https?://', text)


def test_no_template_loads_from_a_cdn():
    for template in TEMPLATES_DIR.rglob("*.html"):
        content = template.read_text()
        assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', content), template


@pytest.mark.django_db
def test_signed_in_navbar_has_account_menu(client):
    user = UserFactory(name="Grace Hopper", is_staff=False)
    client.force_login(user)
    text = client.get("/").text
    assert "Grace" in text
    assert 'href="/accounts/settings/"' in text
    assert 'action="/accounts/logout/"' in text
    assert 'href="/admin/"' not in text


@pytest.mark.django_db
def test_staff_navbar_links_to_admin(client):
    client.force_login(UserFactory(is_staff=True))
    assert 'href="/admin/"' in client.get("/").text


@pytest.mark.django_db
def test_every_response_carries_the_content_security_policy(client):
    for url in ("/", "/accounts/login/", "/healthz", "/no-such-page/"):
        policy = client.get(url)["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy


@pytest.mark.django_db
def test_templates_have_no_inline_scripts_or_styles(client):
    text = client.get("/accounts/signup/").text + client.get("/").text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text)
    assert "<style" not in text
    assert " style=" not in text


@pytest.mark.django_db
def test_friendly_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We couldn't find that page" in response.text
    assert 'href="/"' in response.text


@pytest.mark.django_db
def test_friendly_500(settings):
    def broken(request):
        raise RuntimeError("boom")

    settings.ROOT_URLCONF = type("urls", (), {"urlpatterns": [path("boom/", broken)]})
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text


@pytest.mark.django_db
def test_anonymous_times_follow_the_browser_cookie(client):
    client.cookies["tz"] = "America/Sao_Paulo"
    assert "Times are shown in <strong>America/Sao_Paulo</strong>" in client.get("/").text


@pytest.mark.django_db
def test_anonymous_cookie_as_the_browser_writes_it(client):
    # static/js/timezone.js stores the zone URL-encoded.
    client.cookies["tz"] = "America%2FSao_Paulo"
    assert "Times are shown in <strong>America/Sao_Paulo</strong>" in client.get("/").text


@pytest.mark.django_db
def test_old_zone_names_from_browsers_are_shown_by_their_current_name(client):
    client.cookies["tz"] = "Asia%2FCalcutta"
    assert "Times are shown in <strong>Asia/Kolkata</strong>" in client.get("/").text


@pytest.mark.django_db
def test_anonymous_with_a_bad_cookie_gets_utc(client):
    client.cookies["tz"] = "Not/AZone"
    assert "Times are shown in <strong>UTC</strong>" in client.get("/").text


@pytest.mark.django_db
def test_signed_in_user_zone_wins_over_cookie(client):
    client.force_login(UserFactory(timezone="Australia/Adelaide"))
    client.cookies["tz"] = "America/Sao_Paulo"
    assert "Times are shown in <strong>Australia/Adelaide</strong>" in client.get("/").text


def test_middleware_activates_the_zone_for_rendering(rf):
    seen = {}

    def view(request):
        seen["zone"] = timezone.get_current_timezone_name()
        return HttpResponse()

    request = rf.get("/")
    request.COOKIES["tz"] = "Asia/Kathmandu"
    request.user = AnonymousUser()
    TimezoneMiddleware(view)(request)
    assert seen["zone"] == "Asia/Kathmandu"
    assert request.timezone_name == "Asia/Kathmandu"
