"""A visitor's held time: "check your email", then the emailed link that
confirms it (``scheduling.holds``)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ..holds import HoldLapsed, confirm_hold, release_hold, session_for_token
from ..models import Session
from ..timefmt import utc_iso
from .booking import HELD_KEY

# How the confirmation link signs the visitor in: allauth's backend, the one
# a password sign-in uses.
AUTH_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"


def _picker_url(session: Session) -> str:
    url = reverse("scheduling:book", kwargs={"slug": session.mentor.slug})
    if session.session_type is not None and session.session_type.is_active:
        url += "?" + urlencode({"type": session.session_type.slug})
    return url


@require_http_methods(["GET", "HEAD", "POST"])
def hold_sent(request, slug):
    """``/mentors/<slug>/book/held/``: the time held for this browser's
    visitor, where the link went and until when; POST gives it back (a wrong
    address) and returns to the picker with the time chosen. Only the browser
    that made the hold sees it (the session id is in its session)."""
    held_id = request.session.get(HELD_KEY)
    session = (
        Session.objects.select_related("mentor__user", "mentee__user", "session_type")
        .filter(pk=held_id, mentor__slug=slug)
        .first()
        if held_id
        else None
    )
    if session is None:
        return redirect("scheduling:book", slug=slug)
    if request.method == "POST":
        if release_hold(session=session):
            messages.info(request, "The hold is released. Check your details and book again.")
        request.session.pop(HELD_KEY, None)
        # The picker with that time chosen again (its type, if still offered).
        separator = "&" if "?" in _picker_url(session) else "?"
        return redirect(
            f"{_picker_url(session)}{separator}{urlencode({'start': utc_iso(session.start)})}"
        )
    now = timezone.now()
    return render(
        request,
        "scheduling/hold_sent.html",
        {
            "session": session,
            "status": session.status_at(now),
            "picker_url": _picker_url(session),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
def hold_confirm(request, token):
    """``/book/confirm/<token>/``, the emailed link. GET shows the held time
    with one button (mail scanners follow links: a GET changes nothing);
    POST confirms the address and the booking, signs the visitor in and
    lands on the session page. A link followed again leads to the session;
    a lapsed hold says so and offers the picker again."""
    session = session_for_token(token)
    if session is None:
        return render(request, "scheduling/hold_confirm.html", {"invalid": True}, status=404)
    mentee = session.mentee.user
    now = timezone.now()
    status = session.status_at(now)
    if status not in (Session.Status.PENDING, Session.Status.EXPIRED):
        return _already_confirmed(request, session)
    context = {"session": session, "picker_url": _picker_url(session)}
    if status == Session.Status.EXPIRED:
        return render(
            request, "scheduling/hold_confirm.html", context | {"lapsed": True}, status=410
        )
    if request.method != "POST":
        return render(request, "scheduling/hold_confirm.html", context)
    try:
        session = confirm_hold(session=session)
    except HoldLapsed:
        return render(
            request, "scheduling/hold_confirm.html", context | {"lapsed": True}, status=410
        )
    if request.user != mentee:
        login(request, mentee, backend=AUTH_BACKEND)
    request.session.pop(HELD_KEY, None)
    messages.success(request, "Your email is confirmed and your session is booked.")
    return redirect("scheduling:session_detail", session_id=session.pk)


def _already_confirmed(request, session: Session):
    """The link again, after it did its work: it signs nobody in twice."""
    detail = reverse("scheduling:session_detail", kwargs={"session_id": session.pk})
    if request.user.is_authenticated and request.user.pk == session.mentee.user_id:
        return redirect(detail)
    messages.info(request, "This booking is confirmed already. Sign in to see it.")
    return redirect(f"{reverse('account_login')}?{urlencode({'next': detail})}")
