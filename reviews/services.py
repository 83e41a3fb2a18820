"""Every change to reviews, replies and reports, and the rating aggregates.

Who may do what (DESIGN §4):

- the session's mentee writes one review, once the session has ended (by the
  clock) and was neither cancelled nor a no-show; they may edit it for
  ``REVIEW_EDIT_WINDOW`` after writing it. Nobody else ever writes or changes
  a rating or its text: not the mentor, not staff.
- staff hide and restore reviews (hiding resolves the open reports on it), and
  delete them;
- the review's mentor posts, changes and deletes one public reply;
- any signed-in user but the author reports a review, once.

Each change that alters a mentor's visible reviews (submit, edit, hide,
restore, delete) locks the mentor's profile row, recomputes ``rating_avg``,
``rating_count`` and the per-star ``rating_<n>_count`` from the visible reviews
with one aggregate in the same transaction, and marks that mentor's cached page
stale on commit (the directory's too when the average or count on the card
changed). The lock is the row ``book_session`` locks: reviews of one
mentor queue up, so two concurrent reviews never both write an aggregate that
misses the other.
"""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from accounts.models import User
from core.cache import mentor_changed
from mentorship.models import MentorProfile
from scheduling.models import Session

from .models import (
    FEEDBACK_MAX_LENGTH,
    RATING_MAX,
    RATING_MIN,
    REPLY_MAX_LENGTH,
    REPORT_REASON_MAX_LENGTH,
    Review,
    ReviewReply,
    ReviewReport,
)
from .selectors import (
    STAR_COUNT_FIELDS,
    StoredRating,
    fresh_rating,
    rating_drift,
    star_count_aggregates,
)

REVIEW_EDIT_WINDOW = timedelta(days=7)
HIDE_REASON_MAX_LENGTH = 1000
# Mentors repaired per transaction by ``recompute_ratings``.
RECOMPUTE_BATCH = 1000

ALREADY_REVIEWED = "You have already reviewed this session."
ALREADY_REPORTED = "You have already reported this review."
TRY_AGAIN = "Another change to these reviews was being saved at the same moment. Please try again."


class ReviewRefused(Exception):
    """A review rule was broken; ``str(error)`` tells the user which."""


# --- Checks ---------------------------------------------------------------------------------


def _signed_in(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _is_staff(user) -> bool:
    return _signed_in(user) and user.is_staff


def _clean_rating(rating) -> int:
    """An int from 1 to 5; anything else (a string, a float, a bool) is refused:
    forms convert what people type, the service takes only the number."""
    if type(rating) is not int or not RATING_MIN <= rating <= RATING_MAX:
        raise ReviewRefused(f"Choose a rating from {RATING_MIN} to {RATING_MAX} stars.")
    return rating


def _clean_text(text, *, what: str, max_length: int, required: bool = False) -> str:
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise ReviewRefused(f"The {what} must be text.")
    text = text.strip()
    if "\x00" in text:  # PostgreSQL text cannot hold NUL
        raise ReviewRefused(f"The {what} cannot contain null characters.")
    if len(text) > max_length:
        raise ReviewRefused(f"Keep the {what} to {max_length} characters or fewer.")
    if required and not text:
        raise ReviewRefused(f"Please write the {what}.")
    return text


def _has_review(session: Session) -> bool:
    # The reverse one-to-one accessor: no query when the caller loaded it
    # (``select_related("review")``), one otherwise.
    try:
        session.review  # noqa: B018
    except Review.DoesNotExist:
        return False
    return True


def _session_has_review(session: Session) -> bool:
    """Read fresh, under the mentor's lock (not the possibly stale accessor)."""
    return Review.objects.filter(session=session).exists()


def _review_refusal(
    session: Session, user, now: datetime, *, has_review: Callable[[], bool]
) -> str | None:
    if not _signed_in(user):
        return "Please sign in to review a session."
    if session.mentor.user_id == user.pk:
        return "Mentors cannot review their own sessions."
    if session.mentee.user_id != user.pk:
        return "Only the session's mentee can review it."
    status = session.status_at(now)
    if status == Session.Status.CANCELLED:
        return "A cancelled session cannot be reviewed."
    if status == Session.Status.NO_SHOW:
        return "A session marked as a no-show cannot be reviewed."
    if status != Session.Status.COMPLETED:
        return "You can review this session once it has ended."
    if has_review():  # last: it may cost a query
        return ALREADY_REVIEWED
    return None


def review_refusal(session: Session, user, now: datetime) -> str | None:
    """Why ``user`` may not write a review of ``session`` at ``now`` (a
    sentence for the user), or None when they may. ``submit_review`` refuses
    with the same rule, re-read under its lock.

    Reads ``session.mentor``, ``session.mentee`` and ``session.review``: no
    query when ``session`` was loaded with
    ``select_related("mentor", "mentee", "review")``, at most three otherwise.
    Views answer 404 to non-participants before asking this.
    """
    return _review_refusal(session, user, now, has_review=lambda: _has_review(session))


def edit_refusal(review: Review, user, now: datetime) -> str | None:
    """Why ``user`` may not edit ``review`` at ``now``, or None when they may
    (``edit_review`` refuses with it). Reads ``review.mentee``: no query when
    the review was loaded with it."""
    if not _signed_in(user) or review.mentee.user_id != user.pk:
        return "Only the review's author can edit it."
    if review.is_hidden:
        return "This review was hidden by our moderators and can no longer be edited."
    if now - review.created_at > REVIEW_EDIT_WINDOW:
        return "Reviews can be edited for 7 days after they are written."
    return None


def no_show_refusal_of_reviewed(*, session: Session) -> str | None:
    """A mentee who reviewed a session took part in it: its mentor may not
    mark it a no-show. Registered on ``scheduling.rules.no_show_checks`` by
    ``ReviewsConfig.ready`` (scheduling sits below reviews and never imports
    it). Reads ``session.review``: no query when the session was loaded with
    ``select_related("review")`` (the session page), one otherwise
    (``mark_no_show``, after locking the session, so it sees a review
    committed before the lock)."""
    if _has_review(session):
        return "The mentee has reviewed this session, so it took place."
    return None


# --- Aggregates -----------------------------------------------------------------------------


def _lock_mentor(mentor_pk) -> MentorProfile:
    """The mentor's profile row, locked until the transaction ends."""
    return MentorProfile.objects.select_for_update().get(pk=mentor_pk)


def _store_aggregates(mentor: MentorProfile) -> None:
    """Recompute the locked ``mentor``'s rating (average, count, per-star
    counts) from its visible reviews (one aggregate) and store it (one
    update); the instance gets the new values. Marks the mentor's cached
    page stale on commit, and the directory's when a card's rating changed."""
    old = StoredRating.stored_on(mentor)
    fresh = fresh_rating(Review.objects.filter(mentor=mentor).aggregate(**star_count_aggregates()))
    fields = fresh.as_fields()
    for name, value in fields.items():
        setattr(mentor, name, value)
    # ``updated_at`` is the profile's own edits; a new review is not one.
    MentorProfile.objects.filter(pk=mentor.pk).update(**fields)
    _reviews_changed(mentor, old=old, new=fresh)


def _reviews_changed(
    mentor: MentorProfile, *, old: StoredRating | None = None, new: StoredRating | None = None
) -> None:
    """What caches show ``mentor``'s reviews goes stale on commit: their page
    always; the directory only when the average or count on their card (and
    so perhaps the order) changed, and they are listed. Other mentors' pages,
    the picker and bookable times stay cached."""
    card_changed = old is not None and (old.average, old.count) != (new.average, new.count)
    mentor_changed(mentor.slug, directory=card_changed and mentor.is_accepting_bookings)


def _locked_review(review: Review) -> Review:
    return (
        Review.objects.select_for_update(of=("self",))
        .select_related("mentee", "mentor")
        .get(pk=review.pk)
    )


def _audit(review: Review, by: User, message: str) -> None:
    """A line in the review's admin history: who did what, and why."""
    LogEntry.objects.log_actions(
        user_id=by.pk,
        queryset=[review],
        action_flag=CHANGE,
        change_message=message,
        single_object=True,
    )


# --- Reviews --------------------------------------------------------------------------------


def submit_review(
    *,
    session: Session,
    by: User,
    rating: int,
    feedback: str = "",
    now: datetime | None = None,
) -> Review:
    """``by`` (the session's mentee) reviews ``session``: ``rating`` an int
    from 1 to 5, ``feedback`` optional text.

    Refused (``ReviewRefused``, nothing written) unless the session has ended
    by the clock and was neither cancelled nor a no-show, and has no review
    yet; the one-review-per-session constraint is the backstop when two
    submissions race. Updates the mentor's rating in the same transaction.
    """
    rating = _clean_rating(rating)
    feedback = _clean_text(feedback, what="feedback", max_length=FEEDBACK_MAX_LENGTH)
    if not _signed_in(by):
        raise ReviewRefused("Please sign in to review a session.")
    try:
        with transaction.atomic():
            return _submit(session, by, rating, feedback, now)
    except IntegrityError as error:  # the same session reviewed meanwhile
        raise ReviewRefused(ALREADY_REVIEWED) from error
    except OperationalError as error:  # deadlock, lock timeout, SQLite busy
        raise ReviewRefused(TRY_AGAIN) from error


def _submit(session, by, rating, feedback, now) -> Review:
    mentor = _lock_mentor(session.mentor_id)
    # Re-read under the lock: the session may have been cancelled or marked a
    # no-show, or reviewed, since the caller loaded it.
    locked = (
        Session.objects.select_for_update(of=("self",)).select_related("mentee").get(pk=session.pk)
    )
    locked.mentor = mentor
    now = now or timezone.now()
    refusal = _review_refusal(locked, by, now, has_review=lambda: _session_has_review(locked))
    if refusal:
        raise ReviewRefused(refusal)
    review = Review(
        session=locked,
        mentor=mentor,
        mentee=locked.mentee,
        rating=rating,
        feedback=feedback,
    )
    review.clean_fields(exclude=["session", "mentor", "mentee", "hidden_by"])
    review.save(force_insert=True)
    _store_aggregates(mentor)
    return review


def edit_review(
    *,
    review: Review,
    by: User,
    rating: int,
    feedback: str,
    now: datetime | None = None,
) -> Review:
    """The author changes their rating and feedback, within
    ``REVIEW_EDIT_WINDOW`` of writing the review and while it is not hidden.
    Updates the mentor's rating in the same transaction."""
    rating = _clean_rating(rating)
    feedback = _clean_text(feedback, what="feedback", max_length=FEEDBACK_MAX_LENGTH)
    try:
        with transaction.atomic():
            mentor = _lock_mentor(review.mentor_id)
            locked = _locked_review(review)
            refusal = edit_refusal(locked, by, now or timezone.now())
            if refusal:
                raise ReviewRefused(refusal)
            locked.rating, locked.feedback = rating, feedback
            locked.save(update_fields=["rating", "feedback", "updated_at"])
            _store_aggregates(mentor)
            locked.mentor = mentor
            return locked
    except OperationalError as error:
        raise ReviewRefused(TRY_AGAIN) from error


def hide_review(*, review: Review, by: User, reason: str = "") -> Review:
    """Staff take ``review`` off the public pages (its rating stops counting)
    and resolve the open reports on it; ``reason`` goes into the review's
    admin history. Hiding a hidden review only resolves its open reports."""
    if not _is_staff(by):
        raise ReviewRefused("Only staff can hide reviews.")
    reason = _clean_text(reason, what="reason", max_length=HIDE_REASON_MAX_LENGTH)
    with transaction.atomic():
        mentor = _lock_mentor(review.mentor_id)
        locked = _locked_review(review)
        now = timezone.now()
        if not locked.is_hidden:
            locked.is_hidden, locked.hidden_at, locked.hidden_by = True, now, by
            locked.save(update_fields=["is_hidden", "hidden_at", "hidden_by", "updated_at"])
            _store_aggregates(mentor)
            _audit(locked, by, f"Hidden. Reason: {reason}" if reason else "Hidden.")
        ReviewReport.objects.filter(review=locked, status=ReviewReport.Status.OPEN).update(
            status=ReviewReport.Status.RESOLVED, resolved_at=now, resolved_by=by
        )
        locked.mentor = mentor
        return locked


def restore_review(*, review: Review, by: User) -> Review:
    """Staff put a hidden review back on the public pages (its rating counts
    again). Restoring a visible review changes nothing."""
    if not _is_staff(by):
        raise ReviewRefused("Only staff can restore reviews.")
    with transaction.atomic():
        mentor = _lock_mentor(review.mentor_id)
        locked = _locked_review(review)
        if locked.is_hidden:
            locked.is_hidden, locked.hidden_at, locked.hidden_by = False, None, None
            locked.save(update_fields=["is_hidden", "hidden_at", "hidden_by", "updated_at"])
            _store_aggregates(mentor)
            _audit(locked, by, "Restored.")
        locked.mentor = mentor
        return locked


def delete_review(*, review: Review, by: User) -> bool:
    """Staff remove ``review`` for good, with its reply and reports (they go
    by cascade); the mentor's rating is recomputed without it. Returns True,
    or False when it was already gone: deleting twice is a no-op.

    Hiding is the usual moderation and keeps the record; deleting does not,
    and so frees the session: its mentee may review it again, under the
    usual rules (the session ended and was neither cancelled nor a no-show).
    The back office also requires ``reviews.delete_review`` and logs the
    deletion in the admin history itself; this service writes no log entry.
    """
    if not _is_staff(by):
        raise ReviewRefused("Only staff can delete reviews.")
    with transaction.atomic():
        try:
            mentor = _lock_mentor(review.mentor_id)
            locked = _locked_review(review)
        except (MentorProfile.DoesNotExist, Review.DoesNotExist):
            return False  # deleted meanwhile (with its mentor, perhaps)
        locked.delete()
        # Only a visible review counted, but recomputing is always right.
        _store_aggregates(mentor)
        return True


# --- Replies and reports --------------------------------------------------------------------


def reply_to_review(*, review: Review, by: User, body: str) -> ReviewReply:
    """The review's mentor posts their one public reply, or changes it.
    Not on a hidden review."""
    body = _clean_text(body, what="reply", max_length=REPLY_MAX_LENGTH, required=True)
    with transaction.atomic():
        # Locking the review queues two replies to it, so the second updates
        # the first instead of tripping over the one-reply constraint.
        locked = _locked_review(review)
        if not _signed_in(by) or locked.mentor.user_id != by.pk:
            raise ReviewRefused("Only the mentor can reply to this review.")
        if locked.is_hidden:
            raise ReviewRefused("This review is hidden, so it cannot get a reply.")
        reply = ReviewReply.objects.filter(review=locked).first()
        if reply is None:
            reply = ReviewReply(review=locked, body=body)
            reply.clean_fields(exclude=["review"])
            reply.save(force_insert=True)
        elif reply.body != body:
            reply.body = body
            reply.save(update_fields=["body", "updated_at"])
        _reviews_changed(locked.mentor)
        return reply


def delete_reply(*, reply: ReviewReply, by: User) -> None:
    """The mentor takes their reply down. Deleting a deleted reply is a no-op."""
    with transaction.atomic():
        current = (
            ReviewReply.objects.select_for_update(of=("self",))
            .select_related("review__mentor")
            .filter(pk=reply.pk)
            .first()
        )
        if current is None:
            return
        if not _signed_in(by) or current.review.mentor.user_id != by.pk:
            raise ReviewRefused("Only the mentor can delete this reply.")
        current.delete()
        _reviews_changed(current.review.mentor)


def _already_reported(review: Review, user: User) -> bool:
    return ReviewReport.objects.filter(review=review, reporter=user).exists()


def report_review(*, review: Review, by: User, reason: str) -> ReviewReport:
    """A signed-in user other than its author flags ``review`` for staff,
    once. Reports change nothing public until staff act on them."""
    if not _signed_in(by):
        raise ReviewRefused("Please sign in to report a review.")
    reason = _clean_text(reason, what="reason", max_length=REPORT_REASON_MAX_LENGTH, required=True)
    current = Review.objects.select_related("mentee").get(pk=review.pk)
    if current.mentee.user_id == by.pk:
        raise ReviewRefused("You cannot report your own review.")
    if current.is_hidden:
        raise ReviewRefused("This review has already been hidden.")
    if _already_reported(current, by):
        raise ReviewRefused(ALREADY_REPORTED)
    report = ReviewReport(review=current, reporter=by, reason=reason)
    report.clean_fields(exclude=["review", "reporter", "resolved_by"])
    try:
        with transaction.atomic():
            report.save(force_insert=True)
    except IntegrityError as error:  # a double submit racing itself
        raise ReviewRefused(ALREADY_REPORTED) from error
    return report


def resolve_reports(*, reports: Iterable[ReviewReport], by: User) -> int:
    """Staff close reports without hiding the review (it is fine as it is).
    Returns how many open reports were resolved."""
    if not _is_staff(by):
        raise ReviewRefused("Only staff can resolve reports.")
    return ReviewReport.objects.filter(
        pk__in=[report.pk for report in reports], status=ReviewReport.Status.OPEN
    ).update(status=ReviewReport.Status.RESOLVED, resolved_at=timezone.now(), resolved_by=by)


# --- Repair ---------------------------------------------------------------------------------


def recompute_ratings(
    *, mentors: Iterable[MentorProfile] | None = None
) -> list[tuple[MentorProfile, StoredRating, StoredRating]]:
    """Make every mentor's (or ``mentors``') stored rating (average, count and
    per-star counts) agree with their visible reviews. Returns ``(mentor, old,
    new)`` for each mentor it changed.

    The services keep the aggregates right; this repairs rows written around
    them (raw SQL, a restored backup). Drifted mentors are locked and
    re-read before they are fixed, so a review submitted meanwhile is counted.
    """
    drifted = [mentor.pk for mentor, _stored, _fresh in rating_drift(mentors=mentors)]
    changed = []
    for start in range(0, len(drifted), RECOMPUTE_BATCH):
        with transaction.atomic():
            changed += _repair(drifted[start : start + RECOMPUTE_BATCH])
    return changed


def _repair(mentor_pks) -> list:
    locked = list(
        MentorProfile.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(pk__in=mentor_pks)
        .order_by("pk")  # the order ``book_session`` locks in: no deadlocks
    )
    fresh = {
        row["mentor_id"]: fresh_rating(row)
        for row in Review.objects.filter(mentor_id__in=mentor_pks)
        .values("mentor_id")
        .annotate(**star_count_aggregates())
        .order_by()
    }
    nothing = StoredRating.from_star_counts([0] * len(STAR_COUNT_FIELDS))
    changed = []
    for mentor in locked:
        old = StoredRating.stored_on(mentor)
        new = fresh.get(mentor.pk, nothing)
        if old != new:
            for name, value in new.as_fields().items():
                setattr(mentor, name, value)
            changed.append((mentor, old, new))
    if changed:
        MentorProfile.objects.bulk_update(
            [mentor for mentor, _old, _new in changed], list(nothing.as_fields())
        )
        for mentor, old, new in changed:
            _reviews_changed(mentor, old=old, new=new)
    return changed
