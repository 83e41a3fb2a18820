"""The mentor's availability editor: weekly hours, date overrides, time off and
a live preview of the bookable times. Owner only: everyone else, staff
included (they use the admin), gets 404.

Every form here works as a plain HTML form (a POST answered by the whole
page, or a redirect once something is saved) and, with htmx, in place: the
same POST with ``HX-Request`` is answered by the section it concerns
(``_availability_swap.html``), plus the preview when something was saved.

The weekly hours are edited without saving: the buttons (a day on or off,
add or remove a range, copy a day to chosen days, undo that copy) post the
whole form with ``action`` naming the edit, and get the form back edited;
only ``action=save`` (or no action) stores the week.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone as django_timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from core.timeformat import format_time_of_day
from mentorship.models import MentorProfile

from .. import availability as services
from ..availability import WEEKDAY_CODES, WEEKDAY_NAMES, day_label
from ..forms import (
    MAX_RANGES_PER_DAY,
    DateOverrideForm,
    TimeOffForm,
    Week,
    WeeklyHoursForm,
    add_range,
    copy_day,
    day_names,
    parse_day,
    remove_range,
    toggle_day,
    week_data,
    week_of,
)
from ..models import Availability
from ..slots import available_slots

NOTHING_SAVED = "Nothing was saved: please correct the fields marked below."
# The weekly hours say it beside their Save button, under the fields.
WEEK_NOT_SAVED = "Nothing was saved: please correct the fields marked above."
NOT_SAVED_YET = "Not saved yet: press “Save weekly hours” to keep it."
PREVIEW_DAYS = 14


def _mentor_for_owner(request, slug: str) -> MentorProfile:
    return get_object_or_404(
        MentorProfile.objects.owned_by(request.user).select_related("user"), slug=slug
    )


def _weekdays_of(row: Availability) -> list[int]:
    for part in row.recurrence.splitlines()[0].split(";"):
        if part.upper().startswith("BYDAY="):
            codes = part.split("=", 1)[1].split(",")
            return [WEEKDAY_CODES.index(code) for code in codes if code in WEEKDAY_CODES]
    return []


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def _hours(ranges) -> str:
    return ", ".join(
        f"{format_time_of_day(start)}–{format_time_of_day(end)}" for start, end in ranges
    )


def _short_day(day: date, *, year: bool) -> str:
    return f"{day:%a} {day.day} {day:%b}" + (f" {day.year}" if year else "")


def describe_time_off(start: datetime, end: datetime) -> str:
    """Time off from ``start`` to ``end`` (naive wall-clock times, ``end``
    excluded) as a person reads it. Time off "until 24 Dec" is stored ending
    at 25 Dec 00:00 and reads “until the end of Thu 24 Dec”, never “25 Dec
    00:00”: “Thu 24 Dec 2026, all day”, “Tue 1 Dec – Thu 24 Dec 2026”,
    “Thu 24 Dec 2026, 10:00–14:00”, “Tue 1 Dec, 10:00 until the end of Thu 3
    Dec 2026”."""
    whole_start, whole_end = start.time() == time.min, end.time() == time.min
    last_day = end.date() - timedelta(days=1) if whole_end else end.date()
    two_years = start.year != last_day.year
    if whole_start and whole_end:
        if start.date() == last_day:
            return f"{_short_day(last_day, year=True)}, all day"
        return f"{_short_day(start.date(), year=two_years)} – {_short_day(last_day, year=True)}"
    if start.date() == last_day and not whole_end:
        return (
            f"{_short_day(start.date(), year=True)}, "
            f"{format_time_of_day(start.time())}–{format_time_of_day(end.time())}"
        )
    since = _short_day(start.date(), year=two_years)
    if not whole_start:
        since += f", {format_time_of_day(start.time())}"
    if whole_end:
        return f"{since} until the end of {_short_day(last_day, year=True)}"
    return f"{since} until {_short_day(last_day, year=True)}, {format_time_of_day(end.time())}"


# --- What each section shows ---------------------------------------------------------------


def _rows(mentor: MentorProfile) -> list[Availability]:
    return list(Availability.objects.filter(mentor=mentor).order_by("start"))


def _preview_context(mentor: MentorProfile, now: datetime) -> dict:
    """The next 14 days' bookable times of the mentor's first active session
    type, grouped by day in the mentor's zone (times as ``datetime.time``,
    shown on the reader's clock)."""
    zone = ZoneInfo(mentor.user.timezone)
    session_type = mentor.session_types.active().first()
    days: dict[date, list[time]] = {}
    if session_type is not None:
        for slot in available_slots(
            mentor, session_type, now, now + timedelta(days=PREVIEW_DAYS), now=now
        ):
            local = slot.start.astimezone(zone)
            days.setdefault(local.date(), []).append(local.time())
    return {
        "mentor": mentor,
        "zone_name": mentor.user.timezone,
        "session_type": session_type,
        "preview_days": [
            {"day": day, "label": day_label(day), "times": times} for day, times in days.items()
        ],
        "preview_range_days": PREVIEW_DAYS,
    }


def _stored_weekly(rows: list[Availability]) -> tuple[dict[int, list], set[str]]:
    """The weekly hours among ``rows`` (weekday → sorted local (start, end))
    and the zones they were stored in."""
    weekly: dict[int, list] = {}
    zones = set()
    for row in rows:
        if services.is_weekly(row):
            row_zone = ZoneInfo(row.timezone)
            zones.add(row.timezone)
            for weekday in _weekdays_of(row):
                weekly.setdefault(weekday, []).append(
                    (row.start.astimezone(row_zone).time(), row.end.astimezone(row_zone).time())
                )
    return {weekday: sorted(ranges) for weekday, ranges in weekly.items()}, zones


@dataclass
class WeeklyState:
    """The weekly form as shown after a request: the form, what to say, and
    which element to focus (its id) or open."""

    form: WeeklyHoursForm
    notice: str = ""
    is_error: bool = False
    dirty: bool = False
    focus: str = ""
    active_day: int | None = None
    undo: str = ""  # the days a copy replaced, as they were, as form data
    undo_source: int | None = None
    open_menu: int | None = None  # a copy menu left open, with ``menu_error``
    menu_error: str = ""


def _weekly_context(state: WeeklyState) -> dict:
    groups = state.form.groups()
    for group in groups:
        group["keep_open"] = group["has_errors"] or state.active_day in group["weekdays"]
    return {
        "weekly_form": state.form,
        "example_times": f"{_hours([(time(9), time(12))])} and {_hours([(time(14), time(17))])}",
        "weekly_groups": groups,
        "weekly_notice": state.notice,
        "weekly_notice_is_error": state.is_error,
        "weekly_dirty": state.dirty,
        "weekly_undo": state.undo,
        "weekly_undo_source": state.undo_source,
        "weekly_open_menu": state.open_menu,
        "weekly_menu_error": state.menu_error,
        **({"focus": state.focus} if state.focus else {}),
    }


def _overrides_context(
    rows, today: date, *, form: DateOverrideForm | None = None, notice: str = "", focus: str = ""
) -> dict:
    overrides = [
        {
            "day": override.day,
            "label": day_label(override.day),
            "is_day_off": override.is_day_off,
            "hours": _hours(override.ranges),
        }
        for override in services.date_overrides(rows, since=today)
    ]
    return {
        "overrides": overrides,
        "override_form": form
        or DateOverrideForm(initial={"date": today + timedelta(days=1), "kind": "off"}),
        "override_notice": notice,
        "override_open": form is not None and bool(form.errors),
        **({"focus": focus} if focus else {}),
    }


def _time_off_context(
    rows, now: datetime, *, form: TimeOffForm | None = None, notice: str = "", focus: str = ""
) -> dict:
    """Time off not over yet (what has ended is no longer listed)."""
    time_off = [
        {
            "id": row.pk,
            "label": describe_time_off(
                _local(row.start, ZoneInfo(row.timezone)), _local(row.end, ZoneInfo(row.timezone))
            ),
            "timezone": row.timezone,
        }
        for row in rows
        if row.kind == Availability.Kind.BLOCKED and row.end > now
    ]
    return {
        "time_off": time_off,
        "time_off_form": form or TimeOffForm(),
        "time_off_notice": notice,
        "time_off_open": form is not None and bool(form.errors),
        **({"focus": focus} if focus else {}),
    }


def _page_context(mentor: MentorProfile, **states) -> dict:
    now = django_timezone.now()
    zone_name = mentor.user.timezone
    today = now.astimezone(ZoneInfo(zone_name)).date()
    rows = _rows(mentor)
    weekly, stored_zones = _stored_weekly(rows)
    weekly_state = states.get("weekly") or WeeklyState(form=WeeklyHoursForm(weekly=weekly))
    return {
        "zone_name": zone_name,
        "other_stored_zones": sorted(stored_zones - {zone_name}),
        "today": today,
        **_preview_context(mentor, now),
        **_time_off_context(rows, now, **states.get("time_off", {})),
        **_overrides_context(rows, today, **states.get("overrides", {})),
        **_weekly_context(weekly_state),
    }


def _render_page(request, mentor: MentorProfile, **states):
    return render(request, "scheduling/availability_edit.html", _page_context(mentor, **states))


def _render_section(request, mentor: MentorProfile, section: str, context: dict, *, saved: bool):
    """The htmx answer: one section, and the preview when something was saved."""
    now = django_timezone.now()
    context = {
        "mentor": mentor,
        "zone_name": mentor.user.timezone,
        "section": f"scheduling/_availability_{section}.html",
        "refresh_preview": saved,
        **context,
    }
    if saved:
        context.update(_preview_context(mentor, now))
    return render(request, "scheduling/_availability_swap.html", context)


def _render_weekly(request, mentor: MentorProfile, state: WeeklyState):
    if request.htmx:
        return _render_section(request, mentor, "weekly", _weekly_context(state), saved=False)
    return _render_page(request, mentor, weekly=state)


# --- The weekly hours ----------------------------------------------------------------------


def _parse_action(value: str) -> tuple[str, list[int]]:
    """``"copy:3"`` → ("copy", [3]); "save" → ("save", []); anything unknown
    or malformed → ("show", []): the posted week shown again, nothing saved."""
    name, _, rest = value.partition(":")
    parts = rest.split(":") if rest else []
    expected = {"save": 0, "toggle": 1, "add": 1, "remove": 2, "copy": 1, "undo": 0}
    if expected.get(name) != len(parts) or not all(part.isdigit() for part in parts):
        return "show", []
    numbers = [int(part) for part in parts]
    if numbers and numbers[0] > 6:  # a weekday
        return "show", []
    if name == "remove" and numbers[1] >= MAX_RANGES_PER_DAY:  # a row
        return "show", []
    return name, numbers


def _undo_data(week: Week, weekdays: list[int]) -> str:
    """The rows of ``weekdays`` in ``week``, as form data (what an undo puts back)."""
    data = week_data(week)
    return urlencode(
        {
            name: value
            for name, value in data.items()
            if any(name.startswith(f"day{weekday}-") for weekday in weekdays)
        }
    )


def _edited(request, action: str, numbers: list[int]) -> WeeklyState:
    """The weekly form after the edit ``action`` on the posted week; nothing saved."""
    week: Week = week_of(request.POST)
    shown: dict = {"dirty": True}
    focus_field = ""
    if action == "toggle":
        [weekday] = numbers
        week = toggle_day(week, weekday)
        turned = "on" if week[weekday] else "off"
        shown.update(
            focus=f"toggle-{weekday}",
            active_day=weekday,
            notice=f"{WEEKDAY_NAMES[weekday]} turned {turned}. {NOT_SAVED_YET}",
        )
    elif action == "add":
        [weekday] = numbers
        week = add_range(week, weekday)
        focus_field = f"day{weekday}-{len(week[weekday]) - 1}-start"
        shown.update(
            active_day=weekday,
            notice=f"A range was added to {WEEKDAY_NAMES[weekday]}. {NOT_SAVED_YET}",
        )
    elif action == "remove":
        weekday, index = numbers
        week = remove_range(week, weekday, index)
        shown.update(
            focus=f"add-{weekday}" if week[weekday] else f"toggle-{weekday}",
            active_day=weekday,
            notice=f"A range was removed from {WEEKDAY_NAMES[weekday]}. {NOT_SAVED_YET}",
        )
    elif action == "copy":
        [source] = numbers
        chosen = {
            int(value) for value in request.POST.getlist(f"copy{source}-to") if value.isdigit()
        }
        targets = sorted(chosen & (set(range(7)) - {source}))
        if targets:
            shown.update(
                undo=_undo_data(week, targets),
                undo_source=source,
                focus="weekly-undo",
                active_day=source,
                notice=(
                    f"Copied {WEEKDAY_NAMES[source]}'s hours to {day_names(targets)}. "
                    f"{NOT_SAVED_YET}"
                ),
            )
            week = copy_day(week, source=source, targets=targets)
        else:
            shown.update(
                open_menu=source,
                focus=f"copy{source}-to-{1 if source == 0 else 0}",
                active_day=source,
                menu_error=f"Choose the days to copy {WEEKDAY_NAMES[source]}'s hours to.",
            )
    elif action == "undo":
        before = QueryDict(request.POST.get("undo", ""))
        earlier = week_of(before)
        for weekday in range(7):
            if f"day{weekday}-rows" in before:
                week[weekday] = earlier[weekday]
        source = request.POST.get("undo_source", "")
        if source.isdigit() and int(source) < 7:
            shown.update(focus=f"copy-{source}", active_day=int(source))
        shown["notice"] = f"The copy was undone. {NOT_SAVED_YET}"
    form = WeeklyHoursForm(week_data(week))
    if focus_field in form.fields:
        form.fields[focus_field].widget.attrs["autofocus"] = True
    return WeeklyState(form=form, **shown)


@login_required
@require_http_methods(["GET", "POST"])
def availability(request, slug):
    """The editor page. Its POST edits the weekly hours without saving
    (``action``: ``toggle:<day>``, ``add:<day>``, ``remove:<day>:<row>``,
    ``copy:<day>`` with ``copy<day>-to`` days, ``undo``) or saves them (no
    action, or ``save``)."""
    mentor = _mentor_for_owner(request, slug)
    if request.method != "POST":
        return _render_page(request, mentor)

    action, numbers = _parse_action(request.POST.get("action", "save"))
    if action != "save":
        return _render_weekly(request, mentor, _edited(request, action, numbers))

    form = WeeklyHoursForm(request.POST)
    if form.is_valid():
        try:
            services.save_weekly_hours(mentor=mentor, weekly=form.weekly)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if not request.htmx:
                messages.success(request, "Your weekly hours were saved.")
                return redirect("scheduling:availability", slug=mentor.slug)
            weekly, _zones = _stored_weekly(_rows(mentor))
            state = WeeklyState(
                form=WeeklyHoursForm(weekly=weekly),
                notice="Your weekly hours were saved.",
                focus="weekly-save",
            )
            return _render_section(request, mentor, "weekly", _weekly_context(state), saved=True)
    form.focus_first_error()
    state = WeeklyState(form=form, notice=WEEK_NOT_SAVED, is_error=True, dirty=True)
    return _render_weekly(request, mentor, state)


# --- Date overrides and time off -------------------------------------------------------------


def _answer(request, mentor, section: str, *, notice: str, form=None, focus: str = ""):
    """After a change to the overrides or the time off: the section again for
    htmx (with ``notice``, and the preview when saved), else the page with the
    form's errors, or a redirect with ``notice`` as a message once saved."""
    saved = form is None or not form.errors
    if not request.htmx:
        if saved:
            messages.success(request, notice)
            return redirect("scheduling:availability", slug=mentor.slug)
        return _render_page(request, mentor, **{section: {"form": form, "notice": notice}})
    now = django_timezone.now()
    rows = _rows(mentor)
    options = {"notice": notice, "focus": focus, "form": None if saved else form}
    if section == "overrides":
        today = now.astimezone(ZoneInfo(mentor.user.timezone)).date()
        context = _overrides_context(rows, today, **options)
        return _render_section(request, mentor, "overrides", context, saved=saved)
    context = _time_off_context(rows, now, **options)
    return _render_section(request, mentor, "time_off", context, saved=saved)


@login_required
@require_POST
def override_add(request, slug):
    mentor = _mentor_for_owner(request, slug)
    form = DateOverrideForm(request.POST)
    if form.is_valid():
        day = form.cleaned_data["date"]
        try:
            override = services.set_date_override(mentor=mentor, day=day, ranges=form.ranges)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if override.is_day_off:
                notice = f"{day_label(day)} is now a day off."
            else:
                notice = f"{day_label(day)} now has these hours: {_hours(override.ranges)}."
            return _answer(request, mentor, "overrides", notice=notice, focus="id_date")
    form.focus_first_error()
    return _answer(request, mentor, "overrides", notice=NOTHING_SAVED, form=form)


@login_required
@require_POST
def override_remove(request, slug, day):
    mentor = _mentor_for_owner(request, slug)
    parsed = parse_day(day)
    if parsed is None:
        raise Http404("No such date.")
    if services.remove_date_override(mentor=mentor, day=parsed):
        notice = f"{day_label(parsed)} has its weekly hours back."
    else:
        notice = f"{day_label(parsed)} had no override."
    return _answer(request, mentor, "overrides", notice=notice, focus="date-overrides-title")


@login_required
@require_POST
def time_off_add(request, slug):
    mentor = _mentor_for_owner(request, slug)
    form = TimeOffForm(request.POST)
    if form.is_valid():
        try:
            services.add_time_off(mentor=mentor, start=form.start, end=form.end)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            notice = (
                f"Time off added: {describe_time_off(form.start, form.end)} "
                f"({mentor.user.timezone})."
            )
            return _answer(request, mentor, "time_off", notice=notice, focus="id_start_date")
    form.focus_first_error()
    return _answer(request, mentor, "time_off", notice=NOTHING_SAVED, form=form)


@login_required
@require_POST
def time_off_remove(request, slug, pk):
    mentor = _mentor_for_owner(request, slug)
    if not services.remove_time_off(mentor=mentor, time_off_id=pk):
        raise Http404("No such time off.")
    return _answer(
        request, mentor, "time_off", notice="The time off was removed.", focus="time-off-title"
    )


@login_required
@require_safe
@vary_on_headers("HX-Request")
def availability_preview(request, slug):
    """The preview of bookable times: the partial for htmx, a small page otherwise."""
    mentor = _mentor_for_owner(request, slug)
    context = _preview_context(mentor, django_timezone.now())
    if request.htmx:
        return render(request, "scheduling/_availability_preview.html", context)
    return render(request, "scheduling/availability_preview.html", context)
