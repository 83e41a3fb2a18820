"""The slot picker and booking: ``/mentors/<slug>/book/`` (everyone)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from allauth.core.internal import ratelimit
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone as django_timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from accounts.forms import browser_time_format
from accounts.services import AccountExists
from accounts.validators import timezone_names
from core import timeformat
from core.cache import PROFILES_VERSION_KEY, TIMES_VERSION_KEY, Versions, versions
from mentorship.models import MentorProfile

from ..booking import TOPIC_MAX_LENGTH, BookingRefused, SlotTaken, book_session, limit_refusal
from ..forms import GuestBookingForm, PickerQuery
from ..holds import Guest, hold_guest_booking
from ..models import SessionType
from ..slots import Slot, available_slots
from ..timefmt import utc_iso, utc_offset_label, utc_range
from .slots import MAX_RANGE_DAYS

PICKER_CACHE_SECONDS = 60
HELD_KEY = "scheduling:held-session"

# --- Slot picker (everyone) -----------------------------------------------------------------


@dataclass(frozen=True)
class PickerTime:
    """One bookable time as the picker shows it."""

    start: datetime  # UTC; templates render it in the picker's zone
    end: datetime
    url: str
    chosen: bool
    suggested: bool = False  # near a time just refused

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
    before: datetime | None = None,
) -> Slot | None:
    """The first slot starting at or after ``after``, up to the booking horizon
    (or up to ``before``).

    Searches in chunks of at most 62 days (the slot engine's range, as in the
    JSON endpoint), so it costs two queries per chunk: at most six chunks for
    the longest horizon (365 days), whatever the number of rules or slots.
    """
    horizon_end = now + timedelta(days=mentor.booking_horizon_days)
    if before is not None:
        horizon_end = min(horizon_end, before - timedelta(microseconds=1))
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


def _picker_mentor_key(slug: str) -> str:
    return f"scheduling:picker-mentor:{slug}"


def _listed_mentor_with_types(
    slug: str, profiles_version: int, cached=None
) -> tuple[MentorProfile, list[SessionType]]:
    """The listed mentor at ``slug`` and their offered session types, or 404.

    The picker is public, so this scope is the same for every visitor: it is
    cached with the profiles version it was read under (session-type and
    profile changes bump it; bookings do not, so a booking keeps it warm).
    ``cached``: what the cache held at ``_picker_mentor_key`` (fetched with
    the versions, in the same round trip).
    """
    if isinstance(cached, tuple) and len(cached) == 2 and cached[0] == profiles_version:
        return cached[1]
    mentor = get_object_or_404(MentorProfile.objects.listed().select_related("user"), slug=slug)
    found = (mentor, list(SessionType.objects.filter(mentor=mentor).active()))
    cache.set(_picker_mentor_key(slug), (profiles_version, found), PICKER_CACHE_SECONDS * 10)
    return found


# The picker's query parameters (``PickerQuery.from_params``), in the key of
# its cached days; a longer value is never a valid one (no caching).
DAYS_KEY_PARAMS = ("tz", "type", "week")
DAYS_KEY_VALUE_LENGTH = 64


def _days_key(request, slug: str, params, now: datetime) -> str | None:
    """The cache key of the picker's days for this request, from what the
    days depend on besides the data (whose versions are stored with them):
    the mentor, the minute, the reader's clock and zone, and the query as
    given. None when they would not be cached (a time chosen) or a value is
    too long to be a valid one."""
    if params.get("start", "").strip():
        return None
    values = [params.get(name, "").strip() for name in DAYS_KEY_PARAMS]
    if any(len(value) > DAYS_KEY_VALUE_LENGTH for value in values):
        return None
    query = urlencode(list(zip(DAYS_KEY_PARAMS, values, strict=True)))
    return (
        f"scheduling:picker-days:{slug}:{now:%Y%m%d%H%M}:{timeformat.active()}:"
        f"{request.timezone_name}:{query}"
    )


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


@dataclass(frozen=True)
class PickerState:
    """What one visitor brought to the picker besides its query: the topic
    they typed, the time just refused (its neighbours are suggested), their
    details form, an address that already has an account."""

    topic: str = ""
    refused_start: datetime | None = None
    guest_form: object = None
    account_email: str = ""


def _nearest(slots: list[Slot], moment: datetime, count: int = 3) -> set[datetime]:
    """The starts of the ``count`` slots nearest to ``moment``."""
    return {slot.start for slot in sorted(slots, key=lambda slot: abs(slot.start - moment))[:count]}


def _picker_context(
    request,
    mentor: MentorProfile,
    query: PickerQuery,
    now: datetime,
    mode: PickerMode,
    state: PickerState,
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
        "topic": state.topic,
        "account_email": state.account_email,
        "suggested": [],
    }
    session_type = query.session_type
    if session_type is None:
        return context

    def week_slots():
        start, end = utc_range(query.zone_name, query.week, query.week_end)
        slots = available_slots(mentor, session_type, start, end, now=now, ignoring=mode.ignoring)
        if mode.current is not None:  # its own time is not a new time
            slots = [slot for slot in slots if slot.start != mode.current.start]
        return slots, start, end

    slots, start, end = week_slots()
    if not slots and not query.week_given:
        # Nothing asked for and nothing left this week: start at the first
        # week with times (two more queries for the week, as for any week).
        first = next_available_slot(mentor, session_type, now, now=now, ignoring=mode.ignoring)
        if first is not None:
            first_date = first.start.astimezone(query.zone).date()
            query.week = first_date - timedelta(days=first_date.weekday())
            slots, start, end = week_slots()
            context["previous_url"] = (
                link(week=query.previous_week.isoformat()) if query.previous_week else None
            )
            context["next_url"] = (
                link(week=query.next_week.isoformat()) if query.next_week else None
            )
    days = [PickerDay(query.week + timedelta(days=offset), []) for offset in range(7)]
    nearest = _nearest(slots, state.refused_start) if state.refused_start else set()
    chosen, suggested = None, []
    for slot in slots:
        is_chosen = slot.start == query.chosen_start
        picker_time = PickerTime(
            start=slot.start,
            end=slot.end,
            url=link(start=utc_iso(slot.start)),
            chosen=is_chosen,
            suggested=slot.start in nearest,
        )
        if is_chosen:
            chosen = picker_time
        if picker_time.suggested:
            suggested.append(picker_time)
        days[(slot.start.astimezone(query.zone).date() - query.week).days].times.append(picker_time)
    if query.chosen_start is not None and chosen is None:
        query.notices.append("That time is not available: please pick another.")
    context.update(days=days, chosen=chosen, has_times=bool(slots), suggested=suggested)
    if chosen is not None and not request.user.is_authenticated and not mode.is_reschedule:
        context["guest_form"] = state.guest_form or GuestBookingForm()
        context["sign_in_url"] = (
            f"{reverse('account_login')}?"
            f"{urlencode({'next': _chosen_url(mentor, session_type.slug, chosen.iso)})}"
        )

    context["empty_days"] = [day.date for day in days if not day.times]
    if not slots:
        next_slot = next_available_slot(
            mentor, session_type, max(end, now), now=now, ignoring=mode.ignoring
        )
        if next_slot is None and query.week > query.current_week:
            # Past the last bookable week: the times are earlier, not gone.
            next_slot = next_available_slot(
                mentor, session_type, now, now=now, ignoring=mode.ignoring, before=start
            )
            context["earlier"] = next_slot is not None
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
    # One cache round trip: both counters, the mentor and types, and (for a
    # page of times) the cached days, each stored with the versions it was
    # computed under and used only while they are current.
    now = django_timezone.now().astimezone(UTC)
    days_key = _days_key(request, slug, request.GET, now) if request.method != "POST" else None
    keys = [PROFILES_VERSION_KEY, TIMES_VERSION_KEY, _picker_mentor_key(slug)]
    found = cache.get_many([*keys, days_key] if days_key else keys)
    if found.get(PROFILES_VERSION_KEY) is None or found.get(TIMES_VERSION_KEY) is None:
        cache_versions, found = versions(), {}  # after a flush: start the counters
    else:
        cache_versions = Versions(found[PROFILES_VERSION_KEY], found[TIMES_VERSION_KEY])
    mentor, offered = _listed_mentor_with_types(
        slug, cache_versions.profiles, found.get(_picker_mentor_key(slug))
    )
    if request.method == "POST":
        return _book_post(request, mentor, offered)
    return render_picker(
        request,
        mentor,
        offered,
        request.GET,
        cache_versions=cache_versions,
        now=now,
        cached_days=(days_key, found.get(days_key)) if days_key else None,
    )


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


DRAFT_KEY = "scheduling:booking-draft"


def _stash_draft(request, mentor, type_slug: str, start_text: str, topic: str) -> None:
    """Keep what the visitor chose and typed in their session, so that signing
    in, a refusal or picking another time never loses the topic."""
    request.session[DRAFT_KEY] = {
        "mentor": mentor.slug,
        "type": type_slug,
        "start": start_text,
        "topic": topic[:TOPIC_MAX_LENGTH],
    }


def draft_topic(request, mentor) -> str:
    draft = request.session.get(DRAFT_KEY) or {}
    return draft.get("topic", "") if draft.get("mentor") == mentor.slug else ""


def _chosen_url(mentor, type_slug: str, start_text: str) -> str:
    return f"{_book_url(mentor)}?{urlencode({'type': type_slug, 'start': start_text})}"


def _refused_params(request, session_type, start) -> QueryDict:
    """The picker's query after a refusal: the same type, the week of the
    time asked for."""
    params = QueryDict(mutable=True)
    if session_type is not None:
        params["type"] = session_type.slug
    if start is not None:
        zone = ZoneInfo(request.timezone_name)
        local = start.astimezone(zone).date()
        params["week"] = (local - timedelta(days=local.weekday())).isoformat()
    return params


def _guest_holds_allowed(request) -> bool:
    """A few new holds per client address an hour (GUEST_HOLDS_PER_ADDRESS_PER_HOUR),
    counted in the cache that every web process shares."""
    hour = django_timezone.now().strftime("%Y%m%d%H")
    key = f"scheduling:guest-holds:{ratelimit.get_ip(request)}:{hour}"
    cache.add(key, 0, 3600)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, 3600)
        count = 1
    return count <= settings.GUEST_HOLDS_PER_ADDRESS_PER_HOUR


def _book_post(request, mentor: MentorProfile, offered: list[SessionType]):
    type_slug = request.POST.get("type", "")
    start_text = request.POST.get("start", "")
    topic = request.POST.get("topic", "")
    session_type = next((item for item in offered if item.slug == type_slug), None)
    start = parse_start(start_text)
    if not request.user.is_authenticated:
        _stash_draft(request, mentor, type_slug, start_text, topic)
        return _guest_post(request, mentor, offered, session_type, start, topic)
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
            topic=topic,
        )
    except BookingRefused as refusal:
        _stash_draft(request, mentor, type_slug, start_text, topic)
        return _refused(request, mentor, offered, session_type, start, topic, refusal)
    if DRAFT_KEY in request.session:  # no session write when there is none
        del request.session[DRAFT_KEY]
    messages.success(request, "Your session is booked. The details are below.")
    return redirect("scheduling:session_detail", session_id=session.pk)


def _refused(request, mentor, offered, session_type, start, topic, refusal, **extra):
    """The picker again after a refusal: the message, the topic kept, the
    time gone (the engine no longer offers it) and the nearest free times
    highlighted."""
    messages.error(request, str(refusal))
    status = 409 if isinstance(refusal, SlotTaken) else 400
    return render_picker(
        request,
        mentor,
        offered,
        _refused_params(request, session_type, start),
        status=status,
        state=PickerState(topic=topic, refused_start=start, **extra),
    )


def _guest_post(request, mentor, offered, session_type, start, topic):
    """A visitor without an account: sign in instead (keeping everything),
    or give name, email and password and the time is held for them."""
    type_slug = session_type.slug if session_type else request.POST.get("type", "")
    chosen_url = _chosen_url(mentor, type_slug, request.POST.get("start", ""))
    # "Sign in instead", or a form without the visitor's details (a client
    # that posts only the time): sign in and come back to it.
    gave_details = any(name in request.POST for name in ("name", "email", "password"))
    if request.POST.get("action") == "sign-in" or not gave_details:
        messages.info(
            request, "Sign in to book your time. Your choice and what you wrote are kept."
        )
        return redirect(f"{reverse('account_login')}?{urlencode({'next': chosen_url})}")
    form = GuestBookingForm(request.POST)
    chosen_params = QueryDict(mutable=True)
    chosen_params.update({"type": type_slug, "start": request.POST.get("start", "")})

    def chosen_again(status: int = 200, **state):
        """The picker with the time still chosen and what they typed."""
        state = PickerState(topic=topic, **state)
        return render_picker(request, mentor, offered, chosen_params, status=status, state=state)

    if session_type is None or start is None:
        refusal = BookingRefused(
            "This session type is not offered."
            if session_type is None
            else "That start time is not valid. Please pick one of the times."
        )
        return _refused(
            request, mentor, offered, session_type, start, topic, refusal, guest_form=form
        )
    if not form.is_valid():
        return chosen_again(400, guest_form=form)
    if not _guest_holds_allowed(request):
        messages.error(
            request,
            "Too many bookings from your network in the last hour. Please try again later, "
            "or sign in to book.",
        )
        return chosen_again(429, guest_form=form)
    guest = Guest(
        name=form.cleaned_data["name"],
        email=form.cleaned_data["email"],
        password=form.cleaned_data["password"],
        timezone=request.timezone_name,
        time_format=browser_time_format(request),
    )
    try:
        session = hold_guest_booking(
            guest=guest, mentor=mentor, session_type=session_type, start=start, topic=topic
        )
    except AccountExists:
        return chosen_again(account_email=guest.email)
    except BookingRefused as refusal:
        return _refused(
            request, mentor, offered, session_type, start, topic, refusal, guest_form=form
        )
    request.session.pop(DRAFT_KEY, None)
    request.session[HELD_KEY] = str(session.pk)
    return redirect("scheduling:hold_sent", slug=mentor.slug)


@lru_cache(maxsize=1)
def zone_options() -> str:
    """The time zone field's list of every zone, rendered once per process
    (it was a template fragment in the cache: a round trip per page)."""
    options = format_html_join("", '<option value="{}">', ((name,) for name in timezone_names()))
    return format_html('<datalist id="picker-zones">{}</datalist>', options)


def render_picker(
    request,
    mentor,
    offered,
    params,
    *,
    status: int = 200,
    mode=None,
    cache_versions: Versions | None = None,
    state: PickerState | None = None,
    now: datetime | None = None,
    cached_days: tuple | None = None,
):
    """The picker page (or, for htmx, its days). ``cached_days``: the key of
    the days for this request (``_days_key``) and what the cache held there,
    fetched by the caller with the versions; with ``now`` (the minute in that
    key)."""
    now = now or django_timezone.now().astimezone(UTC)
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
    state = state or PickerState(topic=draft_topic(request, mentor))
    cacheable = (
        query.chosen_start is None
        and not query.notices
        and not mode.is_reschedule
        and state.refused_start is None
    )
    days_html, key, version = None, None, None
    if cacheable:
        version = (cache_versions or versions()).times_key
        if cached_days is not None:
            key, stored = cached_days
        else:
            key = _days_key(request, mentor.slug, params, now)
            stored = cache.get(key) if key else None
        if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == version:
            days_html = stored[1]
    # Limits the signed-in mentee is at already: said before they pick.
    limit_notice = (
        limit_refusal(request.user, mentor, now)
        if request.user.is_authenticated and not mode.is_reschedule
        else None
    )
    context = {
        "mentor": mentor,
        "query": query,
        "book_url": mode.url,
        "mode": mode,
        "limit_notice": limit_notice,
    }
    if days_html is None:
        days_context = _picker_context(request, mentor, query, now, mode, state)
        days_context["limit_notice"] = limit_notice
        days_html = render_to_string("scheduling/_picker_days.html", days_context, request)
        if cacheable and key:
            cache.set(key, (version, days_html), PICKER_CACHE_SECONDS)
    if request.htmx and not request.htmx.history_restore_request:
        return HttpResponse(days_html, status=status)
    context.update(days_html=days_html, session_types=offered, zone_options=zone_options())
    return render(request, "scheduling/picker.html", context, status=status)
