"""State changes of accounts."""

from collections import Counter
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.cache import profiles_changed
from core.hooks import Hook

from . import avatars
from .models import User

# What deactivating someone means to the apps above accounts, registered from
# their ``AppConfig.ready()``: mentorship closes the person's mentor profile.
user_deactivated = Hook("user_deactivated")


@transaction.atomic
def deactivate_user(*, user: User) -> User:
    """Block sign-in and take the person off the directory.

    The ``user_deactivated`` hook runs in the same transaction: their mentor
    profile stops taking bookings (the directory lists only mentors accepting
    bookings, so it never has to join users to hide deactivated ones).
    Reactivating does not reopen bookings: the mentor chooses that again.
    """
    user.is_active = False
    user.save(update_fields=["is_active"])
    user_deactivated.run(user=user)
    profiles_changed()
    return user


@transaction.atomic
def reactivate_user(*, user: User) -> User:
    user.is_active = True
    user.save(update_fields=["is_active"])
    profiles_changed()
    return user


@transaction.atomic
def update_account_settings(*, user: User, form) -> User:
    """Save the settings form (already validated), through ``save_user``."""
    form.save(commit=False)
    save_user(user=user)
    form.save_m2m()
    return user


@transaction.atomic
def save_user(*, user: User) -> User:
    """Save ``user`` as a form left it: the settings page, or staff in the admin.

    A newly assigned avatar is never stored as uploaded: its picture is
    re-encoded without metadata and stored with its renditions
    (``accounts/avatars.py``). The form has run ``AvatarValidator`` on it, so
    this does not fail on the picture. A replaced or cleared avatar's files
    (renditions included) are deleted once the row no longer points at them.
    Name and picture appear on mentor cards and pages, so their cached
    fragments are marked stale.
    """
    previous_avatar = User.objects.filter(pk=user.pk).values_list("avatar", flat=True).first()
    # A file not yet in storage is what the form was given.
    if user.avatar and not user.avatar._committed:
        prepared = avatars.prepare_avatar(user.avatar)
        user.avatar = avatars.store_prepared_avatar(storage=user.avatar.storage, prepared=prepared)
    user.save()
    if previous_avatar and previous_avatar != user.avatar.name:
        storage = user.avatar.storage
        transaction.on_commit(
            lambda: avatars.delete_avatar_files(storage=storage, name=previous_avatar)
        )
    profiles_changed()
    return user


def rebuild_avatars(*, users) -> Counter:
    """Bring the stored avatars of ``users`` (a queryset of users; the data
    migration passes its historical model's) to what ``save_user`` stores now.

    Each avatar stored otherwise (an upload kept as sent, a rendition missing)
    is read and re-encoded with its renditions under a new name; one that is
    no acceptable picture (any more), such as a PNG of 12000 × 12000 pixels,
    is cleared. The old files go once the row has changed. A row changed
    meanwhile (the user uploaded another picture) is left to that change.
    Returns how many avatars were ``rebuilt``, ``cleared``, ``missing`` (the
    file is not in storage: left as it is) and already ``current``.
    """
    storage = users.model._meta.get_field("avatar").storage
    outcome = Counter()
    for pk, name in users.exclude(avatar="").values_list("pk", "avatar").iterator():
        if avatars.is_current(storage=storage, name=name):
            outcome["current"] += 1
            continue
        try:
            with storage.open(name) as file:
                prepared = avatars.prepare_avatar(file)
        except FileNotFoundError:
            outcome["missing"] += 1
            continue
        except ValidationError:
            prepared = None
        new_name = (
            avatars.store_prepared_avatar(storage=storage, prepared=prepared) if prepared else ""
        )
        with transaction.atomic():
            changed = users.filter(pk=pk, avatar=name).update(avatar=new_name)
            if changed:
                transaction.on_commit(
                    partial(avatars.delete_avatar_files, storage=storage, name=name)
                )
        if not changed:
            if new_name:
                avatars.delete_avatar_files(storage=storage, name=new_name)
            continue
        outcome["rebuilt" if new_name else "cleared"] += 1
    if outcome["rebuilt"] or outcome["cleared"]:
        profiles_changed()
    return outcome


class AccountExists(Exception):
    """The email address belongs to an account already: sign in instead."""


def email_has_account(email: str) -> bool:
    from allauth.account.models import EmailAddress

    email = email.strip().lower()
    return (
        User.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    )


def create_unconfirmed_account(
    *, name: str, email: str, password: str, timezone: str, time_format: str = ""
) -> User:
    """An account for a visitor who books without one: active, its address
    not yet confirmed (they cannot sign in with the password until it is,
    ``ACCOUNT_EMAIL_VERIFICATION``). Raises ``AccountExists`` (in the caller's
    transaction, which it leaves usable) when the address has an account;
    never a second one: the unique email key settles a race."""
    from allauth.account.models import EmailAddress

    email = User.objects.normalize_email(email.strip()).lower()
    if email_has_account(email):
        raise AccountExists(email)
    try:
        with transaction.atomic():
            user = User(email=email, name=name, timezone=timezone, time_format=time_format)
            user.set_password(password)
            user.save(force_insert=True)
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    except IntegrityError as error:
        raise AccountExists(email) from error
    return user


def account_for_guest(
    *, name: str, email: str, password: str, timezone: str, time_format: str = ""
) -> User:
    """The account a visitor books with: a new unconfirmed one, or the one
    an earlier visit of theirs made, when its address is still unconfirmed
    and the password is its own (a hold lapsed, they come back). Raises
    ``AccountExists`` for any other account with that address: its owner
    signs in to book."""
    try:
        return create_unconfirmed_account(
            name=name, email=email, password=password, timezone=timezone, time_format=time_format
        )
    except AccountExists:
        from allauth.account.models import EmailAddress

        user = User.objects.filter(email__iexact=email.strip()).first()
        confirmed = EmailAddress.objects.filter(email__iexact=email.strip(), verified=True)
        if (
            user is not None
            and user.is_active
            and not confirmed.exists()
            and user.check_password(password)
        ):
            return user
        raise


def confirm_account_email(*, user: User) -> None:
    """Mark ``user``'s own address confirmed, as following allauth's link does."""
    from allauth.account.models import EmailAddress

    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is None:
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    elif not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])
