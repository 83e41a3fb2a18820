"""``/sessions/<uuid>/invite.ics``: the session as iCalendar (being written)."""

from django.http import Http404


def session_invite(request, session_id):
    raise Http404
