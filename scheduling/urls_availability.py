"""URLs included by scheduling/urls.py (namespace "scheduling"): the mentor's
availability editor."""

from django.urls import path

from . import views_availability as views

urlpatterns = [
    path("mentors/<slug:slug>/availability/", views.availability, name="availability"),
    path(
        "mentors/<slug:slug>/availability/preview/",
        views.availability_preview,
        name="availability_preview",
    ),
    path(
        "mentors/<slug:slug>/availability/overrides/",
        views.override_add,
        name="availability_override_add",
    ),
    path(
        "mentors/<slug:slug>/availability/overrides/<str:day>/remove/",
        views.override_remove,
        name="availability_override_remove",
    ),
    path(
        "mentors/<slug:slug>/availability/time-off/",
        views.time_off_add,
        name="availability_time_off_add",
    ),
    path(
        "mentors/<slug:slug>/availability/time-off/<int:pk>/remove/",
        views.time_off_remove,
        name="availability_time_off_remove",
    ),
]
