"""URLs included by scheduling/urls.py (namespace "scheduling")."""

from django.urls import path

from . import views_booking, views_feed, views_ics, views_sessions

urlpatterns = [
    path("sessions/", views_sessions.session_list, name="session_list"),
    path("sessions/<uuid:session_id>/", views_sessions.session_detail, name="session_detail"),
    path(
        "sessions/<uuid:session_id>/cancel/", views_sessions.session_cancel, name="session_cancel"
    ),
    path(
        "sessions/<uuid:session_id>/reschedule/",
        views_sessions.session_reschedule,
        name="session_reschedule",
    ),
    path(
        "sessions/<uuid:session_id>/no-show/",
        views_sessions.session_no_show,
        name="session_no_show",
    ),
    path(
        "sessions/<uuid:session_id>/invite.ics",
        views_ics.session_invite,
        name="session_invite",
    ),
    path("dashboard/", views_sessions.mentor_dashboard, name="mentor_dashboard"),
    path("calendar/feed/", views_feed.feed_settings, name="calendar_feed"),
    path("calendar/<str:token>.ics", views_feed.feed, name="calendar_feed_ics"),
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
