import hashlib
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from django.views.decorators.vary import vary_on_headers
from django.views.static import serve

from core.cache import (
    cached_under_directory_versions,
    mentor_page_versions,
    store_under_directory_versions,
)
from reviews.views import mentor_reviews_context
from scheduling.selectors import next_available_times
from scheduling.timefmt import wall_clock

from . import selectors, services
from .forms import MenteeProfileForm, MentorProfileForm, social_link_formset
from .models import MenteeProfile, MentorProfile

logger = logging.getLogger(__name__)


def home(request):
    return render(request, "mentorship/home.html")


# --- Directory and mentor pages ------------------------------------------------------


def directory_fragments(query: selectors.DirectoryQuery) -> dict[str, str]:
    """The directory's filters (``sidebar``) and one page of results
    (``results``) for ``query``, as HTML.

    Cached together under one key per query, with the profiles and directory
    versions they were rendered under stored beside them, so that a cached
    page costs one cache round trip (the counters and the fragments in one
    ``get_many``). Rendered only when that is missing or stale.
    """
    digest = hashlib.sha256(query.cache_key.encode()).hexdigest()
    key = f"mentorship:directory-page:{digest}"
    cache_versions, fragments = cached_under_directory_versions(key)
    if fragments is None:
        context = {
            "query": query,
            "page": selectors.directory_page(query),
            "tags": selectors.all_tags(),
            "sorts": [(key, label) for key, (label, _order) in selectors.SORTS.items()],
        }
        fragments = {
            "sidebar": render_to_string("mentorship/_directory_sidebar.html", context),
            "results": render_to_string("mentorship/_directory_results.html", context),
        }
        store_under_directory_versions(key, cache_versions, fragments)
    return {name: mark_safe(html) for name, html in fragments.items()}  # noqa: S308


@require_safe
@vary_on_headers("HX-Request")
def directory(request):
    """``/mentors/``: search, tag filters, sorts, 20 per page. htmx swaps the results."""
    query = selectors.DirectoryQuery.from_params(request.GET)
    fragments = directory_fragments(query)
    if request.htmx and not request.htmx.history_restore_request:
        return HttpResponse(fragments["results"])
    return render(request, "mentorship/directory.html", {"query": query, "fragments": fragments})


@require_safe
def mentor_detail(request, slug):
    """The public mentor page. Mentors not taking bookings are visible only to
    themselves and staff; anyone else gets 404."""
    # The counters in one round trip: the fragments are keyed by the profiles
    # and this mentor's versions, the next times by the profiles and times.
    cache_versions = mentor_page_versions(slug)
    mentor = selectors.mentor_for_page(
        slug=slug, viewer=request.user, version=cache_versions.fragments
    )
    session_types, next_times = (
        next_available_times(mentor, cache_versions=cache_versions.times_versions)
        if mentor.is_accepting_bookings
        else ([], [])
    )
    # Tags, links and reviews are read inside their cached fragments, only
    # when those are missing.
    return render(
        request,
        "mentorship/mentor_detail.html",
        {
            "mentor": mentor,
            "is_owner": mentor.user_id == request.user.pk,
            # Read from the clock on every request, outside the cached fragments.
            "mentor_local_time": (
                wall_clock(mentor.user.timezone, timezone.now()) if mentor.user.timezone else ""
            ),
            "fragments_version": cache_versions.fragments,
            "session_types": session_types,
            "session_type": session_types[0] if session_types else None,
            "next_times": next_times,
            **mentor_reviews_context(mentor=mentor, page=1, on_reviews_page=False),
        },
    )


# --- Becoming a mentor or a mentee --------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def become_mentor(request):
    existing = MentorProfile.objects.owned_by(request.user).first()
    if existing is not None:
        return redirect("mentorship:mentor_edit", slug=existing.slug)
    if request.method == "POST":
        mentor = services.become_mentor(user=request.user)
        messages.success(
            request, "You are now a mentor. Tell mentees about yourself, then save your profile."
        )
        return redirect("mentorship:mentor_edit", slug=mentor.slug)
    return render(request, "mentorship/become_mentor.html")


@login_required
@require_http_methods(["GET", "POST"])
def become_mentee(request):
    if MenteeProfile.objects.filter(user=request.user).exists():
        return redirect("mentorship:mentee_edit")
    if request.method == "POST":
        services.become_mentee(user=request.user)
        messages.success(request, "Welcome! Tell mentors what you'd like to work on.")
        return redirect("mentorship:mentee_edit")
    return render(request, "mentorship/become_mentee.html")


# --- Editing your own profiles -------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def mentor_edit(request, slug):
    """Only the owner edits; everyone else (staff included: they use the admin) gets 404."""
    mentor = get_object_or_404(
        MentorProfile.objects.owned_by(request.user).select_related("user"), slug=slug
    )
    if request.method == "POST":
        form = MentorProfileForm(request.POST, instance=mentor)
        links = social_link_formset(mentor, data=request.POST)
        if form.is_valid() and links.is_valid():
            try:
                with transaction.atomic():
                    services.update_mentor_profile(
                        mentor=mentor,
                        changes=form.changes(),
                        tags=list(form.cleaned_data["expertise"]),
                        links=links.links(),
                    )
            except services.ProfileError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "Your mentor profile was saved.")
                return redirect("mentorship:mentor_edit", slug=mentor.slug)
        messages.error(request, "Nothing was saved: please correct the fields marked below.")
        mentor.refresh_from_db()
    else:
        form = MentorProfileForm(instance=mentor)
        links = social_link_formset(mentor)
    return render(
        request, "mentorship/mentor_edit.html", {"mentor": mentor, "form": form, "links": links}
    )


@login_required
@require_http_methods(["GET", "POST"])
def mentee_edit(request):
    mentee = MenteeProfile.objects.filter(user=request.user).first()
    if mentee is None:
        return redirect("mentorship:become_mentee")
    if request.method == "POST":
        form = MenteeProfileForm(request.POST, instance=mentee)
        if form.is_valid():
            services.update_mentee_profile(
                mentee=mentee,
                biography=form.cleaned_data["biography"],
                goals=form.cleaned_data["goals"],
            )
            messages.success(request, "Your mentee profile was saved.")
            return redirect("mentorship:mentee_edit")
        messages.error(request, "Nothing was saved: please correct the fields marked below.")
    else:
        form = MenteeProfileForm(instance=mentee)
    return render(request, "mentorship/mentee_edit.html", {"form": form})


# --- Health ----------------------------------------------------------------------------


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: the database is unreachable")
        return "error"
    return "ok"


def _broker_state() -> str:
    if not settings.CELERY_BROKER_URL:
        return "not configured"
    from mentorship.celery import app

    try:
        with app.connection_for_write(url=settings.CELERY_BROKER_URL, connect_timeout=2) as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, timeout=3)
    except Exception:
        logger.exception("Health check: the broker is unreachable")
        return "error"
    return "ok"


def _cache_state() -> str:
    try:
        cache.set("healthz", "ok", 10)
        return "ok" if cache.get("healthz") == "ok" else "error"
    except Exception:
        logger.exception("Health check: the cache is unreachable")
        return "error"


@never_cache
@require_safe
def healthz(request):
    """JSON state of the database, broker and cache.

    503 only when the database is down: without it nothing works. A broker
    outage is reported as "degraded" with 200, because bookings still commit
    their notifications to the outbox and the sweep delivers them later.
    """
    state = {"database": _database_state(), "broker": _broker_state(), "cache": _cache_state()}
    if state["database"] != "ok":
        overall, status = "error", 503
    elif "error" in state.values():
        overall, status = "degraded", 200
    else:
        overall, status = "ok", 200
    return JsonResponse({"status": overall, **state}, status=status)


# --- Uploaded files --------------------------------------------------------------------


@require_safe
def media(request, path):
    """``/media/<path>``: uploaded files (avatars), when Django serves them
    itself (``DJANGO_SERVE_MEDIA=1``, one machine). The content type comes
    from the extension (``accounts.avatars`` stores ``.webp`` only; the
    accounts app registers that type), and SecurityMiddleware adds
    ``X-Content-Type-Options: nosniff``, so browsers never guess another.
    ``MEDIA_ROOT`` is read per request, like the storage that writes there."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)
