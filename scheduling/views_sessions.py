"""My sessions: the list and a session's page, for its participants."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from .booking import BookingRefused, cancel_session
from .models import Session


def sessions_visible_to(user):
    """Sessions ``user`` may see: their own as mentor or mentee; staff see all."""
    sessions = Session.objects.select_related("mentor__user", "mentee__user", "session_type")
    if user.is_staff:
        return sessions
    return sessions.filter(Q(mentor__user=user) | Q(mentee__user=user))


@login_required
@require_safe
def session_list(request):
    """Upcoming, past and cancelled sessions, as mentee and as mentor."""
    user = request.user
    now = timezone.now()
    mine = list(
        Session.objects.for_participant(user)
        .select_related("mentor__user", "mentee__user")
        .order_by("start")
    )
    cancelled = [s for s in mine if s.status == Session.Status.CANCELLED]
    live = [s for s in mine if s.status != Session.Status.CANCELLED]
    return render(
        request,
        "scheduling/session_list.html",
        {
            "upcoming": [s for s in live if s.end > now],
            "past": [s for s in reversed(live) if s.end <= now],
            "cancelled": list(reversed(cancelled)),
        },
    )


@login_required
@require_safe
def session_detail(request, session_id):
    """A session's page: its mentor, its mentee and staff; 404 for anyone else."""
    session = get_object_or_404(sessions_visible_to(request.user), pk=session_id)
    is_mentor = session.mentor.user_id == request.user.pk
    is_mentee = session.mentee.user_id == request.user.pk
    return render(
        request,
        "scheduling/session_detail.html",
        {
            "session": session,
            "is_mentor": is_mentor,
            "is_participant": is_mentor or is_mentee,
            "other": session.mentee.user if is_mentor else session.mentor.user,
            "has_ended": session.end <= timezone.now(),
            "can_cancel": (is_mentor or is_mentee)
            and session.status == Session.Status.UPCOMING
            and session.start > timezone.now(),
        },
    )


@login_required
@require_POST
def session_cancel(request, session_id):
    """Cancel (POST ``reason``): participants only, else 404."""
    session = get_object_or_404(Session.objects.for_participant(request.user), pk=session_id)
    try:
        cancel_session(session=session, by=request.user, reason=request.POST.get("reason", ""))
    except BookingRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, "The session was cancelled. The other side will be told.")
    return redirect("scheduling:session_detail", session_id=session.pk)
