"""Connecting Google Calendar (OAuth 2.0 authorization code with PKCE).

``connect``: GET explains what Mentorship will be allowed to do, POST starts
the flow (a random ``state`` bound to the user and the PKCE verifier go in the
session) and sends the mentor to Google. ``callback``: Google sends the mentor
back here; the ``state`` is checked and used up whatever happens next, the
code is exchanged, and the connection is stored (encrypted tokens) before the
mentor chooses calendars.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from .calendars import CalendarError, CalendarTemporaryError, google
from .views_calendars import own_mentor

# Where the pending authorization waits in the session between connect and callback.
PENDING_KEY = "google_calendar_authorization"


def _page(request, *, problem: str = "", status: int = 200):
    return render(
        request,
        "scheduling/calendar_google_connect.html",
        {"problem": problem, "configured": google.is_configured()},
        status=status,
    )


def _not_a_mentor(request):
    messages.info(request, "Calendar connections are for mentors.")
    return redirect("mentorship:become_mentor")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def connect(request):
    if own_mentor(request) is None:
        return _not_a_mentor(request)
    if not google.is_configured():
        # Not an error of the request: the site has no Google client. Back to
        # the settings, which offer CalDAV instead.
        messages.info(
            request,
            "Google Calendar is not set up on this site yet. You can connect a CalDAV "
            "calendar (iCloud, Fastmail, Nextcloud…) instead.",
        )
        return redirect("scheduling:calendar_settings")
    if request.method != "POST":
        return _page(request)
    url, pending = google.start_authorization(user=request.user)
    request.session[PENDING_KEY] = pending
    return redirect(url)


@login_required
@require_safe
@never_cache
def callback(request):
    # Single use: whatever the outcome, this state cannot be used again.
    pending = request.session.pop(PENDING_KEY, None)
    mentor = own_mentor(request)
    if mentor is None:
        return _not_a_mentor(request)
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
