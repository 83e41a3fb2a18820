from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone as django_timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from accounts.validators import known_timezones
from mentorship.cache import versions
from mentorship.models import MentorProfile

from .models import SessionType
from .slots import available_slots

MAX_RANGE_DAYS = 62
SLOTS_CACHE_SECONDS = 60
DEFAULT_RANGE_DAYS = 7


class BadRequest(Exception):
    """A query parameter is wrong; the message says which and how."""


def _parse_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise BadRequest(f"“{name}” must be a date like 2026-03-31.") from error


def _slot_range(params) -> tuple[str, datetime, datetime]:
    """(zone name, UTC start, UTC end) for the dates ``from``..``to`` (inclusive) in ``tz``."""
    zone_name = params.get("tz", "UTC") or "UTC"
    if zone_name not in known_timezones():
        raise BadRequest(
            f"“tz” must be an IANA time zone such as Europe/Berlin, not “{zone_name}”."
        )
    zone = ZoneInfo(zone_name)
    today = django_timezone.now().astimezone(zone).date()
    first = _parse_date(params["from"], "from") if params.get("from") else today
    last = (
        _parse_date(params["to"], "to")
        if params.get("to")
        else first + timedelta(days=DEFAULT_RANGE_DAYS - 1)
    )
    if last < first:
        raise BadRequest("“from” must not be after “to”.")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise BadRequest(f"Ask for at most {MAX_RANGE_DAYS} days at a time.")
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    return zone_name, start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


@require_safe
@cache_control(public=True, max_age=60)
def slots_json(request, slug):
    """``/mentors/<slug>/slots/?type=&from=&to=&tz=``: bookable times as JSON.

    Open to everyone for mentors accepting bookings. ``from``/``to`` are dates in
    ``tz`` (``to`` inclusive, at most 62 days); every bad parameter is a 400
    with ``{"error": …}``.
    """
    # The answer depends on the data (profiles and times versions) and the
    # clock (minimum notice): cache it for the current minute under both.
    minute = django_timezone.now().strftime("%Y%m%d%H%M")
    version = versions().times_key
    key = f"scheduling:slots:{slug}:{version}:{minute}:{request.GET.urlencode()}"
    cached = cache.get(key)
    if cached is not None:
        status, payload = cached
        return JsonResponse(payload, status=status)
    status, payload = _slots_payload(request, slug)
    cache.set(key, (status, payload), SLOTS_CACHE_SECONDS)
    return JsonResponse(payload, status=status)


def _slots_payload(request, slug) -> tuple[int, dict]:
    mentor = get_object_or_404(MentorProfile.objects.listed().select_related("user"), slug=slug)
    try:
        zone_name, start, end = _slot_range(request.GET)
        types = SessionType.objects.filter(mentor=mentor)
        type_slug = request.GET.get("type", "")
        if type_slug:
            session_type = types.filter(slug=type_slug).first()
            if session_type is None or not session_type.is_active:
                raise BadRequest(f"This mentor offers no session type “{type_slug}”.")
        else:
            session_type = types.active().first()
            if session_type is None:
                raise BadRequest("This mentor offers no session types yet.")
    except BadRequest as error:
        return 400, {"error": str(error)}
    slots = available_slots(mentor, session_type, start, end)
    return 200, {
        "mentor": mentor.slug,
        "timezone": zone_name,
        "type": session_type.slug,
        "slots": [{"start": _utc_iso(slot.start), "end": _utc_iso(slot.end)} for slot in slots],
    }
