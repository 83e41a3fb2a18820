"""State changes of accounts."""

from django.db import transaction

from .models import User


@transaction.atomic
def deactivate_user(*, user: User) -> User:
    """Block sign-in and take the person off the directory.

    Their mentor profile stops taking bookings (the directory lists only
    mentors accepting bookings, so it never has to join users to hide
    deactivated ones). Reactivating does not reopen bookings: the mentor
    chooses that again.
    """
    from mentorship.cache import profiles_changed
    from mentorship.models import MentorProfile

    user.is_active = False
    user.save(update_fields=["is_active"])
    MentorProfile.objects.filter(user=user).update(is_accepting_bookings=False)
    profiles_changed()
    return user


@transaction.atomic
def reactivate_user(*, user: User) -> User:
    from mentorship.cache import profiles_changed

    user.is_active = True
    user.save(update_fields=["is_active"])
    profiles_changed()
    return user


@transaction.atomic
def update_account_settings(*, user: User, form) -> User:
    """Save the settings form (already validated) and remove a replaced avatar.

    Name and picture appear on mentor cards and pages, so their cached
    fragments are marked stale.
    """
    from mentorship.cache import profiles_changed

    previous_avatar = User.objects.filter(pk=user.pk).values_list("avatar", flat=True).get()
    form.save()
    if previous_avatar and previous_avatar != user.avatar.name:
        # The file goes only once the row no longer points at it.
        storage = user.avatar.storage
        transaction.on_commit(lambda: storage.delete(previous_avatar))
    profiles_changed()
    return user
