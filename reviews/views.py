"""Reviews over HTTP: the mentee's review form, a mentor page's reviews, the
mentor's reply and reports.

Every object is fetched through the acting user, so that what is not theirs
is a 404: a session through its participants (``for_participant``; staff
moderate in the admin, not here), a reply through the review's mentor, a
report target through the mentors the user may see. The rules themselves
(who may review, for how long, once) live in ``reviews.services``; the views
parse, call them and show their refusals.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from core.cache import mentor_page_versions
from core.redirects import safe_next
from mentorship.models import MentorProfile
from mentorship.selectors import mentor_for_page
from scheduling.models import Session

from .forms import ReplyForm, ReportForm, ReviewForm
from .models import Review, ReviewReply
from .selectors import rating_summary, visible_reviews
from .services import (
    REVIEW_EDIT_WINDOW,
    ReviewRefused,
    delete_reply,
    edit_refusal,
    edit_review,
    reply_to_review,
    report_review,
    review_refusal,
    submit_review,
)

PAGE_SIZE = 10
MAX_PAGE = 100_000  # bounds the cache keys a query string can make


# --- The mentee's review form ----------------------------------------------------------------


def _session_for_review(user, session_id) -> Session:
    """The session if ``user`` is its mentee or mentor, with its review; else 404."""
    return get_object_or_404(
        Session.objects.for_participant(user).select_related(
            "mentor__user", "mentee__user", "review__mentee"
        ),
        pk=session_id,
    )


def review_of(session: Session) -> Review | None:
    """The session's review, read from ``select_related("review")`` (no query)."""
    return getattr(session, "review", None)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def session_review(request, session_id):
    """``/sessions/<uuid>/review/``: the session's mentee writes their review,
    or changes it within 7 days; after that (or once moderators hid it) it is
    shown read-only with the reason.

    The mentor is sent back to the session with a message (they know the
    session exists, so a 404 would only confuse); anyone else gets a 404.
    Refusals and invalid input re-render the page with the reason, as 400.
    """
    session = _session_for_review(request.user, session_id)
    if session.mentee.user_id != request.user.pk:
        messages.error(
            request,
            "Only the mentee can review a session. Reviews of your sessions appear on your "
            "mentor page.",
        )
        return redirect("scheduling:session_detail", session_id=session.pk)

    now = timezone.now()
    review = review_of(session)
    if review is None:
        refusal, refused_edit = review_refusal(session, request.user, now), None
    else:
        refusal, refused_edit = None, edit_refusal(review, request.user, now)
    status = 200
    if request.method == "POST":
        form = ReviewForm(request.POST)
        if not refusal and form.is_valid():
            try:
                _save_review(session, review, request.user, form.cleaned_data, now)
            except ReviewRefused as error:
                form.add_error(None, str(error))
            else:
                if review is None:
                    messages.success(
                        request, f"Thanks — your review is on {_name(session.mentor)}'s page."
                    )
                else:
                    messages.success(request, "Your review was updated.")
                return redirect("scheduling:session_detail", session_id=session.pk)
        status = 400
    elif review is not None:
        form = ReviewForm(initial={"rating": review.rating, "feedback": review.feedback})
    else:
        form = ReviewForm()
    return render(
        request,
        "reviews/review_form.html",
        {
            "session": session,
            "mentor_name": _name(session.mentor),
            "review": review,
            "refusal": refusal,
            "edit_refusal": refused_edit,
            "editable_until": review.created_at + REVIEW_EDIT_WINDOW if review else None,
            "form": form,
        },
        status=status,
    )


def _save_review(session, review, user, data, now) -> Review:
    if review is None:
        return submit_review(
            session=session, by=user, rating=data["rating"], feedback=data["feedback"], now=now
        )
    return edit_review(
        review=review, by=user, rating=data["rating"], feedback=data["feedback"], now=now
    )


def _name(mentor: MentorProfile) -> str:
    return mentor.user.name or "your mentor"


# --- A mentor's reviews -----------------------------------------------------------------------


def page_number(raw) -> int:
    """``?page=`` as a number from 1; anything else is page 1."""
    try:
        number = int(str(raw))
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def mentor_reviews_context(*, mentor: MentorProfile, page: int, on_reviews_page: bool) -> dict:
    """The summary and one page of ``mentor``'s visible reviews, newest first.

    The summary reads the counts stored on the profile; the page is one walk
    of the mentor's visible-reviews index (its count comes from the summary,
    so no COUNT of the reviews). Lazy: the templates cache the part that
    shows them under the mentor page's fragments version (bumped by every
    review service for that mentor), and only a missing fragment queries.
    """
    summary = SimpleLazyObject(lambda: rating_summary(mentor))

    def load_page():
        paginator = Paginator(visible_reviews(mentor), PAGE_SIZE)
        paginator.count = summary.count  # instead of the cached COUNT query
        return paginator.get_page(page)

    return {
        "summary": summary,
        "reviews_page": SimpleLazyObject(load_page),
        "reviews_page_number": page,
        "on_reviews_page": on_reviews_page,
        # Where replies and reports come back to.
        "reviews_here": (
            f"{reverse('reviews:mentor_reviews', kwargs={'slug': mentor.slug})}?page={page}"
            if on_reviews_page
            else reverse("mentorship:mentor_detail", kwargs={"slug": mentor.slug})
        ),
    }


@require_safe
def mentor_reviews(request, slug):
    """``/mentors/<slug>/reviews/?page=N``: all of a mentor's visible reviews,
    10 a page. Visible to whoever may see the mentor page (else 404)."""
    fragments_version = mentor_page_versions(slug).fragments
    mentor = mentor_for_page(slug=slug, viewer=request.user, version=fragments_version)
    return render(
        request,
        "reviews/mentor_reviews.html",
        {
            "mentor": mentor,
            "is_owner": mentor.user_id == request.user.pk,
            "fragments_version": fragments_version,
            **mentor_reviews_context(
                mentor=mentor, page=page_number(request.GET.get("page")), on_reviews_page=True
            ),
        },
    )


def _back_to_reviews(request, review: Review):
    """Where a reply or a report returns: the page it was sent from (``next``,
    same site only), else the mentor page at the review."""
    target = safe_next(request, _next_of(request)).split("#")[0]
    page = target or reverse("mentorship:mentor_detail", kwargs={"slug": review.mentor.slug})
    return HttpResponseRedirect(f"{page}#review-{review.pk}")


def _next_of(request) -> str:
    return request.POST.get("next") or request.GET.get("next") or ""


# --- The mentor's reply ------------------------------------------------------------------------


def _review_for_its_mentor(user, review_id) -> Review:
    """A visible review of ``user``'s own mentor page, with its reply; else 404."""
    return get_object_or_404(
        Review.objects.visible()
        .filter(mentor__user=user)
        .select_related("mentor__user", "mentee__user", "session", "reply"),
        pk=review_id,
    )


def reply_of(review: Review) -> ReviewReply | None:
    return getattr(review, "reply", None)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def review_reply(request, review_id):
    """``/reviews/<uuid>/reply/``: the review's mentor writes or changes their
    one public reply. Anyone else, staff included, gets a 404."""
    review = _review_for_its_mentor(request.user, review_id)
    reply = reply_of(review)
    status = 200
    if request.method == "POST":
        form = ReplyForm(request.POST)
        if form.is_valid():
            try:
                reply_to_review(review=review, by=request.user, body=form.cleaned_data["body"])
            except ReviewRefused as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request, "Your reply was updated." if reply else "Your reply is published."
                )
                return _back_to_reviews(request, review)
        status = 400
    else:
        form = ReplyForm(initial={"body": reply.body if reply else ""})
    return render(
        request,
        "reviews/review_reply.html",
        {
            "review": review,
            "reply": reply,
            "form": form,
            "next": safe_next(request, _next_of(request)),
        },
        status=status,
    )


@login_required
@require_POST
def review_reply_delete(request, review_id):
    """``/reviews/<uuid>/reply/delete/``: the review's mentor removes their reply."""
    review = _review_for_its_mentor(request.user, review_id)
    reply = reply_of(review)
    if reply is None:
        raise Http404("This review has no reply.")
    try:
        delete_reply(reply=reply, by=request.user)
    except ReviewRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Your reply was deleted.")
    return _back_to_reviews(request, review)


# --- Reports -----------------------------------------------------------------------------------


def _reportable_review(user, review_id) -> Review:
    """A visible review on a mentor page ``user`` may see; else 404."""
    return get_object_or_404(
        Review.objects.visible()
        .filter(mentor__in=MentorProfile.objects.visible_to(user))
        .select_related("mentor__user", "mentee__user", "session"),
        pk=review_id,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@vary_on_headers("HX-Request")
def review_report(request, review_id):
    """``/reviews/<uuid>/report/``: any signed-in user but the review's author
    tells staff what is wrong with it, once. GET shows the form (a page, or
    with htmx the small form that replaces the "Report" button); POST
    ``reason`` files the report."""
    review = _reportable_review(request.user, review_id)
    context = {"review": review, "next": safe_next(request, _next_of(request))}
    partial = request.htmx and not request.htmx.history_restore_request
    template = "reviews/_report_form.html" if partial else "reviews/review_report.html"
    if review.mentee.user_id == request.user.pk:
        notice = "This is your own review: you can change it from the session page."
        if partial:
            return render(request, template, {**context, "notice": notice})
        messages.info(request, notice)
        return _back_to_reviews(request, review)

    form = ReportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            report_review(review=review, by=request.user, reason=form.cleaned_data["reason"])
        except ReviewRefused as error:
            notice = str(error)
        else:
            notice = "Thank you — our moderators will look at this review."
        if partial:
            return render(request, template, {**context, "notice": notice})
        messages.info(request, notice)
        return _back_to_reviews(request, review)
    # htmx swaps only 2xx answers: the partial with its errors comes back as 200.
    status = 400 if request.method == "POST" and not partial else 200
    return render(request, template, {**context, "form": form}, status=status)
