"""A mentor's session types: ``/mentors/<slug>/session-types/`` (owner only)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from mentorship.models import MentorProfile

from .. import session_types as services
from ..forms import SessionTypeForm
from ..models import SessionType


def _own_mentor(request, slug: str) -> MentorProfile:
    """The mentor profile at ``slug`` if it is the acting user's; 404 for anyone
    else (staff included: they use the admin)."""
    return get_object_or_404(MentorProfile.objects.owned_by(request.user), slug=slug)


def _own_session_type(mentor: MentorProfile, type_slug: str) -> SessionType:
    return get_object_or_404(SessionType, mentor=mentor, slug=type_slug)


def _service_errors(form, error: ValidationError) -> None:
    """Errors the service found: on their field when the form has it, else on the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


@login_required
@require_http_methods(["GET", "POST"])
def session_types(request, slug):
    """``/mentors/<slug>/session-types/``: the mentor's types; POST adds one."""
    mentor = _own_mentor(request, slug)
    if request.method == "POST":
        form = SessionTypeForm(request.POST)
        if form.is_valid():
            try:
                created = services.create_session_type(mentor=mentor, **form.cleaned_data)
            except ValidationError as error:
                _service_errors(form, error)
            else:
                messages.success(request, f"“{created.name}” was added.")
                return redirect("scheduling:session_types", slug=mentor.slug)
        messages.error(request, "Nothing was saved: please correct the fields marked below.")
    else:
        form = SessionTypeForm()
    types = SessionType.objects.filter(mentor=mentor).annotate(session_count=Count("sessions"))
    return render(
        request,
        "scheduling/session_type_list.html",
        {"mentor": mentor, "session_types": types, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def session_type_edit(request, slug, type_slug):
    mentor = _own_mentor(request, slug)
    session_type = _own_session_type(mentor, type_slug)
    if request.method == "POST":
        form = SessionTypeForm(request.POST, instance=session_type)
        if form.is_valid():
            try:
                services.update_session_type(session_type=session_type, **form.cleaned_data)
            except ValidationError as error:
                _service_errors(form, error)
            else:
                messages.success(request, f"“{session_type.name}” was saved.")
                return redirect("scheduling:session_types", slug=mentor.slug)
        messages.error(request, "Nothing was saved: please correct the fields marked below.")
        # The form wrote the rejected values onto the instance: show the stored ones.
        session_type.refresh_from_db()
    else:
        form = SessionTypeForm(instance=session_type)
    return render(
        request,
        "scheduling/session_type_form.html",
        {"mentor": mentor, "session_type": session_type, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def session_type_delete(request, slug, type_slug):
    """GET asks for confirmation; POST deletes, or deactivates a type that
    sessions were booked with."""
    mentor = _own_mentor(request, slug)
    session_type = _own_session_type(mentor, type_slug)
    if request.method == "POST":
        if services.remove_session_type(session_type=session_type):
            messages.success(request, f"“{session_type.name}” was deleted.")
        else:
            messages.info(
                request,
                f"“{session_type.name}” has booked sessions, so it was deactivated instead "
                "of deleted: mentees can no longer book it, and those sessions keep it.",
            )
        return redirect("scheduling:session_types", slug=mentor.slug)
    return render(
        request,
        "scheduling/session_type_confirm_delete.html",
        {
            "mentor": mentor,
            "session_type": session_type,
            "has_sessions": session_type.sessions.exists(),
        },
    )
