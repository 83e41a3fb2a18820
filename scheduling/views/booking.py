"""The slot picker and booking: ``/mentors/<slug>/book/`` (everyone)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone as django_timezone
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from accounts.validators import timezone_names
from core.cache import Versions, versions
from mentorship.models import MentorProfile

from ..booking import BookingRefused, SlotTaken, book_session
from ..forms import PickerQuery
from ..models import SessionType
from ..slots import Slot, available_slots
from ..timefmt import utc_iso, utc_offset_label, utc_range
from .slots import MAX_RANGE_DAYS

PICKER_CACHE_SECONDS = 60

# --- Slot picker (everyone) -----------------------------------------------------------------


@dataclass(frozen=True)
class PickerTime:
    """One bookable time as the picker shows it."""

    start: datetime  # UTC; templates render it in the picker's zone
    end: datetime
    url: str
    chosen: bool

    @property
    def iso(self) -> str:
        return utc_iso(self.start)


@dataclass(frozen=True)
class PickerDay:
    date: date
    times: list[PickerTime]


def next_available_slot(
    mentor: MentorProfile,
    session_type: SessionType,
    after: datetime,
    *,
    now: datetime,
    ignoring=None,
) -> Slot | None:
    """The first slot starting at or after ``after``, up to the booking horizon.

    Searches in chunks of at most 62 days (the slot engine's range, as in the
    JSON endpoint), so it costs two queries per chunk: at most six chunks for
    the longest horizon (365 days), whatever the number of rules or slots.
    """
    horizon_end = now + timedelta(days=mentor.booking_horizon_days)
    chunk_start = after
    while chunk_start <= horizon_end:
        # The horizon is inclusive: a slot may start exactly at it.
        chunk_end = min(
            chunk_start + timedelta(days=MAX_RANGE_DAYS), horizon_end + timedelta(microseconds=1)
        )
        slots = available_slots(
            mentor, session_type, chunk_start, chunk_end, now=now, ignoring=ignoring
        )
        if slots:
            return slots[0]
        chunk_start = chunk_end
    return None


def _listed_mentor_with_types(
    slug: str, profiles_version: int
) -> tuple[MentorProfile, list[SessionType]]:
    """The listed mentor at ``slug`` and their offered session types, or 404.

    The picker is public, so this scope is the same for every visitor: it is
    cached under the profiles version alone (session-type and profile changes
    bump it; bookings do not, so a booking keeps it warm).
    """
    key = f"scheduling:picker-mentor:{profiles_version}:{slug}"
    found = cache.get(key)
    if found is None:
        mentor = get_object_or_404(MentorProfile.objects.listed().select_related("user"), slug=slug)
        found = (mentor, list(SessionType.objects.filter(mentor=mentor).active()))
        cache.set(key, found, PICKER_CACHE_SECONDS * 10)
    return found


def _book_url(mentor: MentorProfile) -> str:
    return reverse("scheduling:book", kwargs={"slug": mentor.slug})


@dataclass(frozen=True)
class PickerMode:
    """Booking a new session (the default) or moving one (``ignoring`` it)."""

    url: str  # where the picker lives and its form posts
    action_label: str = "Book this time"
    ignoring: object = None  # the session being rescheduled
    current: object = None  # that session, to show its time

    @property
    def is_reschedule(self) -> bool:
        return self.ignoring is not None


def _picker_context(
    request, mentor: MentorProfile, query: PickerQuery, now: datetime, mode: PickerMode
) -> dict:
    book_url = mode.url

    def link(**overrides) -> str:
        return f"{book_url}?{query.as_params(**overrides)}"

    context = {
        "mentor": mentor,
        "query": query,
        "mode": mode,
        "book_url": book_url,
        "zone_offset": utc_offset_label(query.zone, query.week),
        "previous_url": link(week=query.previous_week.isoformat()) if query.previous_week else None,
        "next_url": link(week=query.next_week.isoformat()) if query.next_week else None,
        "days": [],
        "chosen": None,
        "has_times": False,
        "next_slot": None,
    }
    session_type = query.session_type
    if session_type is None:
        return context

    start, end = utc_range(query.zone_name, query.week, query.week_end)
    slots = available_slots(mentor, session_type, start, end, now=now, ignoring=mode.ignoring)
    if mode.current is not None:  # its own time is not a new time
        slots = [slot for slot in slots if slot.start != mode.current.start]
    days = [PickerDay(query.week + timedelta(days=offset), []) for offset in range(7)]
    chosen = None
    for slot in slots:
        is_chosen = slot.start == query.chosen_start
        picker_time = PickerTime(
            start=slot.start,
            end=slot.end,
            url=link(start=utc_iso(slot.start)),
            chosen=is_chosen,
        )
        if is_chosen:
            chosen = picker_time
        days[(slot.start.astimezone(query.zone).date() - query.week).days].times.append(picker_time)
    if query.chosen_start is not None and chosen is None:
        query.notices.append("That time is not available: please pick another.")
    context.update(days=days, chosen=chosen, has_times=bool(slots))

    if not slots:
        next_slot = next_available_slot(
            mentor, session_type, max(end, now), now=now, ignoring=mode.ignoring
        )
        if next_slot is not None:
            next_date = next_slot.start.astimezone(query.zone).date()
            context["next_slot"] = next_slot
            context["next_date"] = next_date
            context["next_week_url"] = link(
                week=(next_date - timedelta(days=next_date.weekday())).isoformat()
            )
    return context


@require_http_methods(["GET", "HEAD", "POST"])
@vary_on_headers("HX-Request")
def book(request, slug):
    """``/mentors/<slug>/book/``: pick a session type, a week and a time, in the
    viewer's zone (``?type=&week=&tz=&start=``), then POST ``type``, ``start``
    and ``topic`` to book it. Open to everyone for listed mentors; 404
    otherwise. Bad parameters fall back to defaults with a notice. htmx
    requests get only the days partial.

    Queries: the mentor, the session types, two for the week's slots (and
    two per 62-day chunk searched for the next free date when the week is
    empty), whatever the number of availability rules or slots.
    """
    cache_versions = versions()  # both counters in one round trip
    mentor, offered = _listed_mentor_with_types(slug, cache_versions.profiles)
    if request.method == "POST":
        return _book_post(request, mentor, offered)
    return render_picker(request, mentor, offered, request.GET, cache_versions=cache_versions)


def parse_start(text: str) -> datetime | None:
    """A posted ISO-8601 start as an aware UTC datetime, or None when it is
    not one (naive, garbage, or near datetime's limits where adding a session
    length would overflow)."""
    if "\x00" in text:  # fromisoformat lets some through
        return None
    try:
        start = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if start.tzinfo is None:
            return None
        start = start.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    if not datetime(1900, 1, 1, tzinfo=UTC) <= start <= datetime(9000, 1, 1, tzinfo=UTC):
        return None
    return start


def _book_post(request, mentor: MentorProfile, offered: list[SessionType]):
    type_slug = request.POST.get("type", "")
    start_text = request.POST.get("start", "")
    if not request.user.is_authenticated:
        # Sign in, then come back to the same time, chosen.
        back = f"{_book_url(mentor)}?{urlencode({'type': type_slug, 'start': start_text})}"
        return redirect(f"{reverse('account_login')}?{urlencode({'next': back})}")
    session_type = next((item for item in offered if item.slug == type_slug), None)
    start = parse_start(start_text)
    try:
        if session_type is None:
            raise BookingRefused("This session type is not offered.")
        if start is None:
            raise BookingRefused("That start time is not valid. Please pick one of the times.")
        session = book_session(
            mentee_user=request.user,
            mentor=mentor,
            session_type=session_type,
            start=start,
            topic=request.POST.get("topic", ""),
        )
    except BookingRefused as refusal:
        messages.error(request, str(refusal))
        params = QueryDict(mutable=True)
        if session_type is not None:
            params["type"] = session_type.slug
        if start is not None:
            zone = ZoneInfo(request.timezone_name)
            local = start.astimezone(zone).date()
            params["week"] = (local - timedelta(days=local.weekday())).isoformat()
        status = 409 if isinstance(refusal, SlotTaken) else 400
        return render_picker(request, mentor, offered, params, status=status)
    messages.success(request, "Your session is booked. The details are below.")
    return redirect("scheduling:session_detail", session_id=session.pk)


def render_picker(
    request,
    mentor,
    offered,
    params,
    *,
    status: int = 200,
    mode=None,
    cache_versions: Versions | None = None,
):
    now = django_timezone.now().astimezone(UTC)
    query = PickerQuery.from_params(
        params,
        session_types=offered,
        default_zone=request.timezone_name,
        now=now,
        horizon_days=mentor.booking_horizon_days,
    )
    # The week's times depend on the data (profiles and times versions), the
    # clock (the minute) and the query; without a chosen time (whose booking
    # form carries a CSRF token) they are the same for every visitor: cache them.
    mode = mode or PickerMode(url=_book_url(mentor))
    cacheable = query.chosen_start is None and not query.notices and not mode.is_reschedule
    days_html, key = None, None
    if cacheable:
        version = (cache_versions or versions()).times_key
        key = f"scheduling:picker:{mentor.pk}:{version}:{now:%Y%m%d%H%M}:{query.as_params()}"
        days_html = cache.get(key)
    context = {"mentor": mentor, "query": query, "book_url": mode.url, "mode": mode}
    if days_html is None:
        days_context = _picker_context(request, mentor, query, now, mode)
        days_html = render_to_string("scheduling/_picker_days.html", days_context, request)
        if cacheable:
            cache.set(key, days_html, PICKER_CACHE_SECONDS)
    if request.htmx and not request.htmx.history_restore_request:
        return HttpResponse(days_html, status=status)
    context.update(days_html=days_html, session_types=offered, timezone_names=timezone_names)
    return render(request, "scheduling/picker.html", context, status=status)
