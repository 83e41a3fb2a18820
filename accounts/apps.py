from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    # allauth's ``account`` app is "Accounts" in the admin (email addresses);
    # two sections of that name would be confusing.
    verbose_name = "Users"
