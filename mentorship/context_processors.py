from django.utils.functional import SimpleLazyObject


def _roles(user) -> dict:
    if not user.is_authenticated:
        return {"mentor_slug": None, "is_mentor": False, "is_mentee": False}
    from accounts.models import User

    # One query for both roles, and only on pages that ask.
    row = (
        User.objects.filter(pk=user.pk).values("mentor_profile__slug", "mentee_profile__id").first()
        or {}
    )
    slug = row.get("mentor_profile__slug")
    return {
        "mentor_slug": slug,
        "is_mentor": slug is not None,
        "is_mentee": row.get("mentee_profile__id") is not None,
    }


def roles(request):
    """``roles.is_mentor``, ``roles.mentor_slug``, ``roles.is_mentee`` for the navbar."""
    return {"roles": SimpleLazyObject(lambda: _roles(request.user))}
