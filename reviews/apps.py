from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"

    def ready(self) -> None:
        from scheduling.rules import no_show_checks

        from .services import no_show_refusal_of_reviewed

        # A reviewed session took place: its mentor may not mark it a no-show.
        # Scheduling sits below reviews, so it asks through its hook instead of
        # reaching up here (``scheduling.rules.no_show_refusal``); the page and
        # ``mark_no_show`` both hear the refusal.
        no_show_checks.register(no_show_refusal_of_reviewed)
