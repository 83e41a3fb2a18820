from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.core import checks


class MentorshipConfig(AppConfig):
    """The profiles app: mentor and mentee profiles, tags, the directory."""

    name = "mentorship"
    verbose_name = "Mentorship"

    def ready(self) -> None:
        from accounts.services import user_deactivated

        from . import services
        from .zone_data import check_zone_data

        checks.register(check_zone_data)
        user_deactivated.register(services.close_bookings_of)


class MentorshipAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with our site as the default one."""

    default = False  # named in INSTALLED_APPS; "mentorship" is MentorshipConfig
    default_site = "mentorship.admin_site.MentorshipAdminSite"
