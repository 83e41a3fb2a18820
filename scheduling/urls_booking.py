"""URLs included by scheduling/urls.py (namespace "scheduling")."""

from django.urls import path

from . import (
    views_booking,
    views_calendars,
    views_calendars_caldav,
    views_calendars_google,
    views_feed,
    views_ics,
    views_sessions,
)

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
    path("calendars/", views_calendars.calendar_settings, name="calendar_settings"),
    path(
        "calendars/caldav/connect/",
        views_calendars_caldav.connect,
        name="calendar_caldav_connect",
    ),
    path(
        "calendars/<uuid:connection_id>/choose/",
        views_calendars_caldav.choose,
        name="calendar_choose",
    ),
    path(
        "calendars/google/connect/",
        views_calendars_google.connect,
        name="calendar_google_connect",
    ),
    path(
        "calendars/google/callback/",
        views_calendars_google.callback,
        name="calendar_google_callback",
    ),
    path(
        "calendars/<uuid:connection_id>/sync/",
        views_calendars.calendar_sync_now,
        name="calendar_sync_now",
    ),
    path(
        "calendars/<uuid:connection_id>/disconnect/",
        views_calendars.calendar_disconnect,
        name="calendar_disconnect",
    ),
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
