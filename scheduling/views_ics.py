"""``/sessions/<uuid>/invite.ics``: the session as iCalendar."""

from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from .ics import session_calendar
from .views_sessions import sessions_visible_to


@login_required
@require_safe
def session_invite(request, session_id):
    """The session's ``.ics`` file: its mentor, its mentee and staff; 404 for
    anyone else. Staff who are not participants get it without the meeting link.

    The file name carries the session's date in the reader's own zone, the
    date their session page shows.
    """
    session = get_object_or_404(sessions_visible_to(request.user), pk=session_id)
    is_participant = request.user.pk in (session.mentor.user_id, session.mentee.user_id)
    local_date = session.start.astimezone(ZoneInfo(request.user.timezone)).date()
    return HttpResponse(
        session_calendar(session, include_meeting_link=is_participant),
        content_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": (
                f'attachment; filename="mentorship-session-{local_date.isoformat()}.ics"'
            ),
            # The file holds the meeting link and both email addresses.
            "Cache-Control": "private, no-store",
        },
    )
