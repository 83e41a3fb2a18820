"""The mentor's availability editor: weekly hours, date overrides, time off and
a live preview of the bookable times. Owner only: everyone else, staff
included (they use the admin), gets 404."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone as django_timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from mentorship.models import MentorProfile

from .. import availability as services
from ..availability import WEEKDAY_CODES, WEEKDAY_NAMES, day_label
from ..forms import (
    DateOverrideForm,
    TimeOffForm,
    WeeklyHoursForm,
    add_row,
    copy_day,
    parse_day,
)
from ..models import Availability
from ..slots import available_slots

NOTHING_SAVED = "Nothing was saved: please correct the fields marked below."
PREVIEW_DAYS = 14
DEFAULT_COPY_TARGETS = [0, 1, 2, 3, 4]


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


def _preview_context(mentor: MentorProfile, now: datetime) -> dict:
    """The next 14 days' bookable times of the mentor's first active session
    type, grouped by day in the mentor's zone."""
    zone = ZoneInfo(mentor.user.timezone)
    session_type = mentor.session_types.active().first()
    days: dict[date, list[str]] = {}
    if session_type is not None:
        for slot in available_slots(
            mentor, session_type, now, now + timedelta(days=PREVIEW_DAYS), now=now
        ):
            local = slot.start.astimezone(zone)
            days.setdefault(local.date(), []).append(f"{local:%H:%M}")
    return {
        "mentor": mentor,
        "zone_name": mentor.user.timezone,
        "session_type": session_type,
        "preview_days": [
            {"day": day, "label": day_label(day), "times": times} for day, times in days.items()
        ],
        "preview_range_days": PREVIEW_DAYS,
    }


def _editor_context(
    mentor: MentorProfile,
    *,
    weekly_form: WeeklyHoursForm | None = None,
    override_form: DateOverrideForm | None = None,
    time_off_form: TimeOffForm | None = None,
    copy_targets: list[int] | None = None,
) -> dict:
    now = django_timezone.now()
    zone_name = mentor.user.timezone
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    rows = list(Availability.objects.filter(mentor=mentor).order_by("start"))

    weekly: dict[int, list] = {}
    stored_zones = set()
    for row in rows:
        if services.is_weekly(row):
            row_zone = ZoneInfo(row.timezone)
            stored_zones.add(row.timezone)
            for weekday in _weekdays_of(row):
                weekly.setdefault(weekday, []).append(
                    (row.start.astimezone(row_zone).time(), row.end.astimezone(row_zone).time())
                )
    weekly = {weekday: sorted(ranges) for weekday, ranges in weekly.items()}

    time_off = [
        {
            "id": row.pk,
            "start": _local(row.start, ZoneInfo(row.timezone)),
            "end": _local(row.end, ZoneInfo(row.timezone)),
            "timezone": row.timezone,
        }
        for row in rows
        if row.kind == Availability.Kind.BLOCKED and row.end > now
    ]
    overrides = [
        {
            "day": override.day,
            "label": day_label(override.day),
            "is_day_off": override.is_day_off,
            "ranges": [f"{start:%H:%M}–{end:%H:%M}" for start, end in override.ranges],
        }
        for override in services.date_overrides(rows, since=today)
    ]
    return {
        "mentor": mentor,
        "zone_name": zone_name,
        "other_stored_zones": sorted(stored_zones - {zone_name}),
        "weekly_form": weekly_form or WeeklyHoursForm(weekly=weekly),
        "override_form": override_form
        or DateOverrideForm(initial={"date": today + timedelta(days=1), "kind": "off"}),
        "time_off_form": time_off_form or TimeOffForm(),
        "copy_targets": DEFAULT_COPY_TARGETS if copy_targets is None else copy_targets,
        "weekday_names": list(enumerate(WEEKDAY_NAMES)),
        "overrides": overrides,
        "time_off": time_off,
        "today": today,
        **_preview_context(mentor, now),
    }


def _render_editor(request, mentor, **forms):
    return render(request, "scheduling/availability_edit.html", _editor_context(mentor, **forms))


def _weekday_list(values) -> list[int]:
    days = []
    for value in values:
        if value.isdigit() and int(value) < 7:
            days.append(int(value))
    return days


def _names(weekdays: list[int]) -> str:
    names = [WEEKDAY_NAMES[weekday] for weekday in sorted(weekdays)]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


@login_required
@require_http_methods(["GET", "POST"])
def availability(request, slug):
    """The editor page; its POST saves the weekly hours, or (buttons ``copy_from``
    and ``add_range``) re-shows the unsaved form with a day copied or a row added."""
    mentor = _mentor_for_owner(request, slug)
    if request.method != "POST":
        return _render_editor(request, mentor)

    copy_targets = _weekday_list(request.POST.getlist("copy_to"))
    if request.POST.get("copy_from", "") in {str(day) for day in range(7)}:
        source = int(request.POST["copy_from"])
        targets = [day for day in copy_targets if day != source] or [
            day for day in range(7) if day != source
        ]
        data = copy_day(request.POST, source=source, targets=targets)
        messages.info(
            request,
            f"Copied {WEEKDAY_NAMES[source]}'s hours to {_names(targets)}. "
            "Not saved yet: press “Save weekly hours” to keep them.",
        )
        return _render_editor(
            request, mentor, weekly_form=WeeklyHoursForm(data), copy_targets=copy_targets
        )
    if request.POST.get("add_range", "") in {str(day) for day in range(7)}:
        data = add_row(request.POST, weekday=int(request.POST["add_range"]))
        return _render_editor(
            request, mentor, weekly_form=WeeklyHoursForm(data), copy_targets=copy_targets
        )

    form = WeeklyHoursForm(request.POST)
    if form.is_valid():
        try:
            services.save_weekly_hours(mentor=mentor, weekly=form.weekly)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Your weekly hours were saved.")
            return redirect("scheduling:availability", slug=mentor.slug)
    messages.error(request, NOTHING_SAVED)
    return _render_editor(request, mentor, weekly_form=form, copy_targets=copy_targets)


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
                messages.success(request, f"{day_label(day)} is now a day off.")
            else:
                hours = ", ".join(f"{start:%H:%M}–{end:%H:%M}" for start, end in override.ranges)
                messages.success(request, f"{day_label(day)} now has these hours: {hours}.")
            return redirect("scheduling:availability", slug=mentor.slug)
    messages.error(request, NOTHING_SAVED)
    return _render_editor(request, mentor, override_form=form)


@login_required
@require_POST
def override_remove(request, slug, day):
    mentor = _mentor_for_owner(request, slug)
    parsed = parse_day(day)
    if parsed is None:
        raise Http404("No such date.")
    if services.remove_date_override(mentor=mentor, day=parsed):
        messages.success(request, f"{day_label(parsed)} has its weekly hours back.")
    else:
        messages.info(request, f"{day_label(parsed)} had no override.")
    return redirect("scheduling:availability", slug=mentor.slug)


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
            messages.success(
                request,
                f"Time off added: {form.start:%Y-%m-%d %H:%M} to {form.end:%Y-%m-%d %H:%M} "
                f"({mentor.user.timezone}).",
            )
            return redirect("scheduling:availability", slug=mentor.slug)
    messages.error(request, NOTHING_SAVED)
    return _render_editor(request, mentor, time_off_form=form)


@login_required
@require_POST
def time_off_remove(request, slug, pk):
    mentor = _mentor_for_owner(request, slug)
    if not services.remove_time_off(mentor=mentor, time_off_id=pk):
        raise Http404("No such time off.")
    messages.success(request, "The time off was removed.")
    return redirect("scheduling:availability", slug=mentor.slug)


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
