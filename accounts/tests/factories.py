import factory
from allauth.account.models import EmailAddress

from accounts.models import User

PASSWORD = "correct horse battery staple"
SETTINGS_URL = "/accounts/settings/"


def settings_form_data(**overrides) -> dict:
    """A valid post of the account settings form, with ``overrides``."""
    return {
        "name": "Ada King",
        "date_of_birth": "1990-12-10",
        "linkedin_url": "https://www.linkedin.com/in/ada",
        "timezone": "Asia/Kolkata",
        **overrides,
    }


class UserFactory(factory.django.DjangoModelFactory):
    """A user who can sign in: password set, email verified with allauth."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda number: f"person{number}@example.com")
    name = factory.Faker("name")
    timezone = "Europe/Berlin"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(user, create, extracted, **kwargs):
        if create:
            user.save()
            if extracted is not False:
                EmailAddress.objects.create(
                    user=user, email=user.email, verified=True, primary=True
                )
