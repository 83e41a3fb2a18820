import zoneinfo
from urllib.parse import unquote

from django.core.exceptions import ValidationError
from django.utils import timezone

from core import timeformat

from .validators import canonical_timezone, validate_timezone

TIMEZONE_COOKIE = "tz"
# "12" or "24": how the browser's locale writes times (static/js/timezone.js).
TIME_FORMAT_COOKIE = "tf"


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
    """Renders times in the viewer's zone, on their clock (12- or 24-hour:
    ``core.timeformat``, ``request.time_format``).

    Signed-in users: their ``User.timezone``. Anonymous visitors: the ``tz``
    cookie set from the browser, else UTC. ``request.timezone_name`` names it
    so templates can say which zone a time is in; ``request.timezone_source``
    says where it came from.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name, source = None, "default"
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.timezone:
            name, source = user.timezone, "user"
        if name is None:
            name = timezone_from_cookie(request)
            source = "cookie" if name else "default"
        name = name or "UTC"
        try:
            zone = zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            name, zone = "UTC", zoneinfo.ZoneInfo("UTC")
        request.timezone_name = name
        # Where the zone came from: "user", "cookie", or "default" (UTC, the
        # browser has not told us yet: timezone.js reloads once when it can).
        request.timezone_source = source
        timezone.activate(zone)
        # The clock: the person's choice, else what their browser uses.
        time_format = ""
        if user is not None and user.is_authenticated:
            time_format = user.time_format
        time_format = time_format or request.COOKIES.get(TIME_FORMAT_COOKIE, "")
        request.time_format = "12" if time_format == "12" else "24"
        timeformat.activate(request.time_format)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
            timeformat.deactivate()
