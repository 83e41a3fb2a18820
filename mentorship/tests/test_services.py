"""The rules of profiles, tags and links, exercised through ``mentorship.services``."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.tests.factories import UserFactory
from mentorship import services
from mentorship.models import (
    BIOGRAPHY_MAX_LENGTH,
    MAX_EXPERTISE_TAGS,
    ExpertiseTag,
    MenteeProfile,
    MentorProfile,
    SocialLink,
)

from .factories import (
    ExpertiseTagFactory,
    MenteeProfileFactory,
    MentorProfileFactory,
    mentor_state,
)


@pytest.fixture
def mentor(db):
    tags = [ExpertiseTagFactory(name="Python", slug="python"), ExpertiseTagFactory(name="Go")]
    return MentorProfileFactory(
        headline="Original headline",
        expertise=tags,
        links={"github": "https://github.com/original", "linkedin": "https://linkedin.com/in/o"},
    )


# --- become_mentor ----------------------------------------------------------------------


@pytest.mark.django_db
def test_become_mentor_takes_the_slug_from_the_name():
    user = UserFactory(name="Ada Lovelace")
    mentor = services.become_mentor(user=user)
    assert mentor.slug == "ada-lovelace"
    assert MentorProfile.objects.get(user=user) == mentor
    # The rating is not set by becoming a mentor.
    assert mentor.rating_avg == Decimal("0.00")
    assert mentor.rating_count == 0


@pytest.mark.django_db
def test_become_mentor_transliterates_accents():
    mentor = services.become_mentor(user=UserFactory(name="Zoë Çelik"))
    assert mentor.slug == "zoe-celik"


@pytest.mark.django_db
def test_become_mentor_numbers_slug_collisions():
    slugs = [services.become_mentor(user=UserFactory(name="Ada Lovelace")).slug for _ in range(3)]
    assert slugs == ["ada-lovelace", "ada-lovelace-2", "ada-lovelace-3"]


@pytest.mark.django_db
def test_become_mentor_skips_a_number_already_taken():
    MentorProfileFactory(slug="ada-lovelace")
    MentorProfileFactory(slug="ada-lovelace-2")
    mentor = services.become_mentor(user=UserFactory(name="Ada Lovelace"))
    assert mentor.slug == "ada-lovelace-3"


@pytest.mark.django_db
def test_become_mentor_name_without_slug_characters_gets_mentor():
    first = services.become_mentor(user=UserFactory(name="李雷"))
    second = services.become_mentor(user=UserFactory(name="!!!"))
    assert first.slug == "mentor"
    assert second.slug == "mentor-2"


@pytest.mark.django_db
def test_become_mentor_long_name_keeps_slug_within_the_column():
    users = [UserFactory(name="Bartholomew " * 12) for _ in range(2)]
    slugs = [services.become_mentor(user=user).slug for user in users]
    assert all(len(slug) <= 80 for slug in slugs)
    assert slugs[1] == f"{slugs[0]}-2"
    assert not slugs[0].endswith("-")


@pytest.mark.django_db
def test_become_mentor_twice_returns_the_same_profile():
    user = UserFactory(name="Grace Hopper")
    first = services.become_mentor(user=user)
    second = services.become_mentor(user=user)
    assert first.pk == second.pk
    assert second.slug == "grace-hopper"
    assert MentorProfile.objects.filter(user=user).count() == 1


# --- become_mentee ----------------------------------------------------------------------


@pytest.mark.django_db
def test_become_mentee_is_idempotent():
    user = UserFactory()
    first = services.become_mentee(user=user)
    second = services.become_mentee(user=user)
    assert first.pk == second.pk
    assert MenteeProfile.objects.filter(user=user).count() == 1


# --- update_mentor_profile --------------------------------------------------------------


@pytest.mark.django_db
def test_update_mentor_profile_saves_fields_tags_and_links(mentor):
    rust = ExpertiseTagFactory(name="Rust")
    python = ExpertiseTag.objects.get(slug="python")
    services.update_mentor_profile(
        mentor=mentor,
        changes={
            "headline": "New headline",
            "biography": "New biography",
            "is_accepting_bookings": False,
            "buffer_minutes": 15,
            "minimum_notice_minutes": 60,
            "booking_horizon_days": 30,
            "max_sessions_per_day": 4,
        },
        tags=[python, rust],
        links={"website": "https://ada.example.com/"},
    )
    mentor = MentorProfile.objects.get(pk=mentor.pk)
    assert mentor.headline == "New headline"
    assert mentor.biography == "New biography"
    assert mentor.is_accepting_bookings is False
    assert (mentor.buffer_minutes, mentor.minimum_notice_minutes) == (15, 60)
    assert (mentor.booking_horizon_days, mentor.max_sessions_per_day) == (30, 4)
    # The tag set and the links are replaced, not merged.
    assert set(mentor.expertise.values_list("name", flat=True)) == {"Python", "Rust"}
    assert dict(mentor.social_links.values_list("platform", "url")) == {
        "website": "https://ada.example.com/"
    }


@pytest.mark.django_db
def test_update_mentor_profile_with_no_tags_or_links_clears_them(mentor):
    services.update_mentor_profile(mentor=mentor, changes={}, tags=[], links={})
    assert not mentor.expertise.exists()
    assert not SocialLink.objects.filter(mentor=mentor).exists()


@pytest.mark.django_db
def test_update_mentor_profile_accepts_ten_tags_and_counts_repeats_once(mentor):
    tags = ExpertiseTagFactory.create_batch(MAX_EXPERTISE_TAGS)
    services.update_mentor_profile(mentor=mentor, changes={}, tags=tags + tags[:3], links={})
    assert mentor.expertise.count() == MAX_EXPERTISE_TAGS


@pytest.mark.django_db
def test_update_mentor_profile_refuses_an_eleventh_tag_and_changes_nothing(mentor):
    before = mentor_state(mentor)
    tags = ExpertiseTagFactory.create_batch(MAX_EXPERTISE_TAGS + 1)
    with pytest.raises(services.ProfileError, match="at most 10"):
        services.update_mentor_profile(
            mentor=mentor,
            changes={"headline": "Changed"},
            tags=tags,
            links={"website": "https://new.example.com/"},
        )
    assert mentor_state(mentor) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("platform", "url"),
    [
        ("website", "javascript:alert(1)"),
        ("website", "http://ada.example.com/"),
        ("website", "data:text/html,<script>alert(1)</script>"),
        ("github", "https://gitlab.com/ada"),
        ("github", "https://github.com.evil.example/ada"),
        ("github", "https://notgithub.com/ada"),
        ("linkedin", "https://github.com/ada"),
        ("myspace", "https://myspace.com/ada"),
    ],
)
def test_update_mentor_profile_refuses_a_bad_link_and_changes_nothing(mentor, platform, url):
    before = mentor_state(mentor)
    with pytest.raises(ValidationError):
        services.update_mentor_profile(
            mentor=mentor,
            changes={"headline": "Changed"},
            tags=[ExpertiseTagFactory()],
            links={platform: url},
        )
    assert mentor_state(mentor) == before


@pytest.mark.django_db
def test_update_mentor_profile_accepts_platform_subdomains(mentor):
    services.update_mentor_profile(
        mentor=mentor,
        changes={},
        tags=[],
        links={
            "github": "https://gist.github.com/ada",
            "x": "https://twitter.com/ada",
            "linkedin": "https://www.linkedin.com/in/ada",
            "mastodon": "https://hachyderm.io/@ada",
        },
    )
    assert SocialLink.objects.filter(mentor=mentor).count() == 4


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["rating_avg", "rating_count", "slug", "user", "created_at"])
def test_update_mentor_profile_refuses_fields_the_owner_may_not_set(mentor, field):
    before = mentor_state(mentor)
    with pytest.raises(services.ProfileError, match=field):
        services.update_mentor_profile(
            mentor=mentor,
            changes={"headline": "Changed", field: Decimal("5.00")},
            tags=[],
            links={},
        )
    assert mentor_state(mentor) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes",
    [
        {"buffer_minutes": 121},
        {"booking_horizon_days": 0},
        {"booking_horizon_days": 366},
        {"max_sessions_per_day": 0},
        {"max_sessions_per_day": 25},
        {"minimum_notice_minutes": 14 * 24 * 60 + 1},
        {"headline": "h" * 121},
    ],
)
def test_update_mentor_profile_refuses_out_of_range_rules_and_changes_nothing(mentor, changes):
    before = mentor_state(mentor)
    with pytest.raises(ValidationError):
        services.update_mentor_profile(
            mentor=mentor,
            changes=changes,
            tags=[ExpertiseTagFactory()],
            links={"website": "https://new.example.com/"},
        )
    assert mentor_state(mentor) == before


@pytest.mark.django_db
def test_update_mentor_profile_refuses_an_overlong_biography(mentor):
    # The form refuses it too, but the service is the contract: the admin, the
    # shell and seed commands call it without a form in front.
    before = mentor_state(mentor)
    with pytest.raises(ValidationError):
        services.update_mentor_profile(
            mentor=mentor,
            changes={"biography": "b" * (BIOGRAPHY_MAX_LENGTH + 1)},
            tags=[],
            links={},
        )
    assert mentor_state(mentor) == before


# --- update_mentee_profile --------------------------------------------------------------


@pytest.mark.django_db
def test_update_mentee_profile_saves():
    mentee = MenteeProfileFactory()
    services.update_mentee_profile(mentee=mentee, biography="About me", goals="g" * 2000)
    mentee.refresh_from_db()
    assert mentee.biography == "About me"
    assert len(mentee.goals) == 2000


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("biography", "goals"),
    [
        ("b" * (BIOGRAPHY_MAX_LENGTH + 1), "Fine goals"),
        ("Fine biography", "g" * 2001),
    ],
    ids=["biography", "goals"],
)
def test_update_mentee_profile_refuses_overlong_text(biography, goals):
    mentee = MenteeProfileFactory(biography="Before", goals="Before goals")
    with pytest.raises(ValidationError):
        services.update_mentee_profile(mentee=mentee, biography=biography, goals=goals)
    stored = MenteeProfile.objects.get(pk=mentee.pk)
    assert (stored.biography, stored.goals) == ("Before", "Before goals")


# --- create_expertise_tag ---------------------------------------------------------------


@pytest.mark.django_db
def test_create_expertise_tag_normalizes_spaces_and_slugifies():
    tag = services.create_expertise_tag(name="  Machine   learning ")
    assert tag.name == "Machine learning"
    assert tag.slug == "machine-learning"


@pytest.mark.django_db
@pytest.mark.parametrize("duplicate", ["python", "PYTHON", "  Python  "])
def test_create_expertise_tag_names_are_unique_ignoring_case(duplicate):
    services.create_expertise_tag(name="Python")
    with pytest.raises(ValidationError):
        services.create_expertise_tag(name=duplicate)
    assert list(ExpertiseTag.objects.values_list("name", flat=True)) == ["Python"]


@pytest.mark.django_db
def test_create_expertise_tag_numbers_slug_collisions():
    tags = [services.create_expertise_tag(name=name) for name in ("C++", "C#", "C")]
    assert [tag.slug for tag in tags] == ["c", "c-2", "c-3"]


@pytest.mark.django_db
def test_create_expertise_tag_without_slug_characters_gets_tag():
    assert services.create_expertise_tag(name="!!!").slug == "tag"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["", "   ", "x" * 61])
def test_create_expertise_tag_refuses_blank_or_overlong_names(name):
    with pytest.raises(ValidationError):
        services.create_expertise_tag(name=name)
    assert not ExpertiseTag.objects.exists()
