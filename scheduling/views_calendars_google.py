"""Google Calendar OAuth flow (being written)."""

from django.http import Http404


def connect(request):
    raise Http404


def callback(request):
    raise Http404
