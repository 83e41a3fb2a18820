from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"

    def ready(self) -> None:
        from mentorship.services import mentor_created

        from .availability import create_default_session_types

        # A new mentor can be booked at once: "Intro call" and "Mentoring session".
        mentor_created.register(create_default_session_types)
