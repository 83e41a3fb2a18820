import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User

from .factories import UserFactory


@pytest.mark.django_db
def test_primary_key_is_a_uuid():
    user = UserFactory()
    assert len(str(user.pk)) == 36


@pytest.mark.django_db
def test_email_is_unique_case_insensitively_in_the_database():
    UserFactory(email="case@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        # Bypass the manager's normalisation: the constraint alone must refuse it.
        User(email="CASE@example.com", name="Twin").save()


@pytest.mark.django_db
def test_create_user_normalises_and_validates():
    user = User.objects.create_user(email="Mixed@Example.COM", password="x" * 12, name="Mixed")
    assert user.email == "mixed@example.com"
    assert User.objects.get_by_natural_key("MIXED@example.com") == user
    with pytest.raises(ValidationError):
        User.objects.create_user(email="tz@example.com", name="Bad", timezone="Nowhere/Here")


@pytest.mark.django_db
def test_superuser_command_path():
    admin = User.objects.create_superuser(email="root@example.com", password="x" * 12, name="R")
    assert admin.is_staff and admin.is_superuser


def test_initials_and_short_name():
    assert User(name="Ada Byron Lovelace", email="a@example.com").initials == "AB"
    assert User(name="", email="zed@example.com").initials == "Z"
    assert User(name="Ada Lovelace").get_short_name() == "Ada"
