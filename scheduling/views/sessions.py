"""My sessions: the list, a session's page and its actions, the mentor dashboard.

Every session URL is scoped to the acting user (``Session.objects.visible_to``,
``Session.objects.for_participant``): a session that is not yours is a 404.
Times are shown in the viewer's zone and statuses are read from the clock
(``Session.status_at``), so nothing waits for the periodic task.
"""

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from mentorship.context_processors import user_roles
from mentorship.models import MentorProfile
from reviews.services import REVIEW_EDIT_WINDOW, edit_refusal, review_refusal

from ..booking import (
    REASON_MAX_LENGTH,
    BookingRefused,
    SlotTaken,
    cancel_session,
    reschedule_session,
)
from ..calendar_links import session_google_calendar_url
from ..lifecycle import mark_no_show
from ..models import Session, SessionType
from ..notifications.ics import session_calendar
from ..rules import cancel_refusal, no_show_refusal, reschedule_refusal
from ..session_lists import LISTS, MORE_SIZE, Cursor, SessionPage, session_pages
from .booking import PickerMode, parse_start, render_picker

DASHBOARD_DAYS = 7
# The meeting link works at any time; the page offers "Join" from shortly
# before the start, when joining is what the participant came to do.
JOIN_OPENS_BEFORE = timedelta(minutes=10)


def _with_status(sessions, now):
    for session in sessions:
        session.current_status = session.status_at(now)
    return sessions


# Each list's heading, empty state and "more" button on ``/sessions/``.
LIST_TEXTS = {
    "upcoming": ("Upcoming", "No upcoming sessions. Find a mentor and book a time.", "Show later"),
    "past": ("Past", "No past sessions yet.", "Show earlier"),
    "cancelled": ("Cancelled and moved", "Nothing cancelled or moved.", "Show earlier"),
}


def _listed(page: SessionPage, user, now) -> dict:
    _with_status(page.sessions, now)
    for session in page.sessions:
        # Only a past session can be reviewed (its review comes with it).
        session.review_prompt = _review_prompt(session, user, now) if page.name == "past" else ""
    title, empty, more_label = LIST_TEXTS[page.name]
    return {"page": page, "title": title, "empty": empty, "more_label": more_label}


@login_required
@require_safe
@vary_on_headers("HX-Request")
def session_list(request):
    """Upcoming, past and cancelled sessions, as mentee and as mentor: the
    first page of each; ``?list=<name>&after=<cursor>`` the next page of one
    (htmx appends its rows to the list, without htmx it is a page of its own).
    The query count is the same for 1 session or 4,000 (``session_lists``)."""
    user = request.user
    now = timezone.now()
    # The user's profile ids, also the navbar's roles: one query for both.
    roles = user_roles(user)
    people = {"mentor_id": roles["mentor_id"], "mentee_id": roles["mentee_id"]}
    name = request.GET.get("list")
    if name in LISTS:
        cursor = Cursor.parse(request.GET.get("after", ""))
        pages = session_pages(
            names=(name,), user=user, now=now, cursor=cursor, size=MORE_SIZE, **people
        )
        only = _listed(pages[name], user, now)
        if request.htmx and cursor is not None:
            # The next rows and the next "more" button, in place of the button.
            return render(
                request,
                "scheduling/_session_row_items.html",
                {**only, "focus_first": True},
            )
        return render(request, "scheduling/session_list.html", {"only": only, "roles": roles})
    pages = session_pages(user=user, now=now, **people)
    lists = [_listed(page, user, now) for page in pages.values()]
    return render(request, "scheduling/session_list.html", {"lists": lists, "roles": roles})


def _review_prompt(session: Session, user, now) -> str:
    """What a row of ``/sessions/`` says about reviewing it: "write" when
    ``review_refusal`` lets ``user`` review it now, "written" for the mentee
    once it has a review, "" otherwise. No query: the review comes with the
    session."""
    if session.mentee.user_id == user.pk and getattr(session, "review", None) is not None:
        return "written"
    return "write" if review_refusal(session, user, now) is None else ""


def _review_card(session: Session, user, now) -> dict:
    """The session page's review card: a prompt when ``review_refusal`` lets
    ``user`` review the session now; for its mentee, their review with whether
    ``edit_refusal`` lets them still change it. No query: the review comes
    with the session."""
    card = {"can_review": review_refusal(session, user, now) is None}
    review = getattr(session, "review", None)
    if review is not None and session.mentee.user_id == user.pk:
        card |= {
            "review": review,
            "can_edit_review": edit_refusal(review, user, now) is None,
            "review_editable_until": review.created_at + REVIEW_EDIT_WINDOW,
        }
    return card


def _actions(session: Session, user, now) -> dict:
    """What the session page offers ``user`` now, each by the rule its service
    enforces (``scheduling.rules``), and why a participant cannot cancel a
    session that has not started (the page's one explanation: past the
    mentee's cutoff). No query when ``session`` comes with its mentor, mentee
    and review.

    The cancel form posts to a participants' URL: staff may cancel too, but
    do it in the admin ("Cancel selected sessions", the same service), so the
    page offers it to participants only.
    """
    is_mentor = session.mentor.user_id == user.pk
    is_participant = is_mentor or session.mentee.user_id == user.pk
    cancel_refused = cancel_refusal(session, user, now)
    return {
        "is_mentor": is_mentor,
        "is_participant": is_participant,
        "can_cancel": is_participant and cancel_refused is None,
        "can_reschedule": reschedule_refusal(session, user, now) is None,
        "can_mark_no_show": no_show_refusal(session, user, now) is None,
        # Once it started, the status says why; before, the refusal does.
        "cancel_refusal": (
            cancel_refused
            if is_participant and session.status_at(now) == Session.Status.UPCOMING
            else None
        ),
    }


def _participant_links(session: Session, user, now, *, is_mentor: bool) -> dict:
    """What the session page offers a participant of a session that is on
    (not cancelled): "Join" (enabled from ``JOIN_OPENS_BEFORE`` the start
    until the end, shown disabled with its opening time before that, gone
    once the session is over or marked a no-show), the Google Calendar link
    and, for the mentee, "Book again" when the mentor is listed (the picker
    opens on the same session type while the mentor still offers it).

    No query when ``session`` comes with its mentor, mentee and session type
    and the ``mentor_listed`` annotation.
    """
    if session.status == Session.Status.CANCELLED:
        return {}
    links = {
        "show_join": session.status_at(now) in (Session.Status.UPCOMING, Session.Status.ACTIVE),
        "join_opens_at": session.start - JOIN_OPENS_BEFORE,
        "google_calendar_url": session_google_calendar_url(
            session,
            viewer=user,
            page_url=settings.SITE_URL
            + reverse("scheduling:session_detail", kwargs={"session_id": session.pk}),
        ),
    }
    links["can_join"] = links["show_join"] and links["join_opens_at"] <= now < session.end
    if not is_mentor and session.mentor_listed:
        book_url = reverse("scheduling:book", kwargs={"slug": session.mentor.slug})
        session_type = session.session_type
        if session_type is not None and session_type.is_active:
            book_url += "?" + urlencode({"type": session_type.slug})
        links["book_again_url"] = book_url
    return links


@login_required
@require_safe
def session_detail(request, session_id):
    """A session's page: its mentor, its mentee and staff; 404 for anyone else.

    Participants of a session that is on get "Join", the calendar links and,
    for the mentee, "Book again" (``_participant_links``). The mentor and
    staff see what the mentee wrote about themselves (their biography and
    goals), which the mentee shared to be mentored; the mentee's own page
    does not repeat it to them. One query for the session and everything the
    page shows of it, whoever views it.
    """
    # With the review: the review card and the no-show rule read it. Whether
    # the mentor is listed rides along, by the directory's own rule.
    session = get_object_or_404(
        Session.objects.visible_to(request.user)
        .select_related("rescheduled_from", "rescheduled_to", "review__mentee")
        .annotate(
            mentor_listed=Exists(MentorProfile.objects.listed().filter(pk=OuterRef("mentor_id")))
        ),
        pk=session_id,
    )
    now = timezone.now()
    session.current_status = session.status_at(now)
    actions = _actions(session, request.user, now)
    participant_links = (
        _participant_links(session, request.user, now, is_mentor=actions["is_mentor"])
        if actions["is_participant"]
        else {}
    )
    return render(
        request,
        "scheduling/session_detail.html",
        {
            "session": session,
            "other": session.mentee.user if actions["is_mentor"] else session.mentor.user,
            "has_ended": session.end <= now,
            # Not to the mentee, about themselves (even one who is staff).
            "show_mentee_card": actions["is_mentor"]
            or (request.user.is_staff and not actions["is_participant"]),
            **actions,
            **participant_links,
            **_review_card(session, request.user, now),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def session_cancel(request, session_id):
    """GET: the confirmation step (the session, an optional reason for the
    other side, "Cancel session" or "Keep it"). POST ``reason``: cancel.
    Participants only, else 404; when the rules refuse, back to the session
    page with the reason."""
    session = get_object_or_404(
        Session.objects.for_participant(request.user).select_related(
            "mentor__user", "mentee__user"
        ),
        pk=session_id,
    )
    if request.method != "POST":
        refusal = cancel_refusal(session, request.user, timezone.now())
        if refusal:
            messages.error(request, refusal)
            return redirect("scheduling:session_detail", session_id=session.pk)
        is_mentor = session.mentor.user_id == request.user.pk
        return render(
            request,
            "scheduling/session_cancel.html",
            {
                "session": session,
                "is_mentor": is_mentor,
                "other": session.mentee.user if is_mentor else session.mentor.user,
                "reason_max_length": REASON_MAX_LENGTH,
            },
        )
    try:
        cancel_session(session=session, by=request.user, reason=request.POST.get("reason", ""))
    except BookingRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, "The session was cancelled. The other side will be told.")
    return redirect("scheduling:session_detail", session_id=session.pk)


@login_required
@require_POST
def session_no_show(request, session_id):
    """The mentor marks that the mentee did not come: participants only, else 404."""
    session = get_object_or_404(Session.objects.for_participant(request.user), pk=session_id)
    try:
        mark_no_show(session=session, by=request.user)
    except BookingRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, "Marked as a no-show.")
    return redirect("scheduling:session_detail", session_id=session.pk)


def _reschedule_length(session: Session) -> SessionType:
    """The picker's session type when moving ``session``: its own length and
    title, even if the mentor has changed or removed the type since."""
    return SessionType(
        mentor=session.mentor,
        name=session.title,
        slug=session.session_type.slug if session.session_type else "session",
        duration_minutes=session.duration_minutes,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@vary_on_headers("HX-Request")
def session_reschedule(request, session_id):
    """GET: the slot picker in reschedule mode (same mentor and length, the
    session's own time free to move into). POST ``start``: move it, in one
    transaction. The session's mentee only; the mentor is sent back to the
    session (they cancel instead); anyone else gets a 404."""
    session = get_object_or_404(
        Session.objects.for_participant(request.user).select_related(
            "mentor__user", "mentee__user", "session_type"
        ),
        pk=session_id,
    )
    refusal = reschedule_refusal(session, request.user, timezone.now())
    if refusal:
        messages.error(request, refusal)
        return redirect("scheduling:session_detail", session_id=session.pk)
    mode = PickerMode(
        url=request.path, action_label="Move to this time", ignoring=session.pk, current=session
    )
    length = _reschedule_length(session)
    if request.method != "POST":
        return render_picker(request, session.mentor, [length], request.GET, mode=mode)
    start = parse_start(request.POST.get("start", ""))
    try:
        if start is None:
            raise BookingRefused("That start time is not valid. Please pick one of the times.")
        moved = reschedule_session(session=session, by=request.user, start=start)
    except BookingRefused as refusal:
        messages.error(request, str(refusal))
        params = {"type": length.slug}
        if start is not None:
            local = start.astimezone(ZoneInfo(request.timezone_name)).date()
            params["week"] = (local - timedelta(days=local.weekday())).isoformat()
        status = 409 if isinstance(refusal, SlotTaken) else 400
        return render_picker(request, session.mentor, [length], params, status=status, mode=mode)
    messages.success(request, "Your session was moved. The details are below.")
    return redirect("scheduling:session_detail", session_id=moved.pk)


@login_required
@require_safe
def mentor_dashboard(request):
    """``/dashboard/``: a mentor's today and coming week at a glance, in their zone.

    Queries: the mentor profile and the week's sessions (one query with the
    mentees), whatever the number of sessions.
    """
    mentor = MentorProfile.objects.owned_by(request.user).first()
    if mentor is None:
        messages.info(request, "The dashboard is for mentors. Here are your sessions instead.")
        return redirect("scheduling:session_list")
    now = timezone.now()
    zone = ZoneInfo(request.timezone_name)
    today = now.astimezone(zone).date()
    day_starts = [
        datetime.combine(today + timedelta(days=offset), time(), tzinfo=zone).astimezone(UTC)
        for offset in range(DASHBOARD_DAYS + 2)  # today, the 7 days after, and the end
    ]
    sessions = _with_status(
        Session.objects.filter(mentor=mentor, start__lt=day_starts[-1], end__gt=day_starts[0])
        .exclude(status=Session.Status.CANCELLED)
        .select_related("mentee__user")
        .order_by("start"),
        now,
    )
    days = [
        {
            "date": today + timedelta(days=offset),
            "sessions": [s for s in sessions if start <= s.start < end],
        }
        for offset, (start, end) in enumerate(pairwise(day_starts))
    ]
    # A session that began yesterday and runs past midnight shows under today.
    days[0]["sessions"] = [s for s in sessions if s.start < day_starts[1]]
    return render(
        request,
        "scheduling/dashboard.html",
        {
            "mentor": mentor,
            "today": days[0],
            "week": days[1:],
            "week_count": sum(len(day["sessions"]) for day in days[1:]),
        },
    )


@login_required
@require_safe
def session_invite(request, session_id):
    """The session's ``.ics`` file: its mentor, its mentee and staff; 404 for
    anyone else. Staff who are not participants get it without the meeting link.

    The file name carries the session's date in the reader's own zone, the
    date their session page shows.
    """
    session = get_object_or_404(Session.objects.visible_to(request.user), pk=session_id)
    is_participant = request.user.pk in (session.mentor.user_id, session.mentee.user_id)
    local_date = session.start.astimezone(ZoneInfo(request.user.timezone)).date()
    return HttpResponse(
        session_calendar(
            session,
            include_meeting_link=is_participant,
            recipient=request.user if is_participant else None,
        ),
        content_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": (
                f'attachment; filename="mentorship-session-{local_date.isoformat()}.ics"'
            ),
            # The file holds the meeting link and both email addresses.
            "Cache-Control": "private, no-store",
        },
    )
