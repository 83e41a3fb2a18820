"""State changes of a mentor's session types.

The views have already scoped the mentor (and the type) to the acting user;
these functions enforce the rules: valid fields (``full_clean``), a slug made
from the name and unique per mentor, and a type that sessions were booked with
is deactivated rather than deleted (the sessions keep pointing at it). Every
change marks the cached public profile fragments stale.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from core.cache import profiles_changed
from mentorship.models import MentorProfile

from .models import SessionType

SLUG_MAX_LENGTH = SessionType._meta.get_field("slug").max_length
DESCRIPTION_MAX_LENGTH = SessionType._meta.get_field("description").max_length


def _validate(session_type: SessionType) -> None:
    """``full_clean`` plus the description's length, which Django checks for a
    TextField only in forms."""
    errors = {}
    try:
        session_type.full_clean()
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if len(session_type.description) > DESCRIPTION_MAX_LENGTH:
        errors.setdefault("description", []).append(
            ValidationError(
                f"Keep the description to at most {DESCRIPTION_MAX_LENGTH} characters.",
                code="max_length",
            )
        )
    if errors:
        raise ValidationError(errors)


def _lock_mentor(mentor: MentorProfile) -> None:
    # The same row ``book_session`` locks: a booking and a removal of its type
    # never interleave, and two creations never race for one slug.
    list(MentorProfile.objects.select_for_update().filter(pk=mentor.pk).values_list("pk"))


def unique_session_type_slug(*, mentor: MentorProfile, name: str) -> str:
    """A slug for ``name`` that none of ``mentor``'s session types uses yet."""
    base = slugify(name)[: SLUG_MAX_LENGTH - 4].strip("-") or "session"
    taken = set(
        SessionType.objects.filter(mentor=mentor, slug__startswith=base).values_list(
            "slug", flat=True
        )
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


@transaction.atomic
def create_session_type(
    *,
    mentor: MentorProfile,
    name: str,
    duration_minutes: int,
    description: str = "",
    is_active: bool = True,
) -> SessionType:
    """A new session type for ``mentor``. Raises ValidationError for invalid
    fields (duration 15–240 minutes in 5-minute steps, name, description length)."""
    _lock_mentor(mentor)
    name = name.strip()
    session_type = SessionType(
        mentor=mentor,
        name=name,
        slug=unique_session_type_slug(mentor=mentor, name=name),
        duration_minutes=duration_minutes,
        description=description.strip(),
        is_active=is_active,
    )
    _validate(session_type)
    session_type.save()
    profiles_changed()
    return session_type


@transaction.atomic
def update_session_type(
    *,
    session_type: SessionType,
    name: str,
    duration_minutes: int,
    description: str,
    is_active: bool,
) -> SessionType:
    """Change a session type's fields. The slug stays as it was, so links
    that name the type (``?type=<slug>``) keep working after a rename.

    Sessions already booked keep their own title and length (a snapshot).
    Raises ValidationError and changes nothing when a field is invalid.
    """
    session_type.name = name.strip()
    session_type.duration_minutes = duration_minutes
    session_type.description = description.strip()
    session_type.is_active = is_active
    _validate(session_type)
    session_type.save(update_fields=["name", "duration_minutes", "description", "is_active"])
    profiles_changed()
    return session_type


@transaction.atomic
def remove_session_type(*, session_type: SessionType) -> bool:
    """Delete ``session_type``, or deactivate it when any session (whatever its
    status) was booked with it. Returns True if it was deleted, False if it was
    deactivated instead."""
    _lock_mentor(session_type.mentor)
    profiles_changed()
    if session_type.sessions.exists():
        if session_type.is_active:
            session_type.is_active = False
            session_type.save(update_fields=["is_active"])
        return False
    session_type.delete()
    return True
