# Zone rules from the pinned tzdata package only, before any of our code (or
# Celery's) loads a zone: see zone_data.py.
from .zone_data import use_packaged_zone_data

use_packaged_zone_data()

# Load the Celery app with Django so that @shared_task binds to it.
from .celery import app as celery_app  # noqa: E402

__all__ = ("celery_app",)
