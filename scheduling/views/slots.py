"""``/mentors/<slug>/slots/``: a mentor's bookable times as JSON, for scripts and embeds."""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone as django_timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from accounts.validators import known_timezones
from core.cache import versions
from mentorship.models import MentorProfile

from ..models import SessionType
from ..slots import available_slots
from ..timefmt import utc_iso, utc_range

MAX_RANGE_DAYS = 62
SLOTS_CACHE_SECONDS = 60
DEFAULT_RANGE_DAYS = 7


class BadRequest(Exception):
    """A query parameter is wrong; the message says which and how."""


# Dates asked for must lie this near today: slots exist only between now and
# the booking horizon, and dates near year 1 or 9999 overflow the arithmetic.
DATE_REACH = timedelta(days=10 * 366)
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")


def _parse_date(value: str, name: str, today: date) -> date:
    try:
        parsed = date.fromisoformat(value)
    except ValueError as error:
        raise BadRequest(f"“{name}” must be a date like 2026-03-31.") from error
    if abs(parsed - today) > DATE_REACH:
        raise BadRequest(f"“{name}” must be within ten years of today.")
    return parsed


@dataclass(frozen=True)
class SlotQuery:
    """The slots JSON's parameters, checked and normalised."""

    zone_name: str
    first: date
    last: date
    type_slug: str  # "" for the mentor's first active type

    @property
    def cache_part(self) -> str:
        """The parameters in a cache key: short, and the same however asked."""
        return f"{self.zone_name}:{self.first}:{self.last}:{self.type_slug}"


def _slot_query(params) -> SlotQuery:
    """The checked parameters; ``BadRequest`` for the first that is wrong.
    ``from``/``to`` are dates in ``tz``, ``to`` inclusive."""
    zone_name = params.get("tz", "UTC") or "UTC"
    if zone_name not in known_timezones():
        raise BadRequest(
            f"“tz” must be an IANA time zone such as Europe/Berlin, not “{zone_name[:64]}”."
        )
    today = django_timezone.now().astimezone(ZoneInfo(zone_name)).date()
    first = _parse_date(params["from"], "from", today) if params.get("from") else today
    last = (
        _parse_date(params["to"], "to", today)
        if params.get("to")
        else first + timedelta(days=DEFAULT_RANGE_DAYS - 1)
    )
    if last < first:
        raise BadRequest("“from” must not be after “to”.")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise BadRequest(f"Ask for at most {MAX_RANGE_DAYS} days at a time.")
    type_slug = params.get("type", "")
    if type_slug and not SLUG.fullmatch(type_slug):
        raise BadRequest("“type” must be the slug of a session type, such as intro-call.")
    return SlotQuery(zone_name, first, last, type_slug)


@require_safe
@cache_control(public=True, max_age=60)
def slots_json(request, slug):
    """``/mentors/<slug>/slots/?type=&from=&to=&tz=``: bookable times as JSON.

    Open to everyone for mentors accepting bookings. ``from``/``to`` are dates in
    ``tz`` (``to`` inclusive, at most 62 days, within ten years of today);
    every bad parameter is a 400 with ``{"error": …}``.
    """
    try:
        query = _slot_query(request.GET)
    except BadRequest as error:
        return JsonResponse({"error": str(error)}, status=400)
    # The answer depends on the data (profiles and times versions) and the
    # clock (minimum notice): cache it for the current minute under both. The
    # key holds the checked parameters only, so junk in the query string can
    # neither lengthen it nor multiply the entries.
    minute = django_timezone.now().strftime("%Y%m%d%H%M")
    version = versions().times_key
    key = f"scheduling:slots:{slug}:{version}:{minute}:{query.cache_part}"
    cached = cache.get(key)
    if cached is not None:
        status, payload = cached
        return JsonResponse(payload, status=status)
    status, payload = _slots_payload(slug, query)
    cache.set(key, (status, payload), SLOTS_CACHE_SECONDS)
    return JsonResponse(payload, status=status)


def _slots_payload(slug, query: SlotQuery) -> tuple[int, dict]:
    mentor = get_object_or_404(MentorProfile.objects.listed().select_related("user"), slug=slug)
    types = SessionType.objects.filter(mentor=mentor)
    if query.type_slug:
        session_type = types.filter(slug=query.type_slug).first()
        if session_type is None or not session_type.is_active:
            return 400, {"error": f"This mentor offers no session type “{query.type_slug}”."}
    else:
        session_type = types.active().first()
        if session_type is None:
            return 400, {"error": "This mentor offers no session types yet."}
    start, end = utc_range(query.zone_name, query.first, query.last)
    slots = available_slots(mentor, session_type, start, end)
    return 200, {
        "mentor": mentor.slug,
        "timezone": query.zone_name,
        "type": session_type.slug,
        "slots": [{"start": utc_iso(slot.start), "end": utc_iso(slot.end)} for slot in slots],
    }
