"""The back office for profiles and tags in Django admin."""

import re
import warnings

import pytest
from django.utils.deprecation import RemovedInDjango60Warning

from accounts.tests.factories import UserFactory
from conftest import result_rows
from mentorship.models import MAX_EXPERTISE_TAGS, MentorExpertise, MentorProfile, SocialLink

from .factories import (
    ExpertiseTagFactory,
    MenteeProfileFactory,
    MentorProfileFactory,
    mentor_with_tags_and_links,
)

MENTORS = "/admin/mentorship/mentorprofile/"


@pytest.fixture
def people(db):
    python = ExpertiseTagFactory(name="Python", slug="python")
    go = ExpertiseTagFactory(name="Go", slug="go")
    ExpertiseTagFactory(name="Cobol", slug="cobol")
    ada = MentorProfileFactory(
        slug="ada-lovelace",
        user=UserFactory(name="Ada Lovelace", email="ada@example.com"),
        expertise=[python, go],
        links={"github": "https://github.com/ada"},
    )
    grace = MentorProfileFactory(
        slug="grace-hopper",
        user=UserFactory(name="Grace Hopper", email="grace@example.com"),
        is_accepting_bookings=False,
        expertise=[python],
    )
    return {"ada": ada, "grace": grace, "python": python, "go": go}


@pytest.mark.django_db
def test_admin_is_staff_only(client, people):
    client.force_login(UserFactory())
    response = client.get(MENTORS)
    assert response.status_code == 302
    assert "ada@example.com" not in response.text


@pytest.mark.django_db
def test_mentor_changelist_lists_mentors_with_emails(staff_client, people):
    response = staff_client.get(MENTORS)
    rows = result_rows(response)
    assert len(rows) == 2
    assert "ada@example.com" in response.text
    assert "grace@example.com" in response.text
    assert "Ada Lovelace" in response.text


@pytest.mark.django_db
def test_mentor_changelist_filters_by_accepting_bookings(staff_client, people):
    response = staff_client.get(f"{MENTORS}?is_accepting_bookings__exact=1")
    assert len(result_rows(response)) == 1
    assert "ada@example.com" in response.text
    assert "grace@example.com" not in response.text

    response = staff_client.get(f"{MENTORS}?is_accepting_bookings__exact=0")
    assert len(result_rows(response)) == 1
    assert "grace@example.com" in response.text


@pytest.mark.django_db
def test_mentor_changelist_filters_by_expertise(staff_client, people):
    response = staff_client.get(MENTORS)
    # The filter offers only tags some mentor has.
    assert f"?expertise__id__exact={people['python'].pk}" in response.text
    assert f"?expertise__id__exact={people['go'].pk}" in response.text
    assert ">Cobol</a>" not in response.text

    response = staff_client.get(f"{MENTORS}?expertise__id__exact={people['go'].pk}")
    assert len(result_rows(response)) == 1
    assert "ada@example.com" in response.text
    assert "grace@example.com" not in response.text

    # A tag two mentors share lists each of them once.
    response = staff_client.get(f"{MENTORS}?expertise__id__exact={people['python'].pk}")
    assert len(result_rows(response)) == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("q", "expected"),
    [("Lovelace", "ada"), ("grace@example.com", "grace"), ("GRACE@EXAMPLE", "grace")],
)
def test_mentor_changelist_searches_name_and_email(staff_client, people, q, expected):
    other = "grace" if expected == "ada" else "ada"
    response = staff_client.get(MENTORS, {"q": q})
    assert len(result_rows(response)) == 1
    assert f"{expected}@example.com" in response.text
    assert f"{other}@example.com" not in response.text


@pytest.mark.django_db
def test_mentor_change_page_has_inlines_and_read_only_ratings(staff_client, people):
    ada = people["ada"]
    response = staff_client.get(f"{MENTORS}{ada.pk}/change/")
    assert response.status_code == 200
    text = response.text
    assert 'name="mentorexpertise_set-TOTAL_FORMS"' in text
    assert 'name="social_links-TOTAL_FORMS"' in text
    assert 'value="https://github.com/ada"' in text
    assert 'name="headline"' in text
    # Ratings are kept by the reviews service: shown, never editable.
    assert "Ratings (kept by the reviews service)" in text
    assert 'name="rating_avg"' not in text
    assert 'name="rating_count"' not in text


@pytest.mark.django_db
def test_mentor_change_page_renders_without_deprecated_url_defaults(staff_client, people):
    """The social link's URL field must assume https:// in every form (the
    owner's form does), not Django 5's http:// default that Django 6 drops."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RemovedInDjango60Warning)
        response = staff_client.get(f"{MENTORS}{people['ada'].pk}/change/")
    assert response.status_code == 200


def admin_change_data(mentor, **fields) -> dict:
    """The admin change form's POST for ``mentor`` as it stands, with ``fields`` changed."""
    expertise = list(MentorExpertise.objects.filter(mentor=mentor).order_by("pk"))
    links = list(SocialLink.objects.filter(mentor=mentor).order_by("pk"))
    data = {
        "user": str(mentor.user_id),
        "slug": mentor.slug,
        "headline": mentor.headline,
        "biography": mentor.biography,
        "buffer_minutes": str(mentor.buffer_minutes),
        "minimum_notice_minutes": str(mentor.minimum_notice_minutes),
        "booking_horizon_days": str(mentor.booking_horizon_days),
        "max_sessions_per_day": "",
        "cancellation_cutoff_hours": str(mentor.cancellation_cutoff_hours),
        "mentorexpertise_set-TOTAL_FORMS": str(len(expertise)),
        "mentorexpertise_set-INITIAL_FORMS": str(len(expertise)),
        "mentorexpertise_set-MIN_NUM_FORMS": "0",
        "mentorexpertise_set-MAX_NUM_FORMS": "1000",
        "social_links-TOTAL_FORMS": str(len(links)),
        "social_links-INITIAL_FORMS": str(len(links)),
        "social_links-MIN_NUM_FORMS": "0",
        "social_links-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    # The scheduling inlines, left as they are (the mentors here have none).
    for prefix in ("session_types", "availability"):
        data |= {
            f"{prefix}-TOTAL_FORMS": "0",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    if mentor.is_accepting_bookings:
        data["is_accepting_bookings"] = "on"
    for number, row in enumerate(expertise):
        data[f"mentorexpertise_set-{number}-id"] = str(row.pk)
        data[f"mentorexpertise_set-{number}-mentor"] = str(mentor.pk)
        data[f"mentorexpertise_set-{number}-tag"] = str(row.tag_id)
    for number, link in enumerate(links):
        data[f"social_links-{number}-id"] = str(link.pk)
        data[f"social_links-{number}-mentor"] = str(mentor.pk)
        data[f"social_links-{number}-platform"] = link.platform
        data[f"social_links-{number}-url"] = link.url
    data.update(fields)
    return data


@pytest.mark.django_db
def test_staff_edit_in_admin_shows_at_once_on_the_public_page(
    staff_client, people, django_capture_on_commit_callbacks
):
    ada = people["ada"]
    assert "Admin headline" not in staff_client.get("/mentors/ada-lovelace/").text
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            f"{MENTORS}{ada.pk}/change/", admin_change_data(ada, headline="Admin headline")
        )
    assert response.status_code == 302, response.text[:3000]
    assert MentorProfile.objects.get(pk=ada.pk).headline == "Admin headline"
    assert "Admin headline" in staff_client.get("/mentors/ada-lovelace/").text
    assert "Admin headline" in staff_client.get("/mentors/").text


@pytest.mark.django_db
def test_admin_refuses_a_link_breaking_the_link_rules(staff_client, people):
    ada = people["ada"]
    data = admin_change_data(
        ada, **{"social_links-0-url": "http://github.com/ada", "headline": "Not saved"}
    )
    response = staff_client.post(f"{MENTORS}{ada.pk}/change/", data)
    assert response.status_code == 200
    assert "Links must start with https://." in response.text
    assert MentorProfile.objects.get(pk=ada.pk).headline != "Not saved"


@pytest.mark.django_db
def test_admin_keeps_the_expertise_limit(staff_client, people):
    """Staff edit tags in the admin; the inline offers no more rows than a mentor may have."""
    response = staff_client.get(f"{MENTORS}{people['ada'].pk}/change/")
    limit = re.search(r'name="mentorexpertise_set-MAX_NUM_FORMS" value="(\d+)"', response.text)
    assert limit
    assert int(limit.group(1)) == MAX_EXPERTISE_TAGS


@pytest.mark.django_db
def test_mentee_changelist_and_search(staff_client):
    MenteeProfileFactory(user=UserFactory(name="Mia Mentee", email="mia@example.com"))
    MenteeProfileFactory(user=UserFactory(name="Noor Learner", email="noor@example.com"))
    response = staff_client.get("/admin/mentorship/menteeprofile/")
    assert len(result_rows(response)) == 2
    assert "mia@example.com" in response.text
    response = staff_client.get("/admin/mentorship/menteeprofile/", {"q": "Noor"})
    assert len(result_rows(response)) == 1
    assert "noor@example.com" in response.text
    assert "mia@example.com" not in response.text


@pytest.mark.django_db
def test_mentee_change_page(staff_client):
    mentee = MenteeProfileFactory(goals="Lead a team")
    response = staff_client.get(f"/admin/mentorship/menteeprofile/{mentee.pk}/change/")
    assert response.status_code == 200
    assert "Lead a team" in response.text


@pytest.mark.django_db
def test_tag_changelist_counts_mentors(staff_client, people):
    MentorProfileFactory(expertise=[people["python"]])
    response = staff_client.get("/admin/mentorship/expertisetag/")
    rows = {
        re.search(r'field-name"><a [^>]*>([^<]+)</a>', row).group(1): re.search(
            r'<td class="field-mentor_count">(\d+)</td>', row
        ).group(1)
        for row in result_rows(response)
    }
    assert rows == {"Python": "3", "Go": "1", "Cobol": "0"}


@pytest.mark.django_db
def test_tag_changelist_sorts_by_mentor_count(staff_client, people):
    response = staff_client.get("/admin/mentorship/expertisetag/?o=-3")
    names = re.findall(r'field-name"><a [^>]*>([^<]+)</a>', response.text)
    assert names == ["Python", "Go", "Cobol"]


@pytest.mark.django_db
def test_tag_add_refuses_a_name_differing_only_in_case(staff_client, people):
    response = staff_client.post(
        "/admin/mentorship/expertisetag/add/", {"name": "PYTHON", "slug": "python-again"}
    )
    assert response.status_code == 200
    assert "already exists" in response.text


# --- Query budget ------------------------------------------------------------------------

# Session, user, the filtered count, the full count, the expertise filter's
# choices and the page of mentors with their users: the same for 1 and 50.
MENTOR_CHANGELIST_QUERIES = 6


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 50])
@pytest.mark.parametrize(
    "params", ["", "?is_accepting_bookings__exact=1", "?q=person"], ids=["all", "filter", "search"]
)
def test_mentor_changelist_query_budget(staff_client, django_assert_max_num_queries, count, params):
    for _ in range(count):
        mentor_with_tags_and_links()
    with django_assert_max_num_queries(MENTOR_CHANGELIST_QUERIES):
        response = staff_client.get(f"{MENTORS}{params}")
    assert len(result_rows(response)) == count
    assert MentorProfile.objects.count() == count
