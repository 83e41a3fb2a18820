"""URLs included by scheduling/urls.py (namespace "scheduling")."""

from django.urls import path

from . import views_booking, views_sessions

urlpatterns = [
    path("sessions/", views_sessions.session_list, name="session_list"),
    path("sessions/<uuid:session_id>/", views_sessions.session_detail, name="session_detail"),
    path(
        "sessions/<uuid:session_id>/cancel/", views_sessions.session_cancel, name="session_cancel"
    ),
    path("mentors/<slug:slug>/book/", views_booking.book, name="book"),
    path(
        "mentors/<slug:slug>/session-types/",
        views_booking.session_types,
        name="session_types",
    ),
    path(
        "mentors/<slug:slug>/session-types/<slug:type_slug>/edit/",
        views_booking.session_type_edit,
        name="session_type_edit",
    ),
    path(
        "mentors/<slug:slug>/session-types/<slug:type_slug>/delete/",
        views_booking.session_type_delete,
        name="session_type_delete",
    ),
]
