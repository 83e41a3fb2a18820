from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo and benchmark data (``manage.py seed_demo``, ``seed_bench``).

    The top of the app order: it creates profiles, sessions and reviews
    through every app's services, and no app imports it."""

    name = "demo"
    verbose_name = "Demo data"
