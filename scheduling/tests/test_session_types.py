"""Session types: the services' rules and the owner-only pages."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from accounts.tests.factories import UserFactory
from core.cache import profiles_version
from mentorship.services import become_mentor
from scheduling.models import Session, SessionType
from scheduling.session_types import (
    create_session_type,
    remove_session_type,
    update_session_type,
)
from scheduling.tests.factories import SessionFactory

START = datetime(2026, 6, 1, 14, 0, tzinfo=UTC)


@pytest.fixture
def mentor(db):
    return become_mentor(user=UserFactory(name="Maya Mentor"))


def book_directly(session_type) -> Session:
    """A completed session of ``session_type`` (its name and length), written
    directly rather than booked."""
    return SessionFactory(
        mentor=session_type.mentor,
        session_type=session_type,
        start=START,
        status=Session.Status.COMPLETED,
    )


def type_state(mentor) -> list[tuple]:
    return list(
        SessionType.objects.filter(mentor=mentor)
        .order_by("slug")
        .values_list("slug", "name", "duration_minutes", "description", "is_active")
    )


# --- Services ------------------------------------------------------------------------------


def test_create_makes_a_slug_from_the_name(mentor):
    created = create_session_type(
        mentor=mentor, name="  Career chat ", duration_minutes=45, description="Where next?"
    )
    assert (created.slug, created.name, created.duration_minutes) == (
        "career-chat",
        "Career chat",
        45,
    )
    assert created.is_active


def test_slugs_are_unique_per_mentor_only(mentor):
    again = create_session_type(mentor=mentor, name="Intro call", duration_minutes=20)
    third = create_session_type(mentor=mentor, name="Intro  Call!", duration_minutes=25)
    assert (again.slug, third.slug) == ("intro-call-2", "intro-call-3")
    other = become_mentor(user=UserFactory())
    assert create_session_type(mentor=other, name="Intro call", duration_minutes=30).slug == (
        "intro-call-2"  # become_mentor already gave the other mentor "intro-call"
    )


def test_a_name_without_letters_still_gets_a_slug(mentor):
    assert create_session_type(mentor=mentor, name="???", duration_minutes=30).slug == "session"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"duration_minutes": 10}, "duration_minutes"),
        ({"duration_minutes": 245}, "duration_minutes"),
        ({"duration_minutes": 32}, "duration_minutes"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"description": "x" * 1001}, "description"),
    ],
)
def test_invalid_fields_are_refused_and_nothing_changes(mentor, intro, changes, field):
    before = type_state(mentor)
    fields = {"name": "Deep dive", "duration_minutes": 90, "description": "", **changes}
    with pytest.raises(ValidationError) as refused:
        create_session_type(mentor=mentor, **fields)
    assert field in refused.value.message_dict
    with pytest.raises(ValidationError):
        update_session_type(session_type=intro, is_active=True, **fields)
    assert type_state(mentor) == before


@pytest.mark.parametrize("minutes", [15, 20, 235, 240])
def test_durations_at_the_edges_are_accepted(mentor, minutes):
    assert create_session_type(mentor=mentor, name="Edge", duration_minutes=minutes).pk


def test_update_keeps_the_slug(intro):
    update_session_type(
        session_type=intro,
        name="First conversation",
        duration_minutes=25,
        description="Hello.",
        is_active=False,
    )
    intro.refresh_from_db()
    assert (intro.slug, intro.name, intro.duration_minutes, intro.description) == (
        "intro-call",
        "First conversation",
        25,
        "Hello.",
    )
    assert not intro.is_active


def test_remove_deletes_a_type_without_sessions(intro):
    assert remove_session_type(session_type=intro) is True
    assert not SessionType.objects.filter(pk=intro.pk).exists()


def test_remove_deactivates_a_type_with_sessions(intro):
    session = book_directly(intro)
    assert remove_session_type(session_type=intro) is False
    intro.refresh_from_db()
    assert not intro.is_active
    session.refresh_from_db()
    assert session.session_type_id == intro.pk


def test_every_change_marks_the_public_pages_stale(
    mentor, intro, django_capture_on_commit_callbacks
):
    versions = [profiles_version()]
    with django_capture_on_commit_callbacks(execute=True):
        created = create_session_type(mentor=mentor, name="New", duration_minutes=30)
    versions.append(profiles_version())
    with django_capture_on_commit_callbacks(execute=True):
        update_session_type(
            session_type=created, name="Newer", duration_minutes=30, description="", is_active=True
        )
    versions.append(profiles_version())
    with django_capture_on_commit_callbacks(execute=True):
        remove_session_type(session_type=created)
    versions.append(profiles_version())
    assert versions == sorted(set(versions))  # four different, rising versions


# --- Pages: who may see them ------------------------------------------------------------------


def page_urls(mentor) -> list[str]:
    base = f"/mentors/{mentor.slug}/session-types/"
    return [base, f"{base}intro-call/edit/", f"{base}intro-call/delete/"]


def test_owner_sees_every_page(client, mentor):
    client.force_login(mentor.user)
    for url in page_urls(mentor):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("who", ["other", "staff", "other mentor"])
def test_others_get_404_on_every_page_and_change_nothing(client, mentor, who):
    if who == "other mentor":
        outsider = become_mentor(user=UserFactory()).user
    else:
        outsider = UserFactory(is_staff=who == "staff", is_superuser=who == "staff")
    client.force_login(outsider)
    before = type_state(mentor)
    post = {"name": "Hijack", "duration_minutes": 30, "description": "", "is_active": "on"}
    for url in page_urls(mentor):
        assert client.get(url).status_code == 404, url
        assert client.post(url, post).status_code == 404, url
    assert type_state(mentor) == before


def test_anonymous_visitors_are_sent_to_sign_in(client, mentor):
    before = type_state(mentor)
    for url in page_urls(mentor):
        for response in (client.get(url), client.post(url, {"name": "x"})):
            assert response.status_code == 302, url
            assert response["Location"].startswith("/accounts/login/"), url
    assert type_state(mentor) == before


def test_unknown_type_is_404_for_the_owner(client, mentor):
    client.force_login(mentor.user)
    base = f"/mentors/{mentor.slug}/session-types/"
    assert client.get(f"{base}no-such-type/edit/").status_code == 404
    assert client.post(f"{base}no-such-type/delete/").status_code == 404


# --- Pages: what they do -------------------------------------------------------------------------


def test_list_shows_the_types_and_their_bookings(
    client, mentor, intro, django_assert_max_num_queries
):
    book_directly(intro)
    client.force_login(mentor.user)
    with django_assert_max_num_queries(8):
        response = client.get(f"/mentors/{mentor.slug}/session-types/")
    body = response.content.decode()
    assert "Intro call" in body
    assert "Mentoring session" in body
    assert "1 booked session" in body
    assert "Deactivate" in body


def test_add_a_type(client, mentor):
    client.force_login(mentor.user)
    response = client.post(
        f"/mentors/{mentor.slug}/session-types/",
        {
            "name": "Code review",
            "duration_minutes": "90",
            "description": "Bring a PR.",
            "is_active": "on",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/mentors/{mentor.slug}/session-types/"
    assert "“Code review” was added." in response.content.decode()
    created = mentor.session_types.get(slug="code-review")
    assert (created.duration_minutes, created.description, created.is_active) == (
        90,
        "Bring a PR.",
        True,
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"duration_minutes": "10"}, "greater than or equal to 15"),
        ({"duration_minutes": "245"}, "less than or equal to 240"),
        ({"duration_minutes": "32"}, "multiple of 5"),
        ({"duration_minutes": "thirty"}, "Enter a whole number"),
        ({"name": ""}, "This field is required"),
        ({"name": "   "}, "This field is required"),
        ({"description": "x" * 1001}, "at most 1000 characters"),
    ],
)
def test_a_bad_form_saves_nothing_and_says_why(client, mentor, intro, data, message):
    client.force_login(mentor.user)
    before = type_state(mentor)
    fields = {"name": "Deep dive", "duration_minutes": "90", "description": "", "is_active": "on"}
    for url in (
        f"/mentors/{mentor.slug}/session-types/",
        f"/mentors/{mentor.slug}/session-types/intro-call/edit/",
    ):
        response = client.post(url, {**fields, **data})
        assert response.status_code == 200
        body = response.content.decode()
        assert "Nothing was saved" in body
        assert message in body
    assert type_state(mentor) == before


def test_edit_a_type(client, mentor, intro):
    client.force_login(mentor.user)
    response = client.post(
        f"/mentors/{mentor.slug}/session-types/intro-call/edit/",
        {"name": "Hello call", "duration_minutes": "20", "description": "Short."},
    )
    assert response.status_code == 302
    intro.refresh_from_db()
    assert (intro.slug, intro.name, intro.duration_minutes, intro.is_active) == (
        "intro-call",
        "Hello call",
        20,
        False,  # an unticked checkbox
    )


def test_delete_a_type_without_sessions(client, mentor, intro):
    client.force_login(mentor.user)
    url = f"/mentors/{mentor.slug}/session-types/intro-call/delete/"
    assert "cannot be undone" in client.get(url).content.decode()
    response = client.post(url, follow=True)
    assert "“Intro call” was deleted." in response.content.decode()
    assert not SessionType.objects.filter(pk=intro.pk).exists()


def test_delete_deactivates_a_type_with_sessions_and_says_so(client, mentor, intro):
    book_directly(intro)
    client.force_login(mentor.user)
    url = f"/mentors/{mentor.slug}/session-types/intro-call/delete/"
    assert "deactivated" in client.get(url).content.decode()
    response = client.post(url, follow=True)
    body = response.content.decode()
    assert "has booked sessions, so it was deactivated instead of deleted" in body
    intro.refresh_from_db()
    assert not intro.is_active
    assert Session.objects.filter(session_type=intro).count() == 1
