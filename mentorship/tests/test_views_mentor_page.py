"""``/mentors/<slug>/``: the public mentor page and who may see it."""

from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from mentorship.models import MentorProfile
from scheduling.availability import create_default_session_types

from .factories import ExpertiseTagFactory, MentorProfileFactory, mentor_with_tags_and_links

NOT_ACCEPTING = "is not accepting bookings right now."


@pytest.fixture
def mentor(db):
    return MentorProfileFactory(
        slug="ada-lovelace",
        user=UserFactory(name="Ada Lovelace", email="ada.private@example.com"),
        headline="Analytical engines for everyone",
        biography="First paragraph about engines.\n\nSecond paragraph about notes.",
        expertise=[
            ExpertiseTagFactory(name="Python", slug="python"),
            ExpertiseTagFactory(name="System design", slug="system-design"),
        ],
        links={"github": "https://github.com/ada", "website": "https://ada.example.com/"},
    )


@pytest.fixture
def paused(db):
    return MentorProfileFactory(
        slug="paused-mentor",
        user=UserFactory(name="Paused Mentor", email="paused.private@example.com"),
        is_accepting_bookings=False,
    )


@pytest.mark.django_db
def test_page_shows_name_headline_and_biography_paragraphs(client, mentor):
    response = client.get("/mentors/ada-lovelace/")
    assert response.status_code == 200
    text = response.text
    assert '<h1 id="mentor-name" class="h3 mb-1">Ada Lovelace</h1>' in text
    assert "<title>Ada Lovelace · Mentorship</title>" in text
    assert "Analytical engines for everyone" in text
    assert "<p>First paragraph about engines.</p>" in text
    assert "<p>Second paragraph about notes.</p>" in text
    assert "No reviews yet" in text
    assert NOT_ACCEPTING not in text


@pytest.mark.django_db
def test_page_shows_the_rating(client, mentor):
    MentorProfile.objects.filter(pk=mentor.pk).update(rating_avg=Decimal("4.25"), rating_count=3)
    text = client.get("/mentors/ada-lovelace/").text
    assert "★ 4.2 · 3 reviews" in text or "★ 4.3 · 3 reviews" in text


@pytest.mark.django_db
def test_html_in_the_profile_is_escaped(client):
    MentorProfileFactory(
        slug="sneaky",
        user=UserFactory(name="<b>Bold</b> Name"),
        headline='<img src=x onerror="alert(1)">',
        biography="<script>alert('bio')</script>\n\n<a href=\"javascript:alert(2)\">click</a>",
    )
    text = client.get("/mentors/sneaky/").text
    assert "<script>alert(" not in text
    assert "&lt;script&gt;alert(&#x27;bio&#x27;)&lt;/script&gt;" in text
    assert "<img src=x" not in text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in text
    assert 'href="javascript:' not in text
    assert "<b>Bold</b>" not in text
    assert "&lt;b&gt;Bold&lt;/b&gt; Name" in text


@pytest.mark.django_db
def test_tags_link_to_the_filtered_directory(client, mentor):
    text = client.get("/mentors/ada-lovelace/").text
    assert 'href="/mentors/?tag=python">Python</a>' in text
    assert 'href="/mentors/?tag=system-design">System design</a>' in text


@pytest.mark.django_db
def test_social_links_are_nofollow_noopener(client, mentor):
    text = client.get("/mentors/ada-lovelace/").text
    assert (
        '<a href="https://github.com/ada" rel="nofollow noopener" target="_blank">GitHub</a>'
    ) in text
    assert (
        '<a href="https://ada.example.com/" rel="nofollow noopener" target="_blank">Website</a>'
    ) in text


@pytest.mark.django_db
@pytest.mark.parametrize("viewer", ["anonymous", "other", "owner", "staff"])
def test_page_never_shows_the_mentors_email(client, mentor, viewer):
    if viewer == "other":
        client.force_login(UserFactory())
    elif viewer == "owner":
        client.force_login(mentor.user)
    elif viewer == "staff":
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
    text = client.get("/mentors/ada-lovelace/").text
    assert "ada.private@example.com" not in text
    assert "ada.private" not in text


@pytest.mark.django_db
def test_only_the_owner_gets_the_edit_link(client, mentor):
    edit_link = 'href="/mentors/ada-lovelace/edit/">Edit your profile</a>'
    assert edit_link not in client.get("/mentors/ada-lovelace/").text
    client.force_login(UserFactory())
    assert edit_link not in client.get("/mentors/ada-lovelace/").text
    client.force_login(mentor.user)
    assert edit_link in client.get("/mentors/ada-lovelace/").text


# --- A mentor not accepting bookings -----------------------------------------------------


@pytest.mark.django_db
def test_paused_mentor_is_404_for_anonymous(client, paused):
    assert client.get("/mentors/paused-mentor/").status_code == 404


@pytest.mark.django_db
def test_paused_mentor_is_404_for_other_users(client, paused):
    client.force_login(UserFactory())
    assert client.get("/mentors/paused-mentor/").status_code == 404
    client.force_login(MentorProfileFactory().user)
    assert client.get("/mentors/paused-mentor/").status_code == 404


@pytest.mark.django_db
def test_paused_mentor_is_shown_to_the_owner_with_the_notice(client, paused):
    client.force_login(paused.user)
    response = client.get("/mentors/paused-mentor/")
    assert response.status_code == 200
    assert f"Paused Mentor {NOT_ACCEPTING}" in response.text
    assert "Only you and staff can see this page." in response.text


@pytest.mark.django_db
def test_paused_mentor_is_shown_to_staff_with_the_notice(client, paused):
    client.force_login(UserFactory(is_staff=True))
    response = client.get("/mentors/paused-mentor/")
    assert response.status_code == 200
    assert f"Paused Mentor {NOT_ACCEPTING}" in response.text
    assert "Only you and staff can see this page." not in response.text
    assert "paused.private@example.com" not in response.text


@pytest.mark.django_db
def test_mentor_with_a_deactivated_account_is_404(client):
    MentorProfileFactory(slug="gone", user=UserFactory(is_active=False))
    assert client.get("/mentors/gone/").status_code == 404
    client.force_login(UserFactory())
    assert client.get("/mentors/gone/").status_code == 404


@pytest.mark.django_db
def test_unknown_slug_is_404(client, mentor):
    assert client.get("/mentors/nobody/").status_code == 404
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/mentors/nobody/").status_code == 404


@pytest.mark.django_db
def test_page_is_read_only(client, mentor):
    # Like the directory: a page that changes nothing answers GET (and HEAD) only.
    assert client.head("/mentors/ada-lovelace/").status_code == 200
    assert client.post("/mentors/ada-lovelace/").status_code == 405


# --- Query budget ------------------------------------------------------------------------

# Cold cache: the mentor with the user, their tags, their links, the next
# available times (session type, then availability, sessions and busy
# intervals) and the reviews (the rating summary, then one page of reviews
# with their people and replies): one query each. Signed in adds the session,
# the user and the navbar's roles. With the fragments cached only the mentor
# row (it decides 404 or not) remains, and for anonymous visitors not even
# that. reviews/tests/test_views.py runs the same budget with 1 and 50 reviews.
MENTOR_PAGE_QUERIES = {
    ("anonymous", "cold"): 9,
    ("anonymous", "warm"): 1,
    ("signed-in", "cold"): 12,
    ("signed-in", "warm"): 4,
}


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 50])
@pytest.mark.parametrize("viewer", ["anonymous", "signed-in"])
@pytest.mark.parametrize("cache", ["cold", "warm"])
def test_mentor_page_query_budget(client, django_assert_max_num_queries, count, viewer, cache):
    everyone = [mentor_with_tags_and_links() for _ in range(count)]
    create_default_session_types(mentor=everyone[-1])
    url = f"/mentors/{everyone[-1].slug}/"
    if viewer == "signed-in":
        client.force_login(UserFactory())
    if cache == "warm":
        client.get(url)
    with django_assert_max_num_queries(MENTOR_PAGE_QUERIES[viewer, cache]):
        response = client.get(url)
    assert response.status_code == 200
    assert response.text.count('href="/mentors/?tag=') == 3
    assert response.text.count('rel="nofollow noopener"') == 2
