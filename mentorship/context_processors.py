from django.utils.functional import SimpleLazyObject


def user_roles(user) -> dict:
    """The user's profiles, in one query: ``mentor_id``, ``mentor_slug`` and
    ``mentee_id`` (None for a role they do not have), ``is_mentor``,
    ``is_mentee``. A view that needs the ids too puts this in its context as
    ``roles``, and the navbar reuses it."""
    if not user.is_authenticated:
        row = {}
    else:
        from accounts.models import User

        row = (
            User.objects.filter(pk=user.pk)
            .values("mentor_profile__id", "mentor_profile__slug", "mentee_profile__id")
            .first()
            or {}
        )
    return {
        "mentor_id": row.get("mentor_profile__id"),
        "mentor_slug": row.get("mentor_profile__slug"),
        "mentee_id": row.get("mentee_profile__id"),
        "is_mentor": row.get("mentor_profile__id") is not None,
        "is_mentee": row.get("mentee_profile__id") is not None,
    }


def roles(request):
    """``roles.is_mentor``, ``roles.mentor_slug``, ``roles.is_mentee`` for the navbar."""
    return {"roles": SimpleLazyObject(lambda: user_roles(request.user))}
