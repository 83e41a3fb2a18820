"""CalDAV connect flow (being written)."""

from django.http import Http404


def connect(request):
    raise Http404


def choose(request, connection_id):
    raise Http404
