from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"

    def ready(self) -> None:
        from mentorship.services import mentor_created

        from .availability import create_default_session_types

        # A new mentor can be booked at once: "Intro call" and "Mentoring session".
        mentor_created.register(create_default_session_types)

        from allauth.account.signals import email_confirmed

        email_confirmed.connect(_confirm_holds, dispatch_uid="scheduling.confirm_holds")


def _confirm_holds(sender, email_address, **kwargs) -> None:
    """An address confirmed with allauth's own link (a visitor who signed in
    instead of following ours) confirms the times held for it."""
    from .holds import confirm_holds_of

    if email_address.user.email.lower() == email_address.email.lower():
        confirm_holds_of(user=email_address.user)
