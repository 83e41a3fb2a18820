"""``/calendars/``: a mentor's calendar connections — status, last sync, errors
in plain words, "sync now", disconnect. The connect flows (CalDAV form,
Google OAuth) live in their own views and come back here."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from mentorship.models import MentorProfile

from . import calendar_sync
from .calendars import google
from .models import CalendarConnection

logger = logging.getLogger(__name__)


def own_mentor(request) -> MentorProfile | None:
    return MentorProfile.objects.filter(user=request.user).first()


def own_connection(request, connection_id) -> CalendarConnection:
    """The acting mentor's connection, else 404 (staff use the admin)."""
    return get_object_or_404(CalendarConnection, pk=connection_id, mentor__user=request.user)


@login_required
@require_safe
@never_cache
def calendar_settings(request):
    mentor = own_mentor(request)
    if mentor is None:
        messages.info(request, "Calendar connections are for mentors.")
        return redirect("mentorship:become_mentor")
    connections = list(CalendarConnection.objects.filter(mentor=mentor))
    return render(
        request,
        "scheduling/calendar_settings.html",
        {
            "mentor": mentor,
            "connections": connections,
            "connected": {connection.provider for connection in connections},
            "google_available": google.is_configured(),
        },
    )


@login_required
@require_POST
def calendar_sync_now(request, connection_id):
    connection = own_connection(request, connection_id)
    if connection.status == CalendarConnection.Status.NEEDS_REAUTH:
        messages.error(request, "Reconnect this calendar first: its permission has expired.")
        return redirect("scheduling:calendar_settings")
    from .tasks import sync_calendar

    try:
        sync_calendar.delay(str(connection.pk))
    except Exception:  # the broker is down: the periodic sync will run later
        logger.warning("Could not enqueue a sync of %s", connection.pk, exc_info=True)
        messages.warning(request, "Syncing could not start right now; it runs by itself soon.")
    else:
        messages.success(
            request, "Syncing now: busy times update in a moment. Refresh to see the result."
        )
    return redirect("scheduling:calendar_settings")


@login_required
@require_POST
def calendar_disconnect(request, connection_id):
    connection = own_connection(request, connection_id)
    name = connection.get_provider_display()
    calendar_sync.disconnect(connection=connection)
    messages.success(
        request,
        f"{name} is disconnected and its access was deleted. Events already in that "
        "calendar stay there; reconnecting updates them instead of adding copies.",
    )
    return redirect("scheduling:calendar_settings")
