import mimetypes

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    # allauth's ``account`` app is "Accounts" in the admin (email addresses);
    # two sections of that name would be confusing.
    verbose_name = "Users"

    def ready(self) -> None:
        # Avatars are stored as .webp. Python 3.11 knows that type only from
        # the system's /etc/mime.types, which slim images lack; without it
        # Django would serve avatars as application/octet-stream.
        mimetypes.add_type("image/webp", ".webp")
