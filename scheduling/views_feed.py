"""The personal calendar feed (being written)."""

from django.http import Http404


def feed_settings(request):
    raise Http404


def feed(request, token):
    raise Http404
