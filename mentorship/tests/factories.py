"""Factories for profiles, tags and links.

Factories write rows directly (they are fixtures, not a second code path for
the rules): tests that are about the rules call ``mentorship.services``.
"""

import secrets

import factory

from accounts.tests.factories import UserFactory
from mentorship.models import ExpertiseTag, MenteeProfile, MentorProfile, SocialLink

# The least environment production starts with (fresh processes through the
# ``run_django`` fixture): no debug, a secret key, a host.
PRODUCTION_ENVIRONMENT = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "mentorship.example.com",
}


class ExpertiseTagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExpertiseTag

    name = factory.Sequence(lambda number: f"Skill {number}")
    slug = factory.Sequence(lambda number: f"skill-{number}")


class MentorProfileFactory(factory.django.DjangoModelFactory):
    """A listed mentor. ``expertise=[tag, …]`` and ``links={platform: url}`` add those rows."""

    class Meta:
        model = MentorProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    slug = factory.Sequence(lambda number: f"mentor-{number}")
    headline = "Engineer helping engineers"
    biography = "I have built software for years.\n\nAsk me anything."

    @factory.post_generation
    def expertise(mentor, create, extracted, **kwargs):
        if create and extracted:
            mentor.expertise.add(*extracted)

    @factory.post_generation
    def links(mentor, create, extracted, **kwargs):
        if create and extracted:
            SocialLink.objects.bulk_create(
                SocialLink(mentor=mentor, platform=platform, url=url)
                for platform, url in extracted.items()
            )


class MenteeProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MenteeProfile

    user = factory.SubFactory(UserFactory)
    biography = "Backend developer, three years in."
    goals = "Become a tech lead."


class SocialLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SocialLink

    mentor = factory.SubFactory(MentorProfileFactory)
    platform = SocialLink.Platform.WEBSITE
    url = factory.Sequence(lambda number: f"https://person{number}.example.com/")


def mentor_with_tags_and_links(**kwargs) -> MentorProfile:
    """A mentor with three tags of their own and two social links, as a full card shows."""
    mentor = MentorProfileFactory(**kwargs)
    mentor.expertise.add(*ExpertiseTagFactory.create_batch(3))
    SocialLinkFactory(
        mentor=mentor,
        platform=SocialLink.Platform.GITHUB,
        url=f"https://github.com/{mentor.slug}",
    )
    SocialLinkFactory(mentor=mentor, platform=SocialLink.Platform.WEBSITE)
    return mentor


def mentor_state(mentor: MentorProfile) -> dict:
    """Everything about a mentor an edit could change, read fresh from the database,
    to assert that a refused edit changed nothing."""
    row = MentorProfile.objects.filter(pk=mentor.pk).values().get()
    row.pop("updated_at")
    return {
        "row": row,
        "tags": set(ExpertiseTag.objects.filter(mentors=mentor.pk).values_list("slug", flat=True)),
        "links": dict(SocialLink.objects.filter(mentor=mentor.pk).values_list("platform", "url")),
    }
