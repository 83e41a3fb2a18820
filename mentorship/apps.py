from django.apps import AppConfig
from django.core import checks


class MentorshipConfig(AppConfig):
    """The profiles app: mentor and mentee profiles, tags, the directory."""

    name = "mentorship"
    verbose_name = "Mentorship"

    def ready(self) -> None:
        from .zone_data import check_zone_data

        checks.register(check_zone_data)
