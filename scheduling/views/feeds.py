"""The personal calendar feed: ``/calendar/<token>.ics`` for calendar apps,
``/calendar/feed/`` for its owner to get, reset or turn off the link.

What the feed lists and why: ``scheduling/notifications/feeds.py``.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from ..models import CalendarFeed
from ..notifications.feeds import (
    FEED_PAST_DAYS,
    active_feed,
    disable_feed,
    feed_for,
    feed_sessions,
    record_fetch,
    reset_feed,
)
from ..notifications.ics import sessions_calendar

FEED_NAME = "Mentorship sessions"


@require_safe
def feed(request, token):
    """The owner's sessions as a subscribed calendar. No sign-in: the token is
    the key. An unknown or revoked token and a deactivated owner are the same
    404, reached the same way (one query)."""
    calendar_feed = active_feed(token)
    if calendar_feed is None:
        raise Http404
    now = timezone.now()
    content = sessions_calendar(
        feed_sessions(user=calendar_feed.user, now=now),
        name=FEED_NAME,
        reader=calendar_feed.user,
    )
    if request.method == "GET":
        record_fetch(feed=calendar_feed, now=now)
    return HttpResponse(
        content,
        content_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": 'inline; filename="mentorship-sessions.ics"',
            # Meeting links and email addresses: no shared cache keeps it, and
            # a reset link stops working within the five minutes at most.
            "Cache-Control": "private, max-age=300",
            "X-Robots-Tag": "noindex, nofollow",
        },
    )


# What the buttons on the feed page post, and what each says afterwards.
ACTIONS = {
    "create": (feed_for, "Your calendar feed link is ready: copy it into your calendar app."),
    "reset": (
        reset_feed,
        "The old link no longer works. Give your calendar app the new link below.",
    ),
    "disable": (
        disable_feed,
        "Your calendar feed is turned off: its link no longer works.",
    ),
}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def feed_settings(request):
    """The signed-in user's feed link with its copy button, or a button to
    create one; POST ``action`` = create, reset or disable changes it and
    comes back here with a message. GET changes nothing."""
    if request.method == "POST":
        action = ACTIONS.get(request.POST.get("action", ""))
        if action is None:
            return HttpResponseBadRequest("Unknown action.")
        service, message = action
        service(user=request.user)
        messages.success(request, message)
        return redirect("scheduling:calendar_feed")

    calendar_feed = CalendarFeed.objects.filter(user=request.user).first()
    context = {"feed": calendar_feed, "past_days": FEED_PAST_DAYS}
    if calendar_feed is not None:
        path = reverse("scheduling:calendar_feed_ics", kwargs={"token": calendar_feed.token})
        feed_url = f"{settings.SITE_URL}{path}"
        context["feed_url"] = feed_url
        # webcal:// opens the system calendar app's "subscribe" dialog.
        context["webcal_url"] = "webcal://" + feed_url.split("://", 1)[1]
    response = render(request, "scheduling/calendar_feed.html", context)
    # The page shows the secret link: keep it out of shared caches and history caches.
    response["Cache-Control"] = "private, no-store"
    return response
