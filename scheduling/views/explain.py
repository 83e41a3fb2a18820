"""``/mentors/<slug>/availability/explain/``: why a time is or is not bookable.

For the mentor and staff only (everyone else 404; visitors are sent to sign
in). Two ways to ask:

- JSON for outside checks: ``?type=<session-type-slug>&start=<ISO-8601 with
  an offset>`` answers ``{"bookable": bool, "reasons": [{"code", "message",
  "url"}]}`` (``scheduling.explain``); a missing or bad parameter, or a type
  the mentor does not have, is a 400 with ``{"error": …}``.
- A form (date, time and session type in the mentor's zone) with
  ``format=html``: the whole page without JavaScript; with htmx the panel the
  availability editor loads, or just the answer when the form asks from the
  panel (``HX-Target: explain-answer``).
"""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone as django_timezone
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from core.timeformat import format_time_of_day
from mentorship.models import MentorProfile

from ..explain import explain
from ..forms import TimeOfDaySelect
from ..models import SessionType
from ..slots import wall_time_exists
from ..timefmt import local_time

SLUG = re.compile(r"[-a-zA-Z0-9_]{1,80}")
# Times asked about must lie this near now: beyond, the arithmetic overflows
# (year 9999) and no rule could make a time bookable anyway.
REACH = timedelta(days=10 * 366)
ANSWER_TARGET = "explain-answer"
ZONE_HELP = "explain-zone-help"  # the note that the date and time are the mentor's zone's


class BadRequest(Exception):
    """A query parameter is wrong; the message says which and how."""


def _mentor_for_owner_or_staff(request, slug: str) -> MentorProfile:
    """The mentor at ``slug`` if it is the user's own, or for staff; else 404."""
    mentors = MentorProfile.objects.select_related("user")
    if not request.user.is_staff:
        mentors = mentors.owned_by(request.user)
    return get_object_or_404(mentors, slug=slug)


def _session_type(types: list[SessionType], slug: str) -> SessionType:
    if not slug:
        raise BadRequest("“type” is missing: give the slug of a session type, such as intro-call.")
    if SLUG.fullmatch(slug):
        for session_type in types:
            if session_type.slug == slug:
                return session_type
    raise BadRequest(f"This mentor has no session type “{slug[:80]}”.")


def _near_now(moment: datetime) -> datetime:
    if abs(moment - django_timezone.now()) > REACH:
        raise BadRequest("“start” must be within ten years of now.")
    return moment


def _json_query(params, types: list[SessionType]) -> tuple[SessionType, datetime]:
    session_type = _session_type(types, params.get("type", ""))
    value = params.get("start", "")
    if not value:
        raise BadRequest("“start” is missing: give an ISO-8601 time such as 2026-06-02T14:00:00Z.")
    try:
        start = datetime.fromisoformat(value)
    except ValueError as error:
        raise BadRequest(
            "“start” must be an ISO-8601 time such as 2026-06-02T14:00:00Z."
        ) from error
    if start.tzinfo is None or start.utcoffset() is None:
        raise BadRequest("“start” must say its offset from UTC, such as Z or +02:00.")
    try:
        start = start.astimezone(UTC)
    except OverflowError as error:  # year 1 with an offset east of UTC
        raise BadRequest("“start” must be within ten years of now.") from error
    return session_type, _near_now(start)


@login_required
@require_safe
@vary_on_headers("HX-Request", "HX-Target")
def availability_explain(request, slug):
    """JSON, or with ``format=html`` the form and its answer (see the module)."""
    mentor = _mentor_for_owner_or_staff(request, slug)
    types = list(
        SessionType.objects.filter(mentor=mentor).order_by("-is_active", "duration_minutes", "name")
    )
    if request.htmx or request.GET.get("format") == "html":
        return _panel(request, mentor, types)
    try:
        session_type, start = _json_query(request.GET, types)
    except BadRequest as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse(explain(mentor, session_type, start).as_json())


class ExplainForm(forms.Form):
    """A date, a time (wall clock in the mentor's zone) and a session type."""

    date = forms.DateField(
        widget=forms.DateInput(
            attrs={"type": "date", "class": "form-control", "aria-describedby": ZONE_HELP},
            format="%Y-%m-%d",
        )
    )
    # A list on the reader's clock, as in the editor (``TimeOfDaySelect``);
    # any minute given in the address is listed and kept.
    time = forms.TimeField(widget=TimeOfDaySelect({"aria-describedby": ZONE_HELP}))
    type = forms.ChoiceField(
        label="Session type", widget=forms.Select(attrs={"class": "form-select"})
    )

    def __init__(self, *args, mentor: MentorProfile, types: list[SessionType], **kwargs):
        super().__init__(*args, auto_id="explain-%s", **kwargs)
        self.mentor = mentor
        self.types = types
        self.fields["type"].choices = [
            (each.slug, each.name if each.is_active else f"{each.name} (switched off)")
            for each in types
        ]

    def clean(self):
        cleaned = super().clean()
        day, wall_time = cleaned.get("date"), cleaned.get("time")
        slug = cleaned.get("type")
        if day is None or wall_time is None or slug is None:
            return cleaned
        zone = ZoneInfo(self.mentor.user.timezone)
        local = datetime.combine(day, wall_time.replace(second=0, microsecond=0))
        if abs(day - django_timezone.now().astimezone(zone).date()) > REACH:
            raise forms.ValidationError("Choose a date within ten years of today.")
        if not wall_time_exists(local, zone):
            raise forms.ValidationError(
                f"The clocks skip {format_time_of_day(wall_time)} on that day in {zone.key}: "
                "choose another time."
            )
        # An ambiguous time (the clocks go back) is its first occurrence, as
        # in weekly hours.
        cleaned["start"] = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
        cleaned["session_type"] = next(each for each in self.types if each.slug == slug)
        return cleaned


def _panel(request, mentor: MentorProfile, types: list[SessionType]):
    asked = any(name in request.GET for name in ("date", "time", "type"))
    zone = ZoneInfo(mentor.user.timezone)
    if asked:
        form = ExplainForm(request.GET, mentor=mentor, types=types)
    else:
        first_active = next((each.slug for each in types if each.is_active), None)
        form = ExplainForm(
            mentor=mentor,
            types=types,
            initial={"date": django_timezone.now().astimezone(zone).date(), "type": first_active},
        )
    context = {"mentor": mentor, "form": form, "zone_name": zone.key, "explanation": None}
    if asked and form.is_valid():
        start = form.cleaned_data["start"]
        context["explanation"] = explain(mentor, form.cleaned_data["session_type"], start)
        context["session_type"] = form.cleaned_data["session_type"]
        with django_timezone.override(zone):
            context["asked"] = (
                f"{local_time(start, 'H:i')} on {local_time(start, 'l j F Y', with_zone=False)}"
            )
    if request.htmx and request.htmx.target == ANSWER_TARGET:
        return render(request, "scheduling/_availability_explain_answer.html", context)
    if request.htmx:
        return render(request, "scheduling/_availability_explain_panel.html", context)
    return render(request, "scheduling/availability_explain.html", context)
