import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone as django_timezone

from .avatars import new_avatar_name
from .validators import (
    AvatarValidator,
    validate_linkedin_url,
    validate_not_in_future,
    validate_timezone,
)


def avatar_upload_to(user: "User", filename: str) -> str:
    # What is stored is always our own WebP (accounts/avatars.py), whatever
    # the upload was called: its name and extension are not kept.
    return new_avatar_name()


class HttpsURLField(models.URLField):
    """A URLField whose form field assumes https:// when the scheme is left out."""

    def formfield(self, **kwargs):
        return super().formfield(**{"assume_scheme": "https", **kwargs})


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username: str) -> "User":
        # Email is the login and is unique case-insensitively. Nothing longer
        # than an email address can be one (and SQLite refuses a LIKE pattern
        # of tens of thousands of characters, which a login form may send).
        if len(username or "") > EMAIL_MAX_LENGTH:
            raise self.model.DoesNotExist("No user has an email address that long.")
        return self.get(email__iexact=username)


EMAIL_MAX_LENGTH = 254  # EmailField's default, RFC 5321's limit


class User(AbstractBaseUser, PermissionsMixin):
    """A person using Mentorship. Email is the login.

    Whether someone is a mentor or a mentee follows from their profiles
    (``mentorship.MentorProfile`` / ``MenteeProfile``), not from flags here.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=150)
    date_of_birth = models.DateField(blank=True, null=True, validators=[validate_not_in_future])
    linkedin_url = HttpsURLField(
        "LinkedIn profile", blank=True, max_length=300, validators=[validate_linkedin_url]
    )
    timezone = models.CharField(
        "time zone", max_length=64, default="UTC", validators=[validate_timezone]
    )
    # How clock times read: "" follows the browser's locale (the ``tf``
    # cookie, see ``accounts.middleware``), else "24" (17:00) or "12" (5:00 PM).
    time_format = models.CharField(
        "time format",
        max_length=2,
        blank=True,
        # Also the database's default: rows written by code that predates the
        # column (an older migration state, another process mid-deploy).
        default="",
        db_default="",
        choices=[
            ("", "As my browser shows times"),
            ("24", "24-hour (17:00)"),
            ("12", "12-hour (5:00 PM)"),
        ],
    )
    avatar = models.ImageField(
        upload_to=avatar_upload_to, blank=True, validators=[AvatarValidator()]
    )
    is_staff = models.BooleanField(
        "staff status", default=False, help_text="Can log into the admin site."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=django_timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.public_name

    @property
    def clock(self) -> str:
        """The time format this person's emails use: their choice, else 24-hour
        (an email has no browser to ask)."""
        return self.time_format or "24"

    @property
    def public_name(self) -> str:
        """How the other side of a session sees this person: the name, never
        the email address (an account without a name is a plain label)."""
        return self.name or "Mentorship member"

    @property
    def initials(self) -> str:
        words = [word for word in self.name.split() if word]
        letters = "".join(word[0] for word in words[:2]) if words else self.email[:1]
        return letters.upper()


def display_name(user: User) -> str:
    """How allauth names a user to themselves ("Signed in as …")."""
    return user.name or user.email
