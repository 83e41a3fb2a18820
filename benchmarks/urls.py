"""Benchmark URLs: the product's, plus the bare template view."""

from django.urls import include, path

from . import BARE_PATH, LOCKED_WRITE_PATH, SIGNED_IN_POST_PATH, views

urlpatterns = [
    path(BARE_PATH.lstrip("/"), views.bare, name="bench_bare"),
    path(SIGNED_IN_POST_PATH.lstrip("/"), views.signed_in_post, name="bench_signed_in_post"),
    path(LOCKED_WRITE_PATH.lstrip("/"), views.locked_write, name="bench_locked_write"),
    path("", include("mentorship.urls")),
]
