"""One test for each kind of input that once gave a 500 (issue 14), at the
place that now handles it. ``test_hostile_input.py`` walks every URL with
such input; these name the causes.
"""

from datetime import timedelta

import pytest
from django.contrib.admin.widgets import AutocompleteSelect
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from core.redirects import safe_next
from mentorship.forms import MentorProfileForm
from mentorship.tests.factories import ExpertiseTagFactory
from scheduling.models import Availability, Session
from scheduling.tests.factories import SessionFactory, new_york_mentor

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def mentor():
    return new_york_mentor(starting=timezone.localdate() - timedelta(days=7))


# --- next ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("candidate", "kept"),
    [
        ("/mentors/maya/reviews/?page=2", "/mentors/maya/reviews/?page=2"),
        ("/", "/"),
        ("foo", ""),
        ("mentors/maya/", ""),
        ("//evil.example/", ""),
        ("/\\evil.example/", ""),
        ("https://evil.example/", ""),
        ("http://testserver/elsewhere/", ""),  # a full URL, even to ourselves
        ("javascript:alert(1)", ""),
        ("/a\x00b", ""),
        ("/line\nbreak", ""),
        ("/" + "x" * 3000, ""),
        (None, ""),
    ],
)
def test_next_is_a_path_on_this_site_or_nothing(candidate, kept):
    request = RequestFactory().get("/")
    assert safe_next(request, candidate) == kept


# --- The guard in front of every view ----------------------------------------------------------


def test_a_nul_in_the_path_is_a_400_page(client, mentor):
    response = client.get("/calendar/abc%00def.ics")  # a <str:token> parameter
    assert response.status_code == 400
    assert "The address holds a character that is not allowed." in response.content.decode()
    assert response["Cache-Control"] == "no-store"


def test_a_cookie_holding_nul_is_dropped_not_refused(client, mentor):
    client.force_login(mentor.user)
    client.cookies["sessionid"] = "abcdefgh\x00ijk"  # PostgreSQL would refuse this key
    client.cookies["tz"] = "Europe/Berlin\x00"
    response = client.get("/mentors/")
    assert response.status_code == 200  # as a visitor: the damaged session is gone


# --- Forms ------------------------------------------------------------------------------------


@pytest.mark.parametrize("tag_id", ["99999999999999999999999999", "-1", "1e3", "abc", "1\x00"])
def test_a_tag_id_no_column_holds_is_an_unknown_choice(mentor, tag_id):
    form = MentorProfileForm(
        data={"headline": "Staff engineer", "expertise": [tag_id], "booking_horizon_days": 60},
        instance=mentor,
    )
    assert not form.is_valid()
    assert "expertise" in form.errors


def test_time_off_too_far_ahead_is_refused_with_a_message(client, mentor):
    client.force_login(mentor.user)
    response = client.post(
        f"/mentors/{mentor.slug}/availability/time-off/",
        {"start_date": "9999-12-30", "end_date": "9999-12-31"},
    )
    assert response.status_code in (200, 400)
    assert "Choose a date before" in response.content.decode()
    assert not Availability.objects.filter(mentor=mentor, kind="blocked").exists()


def test_a_login_longer_than_any_email_finds_nobody():
    UserFactory(email="maya@example.com")
    with pytest.raises(User.DoesNotExist):
        User.objects.get_by_natural_key("x" * 100_000)
    assert User.objects.get_by_natural_key("MAYA@example.com").email == "maya@example.com"


# --- The admin ----------------------------------------------------------------------------------


def session_admin_url(session, page="change"):
    return f"/admin/scheduling/session/{session.pk}/{page}/"


@pytest.mark.parametrize("page", ["change", "delete", "history"])
def test_an_empty_to_field_is_ignored(staff_client, mentor, page):
    tag = ExpertiseTagFactory()
    url = f"/admin/mentorship/expertisetag/{tag.pk}/{page}/"
    response = staff_client.get(url, {"_to_field": ""})
    assert response.status_code == 200


@pytest.mark.parametrize("year", ["9999", "0", "99999999999999999999", "abc", "-1"])
def test_a_date_hierarchy_year_out_of_range_shows_the_list_unfiltered(staff_client, mentor, year):
    SessionFactory(mentor=mentor)
    response = staff_client.get("/admin/scheduling/session/", {"start__year": year})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert "1 session" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"provider__exact": "\x00"}, "not allowed"),
        ({"q": "x" * 10_001}, "longer than 10,000 characters"),
        ({"id__exact": "99999999999999999999"}, "far too large"),
    ],
)
def test_admin_values_no_database_takes_are_a_400_page(staff_client, params, problem):
    response = staff_client.get("/admin/scheduling/calendarconnection/", params)
    assert response.status_code == 400
    assert problem in response.content.decode()


def test_an_autocomplete_id_that_is_no_uuid_is_a_form_error(staff_client, mentor):
    response = staff_client.post(
        "/admin/scheduling/sessiontype/add/",
        {"mentor": "not-a-uuid", "name": "Call", "slug": "call", "duration_minutes": "30"},
    )
    assert response.status_code == 200  # the form again, with the error, not a 500
    assert "“not-a-uuid” is not a valid UUID." in response.content.decode()


def test_the_autocomplete_widget_is_the_checked_one(staff_client):
    from django.contrib import admin

    from mentorship.admin_site import CheckedAutocompleteSelect, MentorshipAdminSite

    assert isinstance(admin.site, MentorshipAdminSite)
    request = RequestFactory().get("/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    form = admin.site._registry[Availability].get_form(request)
    widget = form.base_fields["mentor"].widget.widget
    assert isinstance(widget, CheckedAutocompleteSelect)
    assert isinstance(widget, AutocompleteSelect)


def test_initial_values_from_the_query_string_are_kept_only_when_valid(staff_client, mentor):
    response = staff_client.get(
        "/admin/scheduling/availability/add/",
        {"start": "garbage", "timezone": "Europe/Berlin", "kind": "blocked"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="Europe/Berlin"' in body
    assert "garbage" not in body


def test_sessions_stay_untouched_by_refused_requests(staff_client, mentor):
    session = SessionFactory(mentor=mentor, start=timezone.now() + timedelta(days=3))
    staff_client.post(session_admin_url(session, "delete"), {"_to_field": "", "post": "\x00"})
    assert Session.objects.filter(pk=session.pk).exists()
