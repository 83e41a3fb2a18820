"""Every scheduling URL (namespace "scheduling"); the views are in ``views/``
and, for external calendars, ``calendars/views.py``."""

from django.urls import path

from .calendars import views as calendars
from .views import availability, booking, explain, feeds, holds, session_types, sessions, slots

app_name = "scheduling"

urlpatterns = [
    # Public: a mentor's bookable times and the picker.
    path("mentors/<slug:slug>/slots/", slots.slots_json, name="slots"),
    path("mentors/<slug:slug>/book/", booking.book, name="book"),
    # A visitor's held time: where the link went, and the link itself.
    path("mentors/<slug:slug>/book/held/", holds.hold_sent, name="hold_sent"),
    path("book/confirm/<str:token>/", holds.hold_confirm, name="hold_confirm"),
    # The mentor's own setup.
    path("mentors/<slug:slug>/availability/", availability.availability, name="availability"),
    path(
        "mentors/<slug:slug>/availability/preview/",
        availability.availability_preview,
        name="availability_preview",
    ),
    path(
        "mentors/<slug:slug>/availability/explain/",
        explain.availability_explain,
        name="availability_explain",
    ),
    path(
        "mentors/<slug:slug>/availability/overrides/",
        availability.override_add,
        name="availability_override_add",
    ),
    path(
        "mentors/<slug:slug>/availability/overrides/<str:day>/remove/",
        availability.override_remove,
        name="availability_override_remove",
    ),
    path(
        "mentors/<slug:slug>/availability/time-off/",
        availability.time_off_add,
        name="availability_time_off_add",
    ),
    path(
        "mentors/<slug:slug>/availability/time-off/<int:pk>/remove/",
        availability.time_off_remove,
        name="availability_time_off_remove",
    ),
    path("mentors/<slug:slug>/session-types/", session_types.session_types, name="session_types"),
    path(
        "mentors/<slug:slug>/session-types/<slug:type_slug>/edit/",
        session_types.session_type_edit,
        name="session_type_edit",
    ),
    path(
        "mentors/<slug:slug>/session-types/<slug:type_slug>/delete/",
        session_types.session_type_delete,
        name="session_type_delete",
    ),
    # Sessions, for their mentor and mentee.
    path("sessions/", sessions.session_list, name="session_list"),
    path("sessions/<uuid:session_id>/", sessions.session_detail, name="session_detail"),
    path("sessions/<uuid:session_id>/cancel/", sessions.session_cancel, name="session_cancel"),
    path(
        "sessions/<uuid:session_id>/reschedule/",
        sessions.session_reschedule,
        name="session_reschedule",
    ),
    path("sessions/<uuid:session_id>/no-show/", sessions.session_no_show, name="session_no_show"),
    path("sessions/<uuid:session_id>/invite.ics", sessions.session_invite, name="session_invite"),
    path("dashboard/", sessions.mentor_dashboard, name="mentor_dashboard"),
    # Calendar feed and connected calendars.
    path("calendar/feed/", feeds.feed_settings, name="calendar_feed"),
    path("calendar/<str:token>.ics", feeds.feed, name="calendar_feed_ics"),
    path("calendars/", calendars.calendar_settings, name="calendar_settings"),
    path("calendars/caldav/connect/", calendars.caldav_connect, name="calendar_caldav_connect"),
    path(
        "calendars/<uuid:connection_id>/choose/",
        calendars.choose_calendars,
        name="calendar_choose",
    ),
    path("calendars/google/connect/", calendars.google_connect, name="calendar_google_connect"),
    path("calendars/google/callback/", calendars.google_callback, name="calendar_google_callback"),
    path(
        "calendars/<uuid:connection_id>/sync/",
        calendars.calendar_sync_now,
        name="calendar_sync_now",
    ),
    path(
        "calendars/<uuid:connection_id>/disconnect/",
        calendars.calendar_disconnect,
        name="calendar_disconnect",
    ),
]
