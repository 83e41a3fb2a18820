"""Every state change of profiles, tags and links. Views, admin and commands call these."""

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from accounts.models import User
from core.cache import directory_changed, mentor_changed, profiles_changed
from core.hooks import Hook

from .models import (
    MAX_EXPERTISE_TAGS,
    ExpertiseTag,
    MenteeProfile,
    MentorExpertise,
    MentorProfile,
    SocialLink,
)

SLUG_MAX_LENGTH = 80

# What a new mentor gets from the apps above mentorship, registered from their
# ``AppConfig.ready()``: scheduling creates the default session types.
mentor_created = Hook("mentor_created")


class ProfileError(Exception):
    """A rule of the profile was broken; the message is for the user."""


def _slug_candidates(name: str):
    base = slugify(name)[: SLUG_MAX_LENGTH - 6].strip("-") or "mentor"
    yield base
    for number in range(2, 1000):
        yield f"{base}-{number}"


def unique_mentor_slug(name: str) -> str:
    """The first free slug for ``name``: ``ada-lovelace``, then ``ada-lovelace-2``…"""
    candidates = list(_slug_candidates(name))
    taken = set(MentorProfile.objects.filter(slug__in=candidates).values_list("slug", flat=True))
    return next(slug for slug in candidates if slug not in taken)


def become_mentor(*, user: User) -> MentorProfile:
    """Create ``user``'s mentor profile (or return the existing one).

    The slug comes from the user's name and is unique; two people with the same
    name racing for it both succeed, the second with the next free number.
    """
    existing = MentorProfile.objects.owned_by(user).first()
    if existing is not None:
        return existing
    for _attempt in range(5):
        try:
            with transaction.atomic():
                profile = MentorProfile(user=user, slug=unique_mentor_slug(user.name))
                # Slug uniqueness is left to the database: a concurrent taker of
                # the same slug raises IntegrityError and we try the next one.
                profile.full_clean(exclude=["user", "slug"])
                profile.save()
                mentor_created.run(mentor=profile)
                profiles_changed()
                return profile
        except IntegrityError:
            existing = MentorProfile.objects.owned_by(user).first()
            if existing is not None:
                return existing
    raise ProfileError("We could not create your mentor profile. Please try again.")


def close_bookings_of(*, user: User) -> None:
    """``user``'s mentor profile, if any, stops taking bookings (their account
    was deactivated: ``accounts.services.user_deactivated``)."""
    MentorProfile.objects.owned_by(user).update(is_accepting_bookings=False)


def become_mentee(*, user: User) -> MenteeProfile:
    """Create ``user``'s mentee profile (or return the existing one)."""
    profile, _created = MenteeProfile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def update_mentor_profile(
    *,
    mentor: MentorProfile,
    changes: dict,
    tags: list[ExpertiseTag],
    links: dict[str, str],
) -> MentorProfile:
    """Apply the owner's edits: profile fields, the tag set and the social links.

    ``links`` maps platform → URL and replaces every link the mentor had. All or
    nothing: a broken rule raises and leaves the profile as it was.
    """
    if len(set(tags)) > MAX_EXPERTISE_TAGS:
        raise ProfileError(f"Choose at most {MAX_EXPERTISE_TAGS} areas of expertise.")
    allowed = {
        "headline",
        "biography",
        "is_accepting_bookings",
        "buffer_minutes",
        "minimum_notice_minutes",
        "booking_horizon_days",
        "max_sessions_per_day",
        "cancellation_cutoff_hours",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ProfileError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    changed_fields = {field for field, value in changes.items() if getattr(mentor, field) != value}
    old_tags = set(MentorExpertise.objects.filter(mentor=mentor).values_list("tag_id", flat=True))
    for field, value in changes.items():
        setattr(mentor, field, value)
    mentor.full_clean(exclude=["user", "slug"])
    mentor.save()

    MentorExpertise.objects.filter(mentor=mentor).exclude(tag__in=tags).delete()
    current = old_tags & {tag.pk for tag in tags}
    MentorExpertise.objects.bulk_create(
        [MentorExpertise(mentor=mentor, tag=tag) for tag in set(tags) if tag.pk not in current]
    )

    new_links = []
    for platform, url in links.items():
        link = SocialLink(mentor=mentor, platform=platform, url=url)
        link.full_clean(exclude=["mentor"], validate_unique=False)
        new_links.append(link)
    SocialLink.objects.filter(mentor=mentor).delete()
    SocialLink.objects.bulk_create(new_links)
    _profile_edited(mentor, changed_fields, tags_changed=old_tags != {tag.pk for tag in tags})
    return mentor


# What the directory's cards show or search, besides tags and ratings.
DIRECTORY_FIELDS = {"headline", "biography"}


def _profile_edited(mentor: MentorProfile, changed_fields: set[str], *, tags_changed: bool):
    """Mark stale, on commit, only what an edit changes: the booking rules
    and being listed change bookable times and the picker (and the
    directory's membership), so everything goes; the headline, biography and
    tags change this mentor's page and the directory; the links only this
    mentor's page."""
    if changed_fields - DIRECTORY_FIELDS:
        profiles_changed()
    else:
        directory = bool(changed_fields) or tags_changed
        mentor_changed(mentor.slug, directory=directory and mentor.is_accepting_bookings)


def update_mentee_profile(*, mentee: MenteeProfile, biography: str, goals: str) -> MenteeProfile:
    mentee.biography = biography
    mentee.goals = goals
    mentee.full_clean(exclude=["user"])
    mentee.save()
    return mentee


def create_expertise_tag(*, name: str) -> ExpertiseTag:
    """Staff curate tags; the slug follows the name and stays unique."""
    name = " ".join(name.split())
    base = slugify(name) or "tag"
    slug, number = base, 2
    while ExpertiseTag.objects.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    tag = ExpertiseTag(name=name, slug=slug)
    tag.full_clean()
    tag.save()
    directory_changed()  # the filter lists it; no mentor has it yet
    return tag
