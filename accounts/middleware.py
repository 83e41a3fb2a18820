import zoneinfo
from urllib.parse import unquote

from django.core.exceptions import ValidationError
from django.utils import timezone

from .validators import canonical_timezone, validate_timezone

TIMEZONE_COOKIE = "tz"


def timezone_from_cookie(request) -> str | None:
    """The browser's zone, as ``static/js/timezone.js`` stored it, if valid."""
    # timezone.js stores the name URL-encoded ("Europe%2FBerlin").
    value = canonical_timezone(unquote(request.COOKIES.get(TIMEZONE_COOKIE, "")))
    if not value:
        return None
    try:
        validate_timezone(value)
    except ValidationError:
        return None
    return value


class TimezoneMiddleware:
    """Renders times in the viewer's zone.

    Signed-in users: their ``User.timezone``. Anonymous visitors: the ``tz``
    cookie set from the browser, else UTC. ``request.timezone_name`` names it
    so templates can say which zone a time is in.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            name = user.timezone
        name = name or timezone_from_cookie(request) or "UTC"
        try:
            zone = zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            name, zone = "UTC", zoneinfo.ZoneInfo("UTC")
        request.timezone_name = name
        timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
