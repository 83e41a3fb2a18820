"""A mentor's calendar pages.

* ``/calendars/``: the connections — status, last sync, errors in plain
  words, "sync now", disconnect.
* ``/calendars/caldav/connect/``: server address, user name and app password.
  The credentials are tried (the calendars discovered) before anything is
  saved; a mentor has one CalDAV connection, so connecting again updates it.
* ``/calendars/<uuid>/choose/``: which calendars count as busy and which one
  receives sessions, for CalDAV and Google connections alike (the list comes
  from ``client_for(connection).list_calendars()``). Saving starts a sync.
* ``/calendars/google/connect/`` and ``callback/``: Google Calendar (OAuth 2.0
  authorization code with PKCE). GET explains what Mentorship will be allowed
  to do, POST starts the flow (a random ``state`` bound to the user and the
  PKCE verifier go in the session) and sends the mentor to Google. Google
  sends the mentor back to the callback; the ``state`` is checked and used up
  whatever happens next, the code is exchanged, and the connection is stored
  (encrypted tokens) before the mentor chooses calendars.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mentorship.models import MentorProfile

from ..models import CalendarConnection
from . import sync
from .base import CalendarAuthError, CalendarError, CalendarTemporaryError, client_for
from .forms import CalDAVConnectForm, ChooseCalendarsForm


def _google():
    """The Google client, imported when a Google page needs it: it loads
    ``requests``, which processes that only reverse these URLs (a Celery
    worker writing emails) need not hold in memory."""
    from . import google

    return google


# Each attempt makes requests to an address the mentor typed: a few a
# quarter of an hour are plenty for typos, and too few to scan anything.
CONNECT_ATTEMPTS = 10
CONNECT_WINDOW_SECONDS = 15 * 60

# Where the pending Google authorization waits in the session between connect and callback.
PENDING_KEY = "google_calendar_authorization"

# Said wherever Google Calendar would be offered on a site without a Google
# client (GOOGLE_CLIENT_ID/_SECRET unset): the calendars page, and the
# message a typed or stale connect or callback link comes back with.
GOOGLE_UNAVAILABLE = (
    "Google Calendar is not set up on this site; ask the site's staff, "
    "or connect any CalDAV calendar below."
)


def own_mentor(request) -> MentorProfile | None:
    return MentorProfile.objects.owned_by(request.user).first()


def own_connection(request, connection_id) -> CalendarConnection:
    """The acting mentor's connection, else 404 (staff use the admin)."""
    return get_object_or_404(CalendarConnection.objects.owned_by(request.user), pk=connection_id)


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
            "google_available": _google().is_configured(),
            "google_unavailable": GOOGLE_UNAVAILABLE,
        },
    )


@login_required
@require_POST
def calendar_sync_now(request, connection_id):
    connection = own_connection(request, connection_id)
    if connection.status == CalendarConnection.Status.NEEDS_REAUTH:
        messages.error(request, "Reconnect this calendar first: its permission has expired.")
        return redirect("scheduling:calendar_settings")
    if not sync.enqueue_sync(connection.pk):
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
    sync.disconnect(connection=connection)
    messages.success(
        request,
        f"{name} is disconnected and its access was deleted. Events already in that "
        "calendar stay there; reconnecting updates them instead of adding copies.",
    )
    return redirect("scheduling:calendar_settings")


def _attempts_left(request) -> bool:
    key = f"caldav-connect:{request.user.pk}"
    cache.add(key, 0, CONNECT_WINDOW_SECONDS)
    try:
        return cache.incr(key) <= CONNECT_ATTEMPTS
    except ValueError:  # expired between add and incr
        return True


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def caldav_connect(request):
    mentor = own_mentor(request)
    if mentor is None:
        messages.info(request, "Calendar connections are for mentors.")
        return redirect("mentorship:become_mentor")
    existing = CalendarConnection.objects.filter(
        mentor=mentor, provider=CalendarConnection.Provider.CALDAV
    ).first()
    if request.method == "POST":
        form = CalDAVConnectForm(request.POST)
        if form.is_valid():
            if not _attempts_left(request):
                form.add_error(None, "Too many attempts: wait a quarter of an hour and try again.")
            else:
                try:
                    from .caldav import connect_caldav

                    connection = connect_caldav(mentor=mentor, **form.cleaned_data)
                except CalendarAuthError:
                    form.add_error(
                        None,
                        "The server refused this user name or app password. Check them, or "
                        "create a new app password at your provider and try again.",
                    )
                except CalendarTemporaryError:
                    form.add_error(
                        None, "Your calendar server did not answer. Try again in a minute."
                    )
                except CalendarError as error:
                    form.add_error(None, str(error))
                else:
                    messages.success(
                        request, "Connected. Now choose the calendars Mentorship should use."
                    )
                    return redirect("scheduling:calendar_choose", connection_id=connection.pk)
    else:
        initial = (
            {"url": existing.caldav_url, "username": existing.caldav_username} if existing else {}
        )
        form = CalDAVConnectForm(initial=initial)
    return render(
        request,
        "scheduling/calendar_caldav_connect.html",
        {"form": form, "existing": existing},
    )


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def choose_calendars(request, connection_id):
    connection = own_connection(request, connection_id)
    context = {"connection": connection, "form": None, "error": "", "needs_reconnect": False}
    try:
        calendars = client_for(connection).list_calendars()
    except CalendarAuthError as error:
        context.update(error=str(error), needs_reconnect=True)
        return render(request, "scheduling/calendar_choose.html", context)
    except CalendarTemporaryError:
        context["error"] = "Your calendar server did not answer just now. Try again in a minute."
        return render(request, "scheduling/calendar_choose.html", context)
    except CalendarError as error:
        context["error"] = str(error)
        return render(request, "scheduling/calendar_choose.html", context)

    if request.method == "POST":
        form = ChooseCalendarsForm(request.POST, calendars=calendars)
        if form.is_valid():
            sync.choose_calendars(
                connection=connection,
                busy=form.cleaned_data["busy"],
                target=form.cleaned_data["target"],
            )
            messages.success(
                request,
                "Saved. Busy times are being read now, and sessions already booked are "
                "added to your calendar within a few minutes."
                if form.cleaned_data["target"]
                else "Saved. Busy times are being read now.",
            )
            return redirect("scheduling:calendar_settings")
    else:
        form = ChooseCalendarsForm(
            calendars=calendars, initial=_initial_choice(connection, calendars)
        )
    context["form"] = form
    context["rows"] = _rows(form, calendars)
    context["no_target"] = not any(row["target"] for row in context["rows"])
    return render(request, "scheduling/calendar_choose.html", context)


def _initial_choice(connection, calendars) -> dict:
    """The saved choice; for a connection never set up, every calendar counts
    as busy and sessions go to the first one that takes events."""
    if connection.busy_calendars or connection.target_calendar:
        return {"busy": connection.busy_calendars, "target": connection.target_calendar}
    writable = [calendar.id for calendar in calendars if calendar.writable]
    return {
        "busy": [calendar.id for calendar in calendars],
        "target": writable[0] if writable else "",
    }


def _rows(form, calendars) -> list[dict]:
    """One row per calendar for the template: its name and whether each box is ticked."""
    if form.is_bound:
        busy = set(form.data.getlist("busy"))
        target = form.data.get("target", "")
    else:
        busy = set(form.initial.get("busy", []))
        target = form.initial.get("target", "")
    return [
        {
            "calendar": calendar,
            "number": number,
            "busy": calendar.id in busy,
            "target": calendar.id == target,
        }
        for number, calendar in enumerate(calendars)
    ]


def _page(request, *, problem: str = "", status: int = 200):
    return render(
        request,
        "scheduling/calendar_google_connect.html",
        {"problem": problem, "configured": _google().is_configured()},
        status=status,
    )


def _not_a_mentor(request):
    messages.info(request, "Calendar connections are for mentors.")
    return redirect("mentorship:become_mentor")


def _google_unavailable(request):
    """Back to the calendars page, which says Google is not set up here and
    offers CalDAV: not an error of the request, so no error page."""
    messages.info(request, GOOGLE_UNAVAILABLE)
    return redirect("scheduling:calendar_settings")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def google_connect(request):
    google = _google()
    if own_mentor(request) is None:
        return _not_a_mentor(request)
    if not google.is_configured():
        return _google_unavailable(request)
    if request.method != "POST":
        return _page(request)
    url, pending = google.start_authorization(user=request.user)
    request.session[PENDING_KEY] = pending
    return redirect(url)


@login_required
@require_safe
@never_cache
def google_callback(request):
    google = _google()
    # Single use: whatever the outcome, this state cannot be used again.
    pending = request.session.pop(PENDING_KEY, None)
    mentor = own_mentor(request)
    if mentor is None:
        return _not_a_mentor(request)
    if not google.is_configured():
        # A link back from Google after the site's client was removed: there
        # is nothing to start again, so no "please start again" page.
        return _google_unavailable(request)
    if not google.pending_matches(pending, state=request.GET.get("state", ""), user=request.user):
        return _page(
            request,
            problem=(
                "This link back from Google is not valid: it was used already, it expired, or "
                "it was started in another browser or account. Nothing was connected. "
                "Please start again."
            ),
            status=400,
        )
    error = request.GET.get("error", "")
    if error == "access_denied":
        return _page(
            request,
            problem=(
                "You did not allow access to your Google Calendar, so nothing was connected. "
                "You can try again whenever you like."
            ),
        )
    code = request.GET.get("code", "")
    if error or not code:
        return _page(
            request,
            problem="Google did not connect your calendar. Nothing was stored. Please try again.",
            status=400,
        )
    try:
        connection = google.connect_google_calendar(
            mentor=mentor, code=code, verifier=str(pending.get("verifier", ""))
        )
    except google.ConnectRefused as refused:
        return _page(request, problem=str(refused), status=400)
    except CalendarTemporaryError:
        return _page(
            request,
            problem="Google could not be reached just now. Nothing was stored. Please try again.",
            status=503,
        )
    except CalendarError as failure:
        return _page(request, problem=str(failure), status=400)
    account = f" ({connection.account})" if connection.account else ""
    messages.success(
        request,
        f"Google Calendar{account} is connected. Choose the calendars whose events make you "
        "busy and the one that receives your sessions.",
    )
    return redirect("scheduling:calendar_choose", connection_id=connection.pk)
