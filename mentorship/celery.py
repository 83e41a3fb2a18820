"""The Celery application.

Workers: ``celery -A mentorship worker``; beat: ``celery -A mentorship beat``.
Configuration comes from Django settings prefixed ``CELERY_`` (JSON only, time
limits, eager in-process execution when no broker is configured).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentorship.settings")

app = Celery("mentorship")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
