from django.apps import AppConfig


class MentorshipConfig(AppConfig):
    """The profiles app: mentor and mentee profiles, tags, the directory."""

    name = "mentorship"
    verbose_name = "Mentorship"
