"""Benchmark URLs: the product's, plus the bare template view."""

from django.urls import include, path

from . import BARE_PATH, views

urlpatterns = [
    path(BARE_PATH.lstrip("/"), views.bare, name="bench_bare"),
    path("", include("mentorship.urls")),
]
