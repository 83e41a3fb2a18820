"""Who may do what to a session, now: one function per action.

Each function answers whether ``user`` may do the action to ``session`` at
``now``: ``None`` when they may, else the reason as a sentence for the user.
The services call them on the row they locked and raise ``BookingRefused``
with the reason; the session page shows or hides each action with the same
function (``scheduling.views.sessions``). ``test_session_rules`` checks over
session states × users that the page offers an action exactly when the
service accepts it.

They are pure functions of the session as loaded (and of ``user`` and
``now``): they run no query when the session comes with the relations each
one names. They read the stored ``status``, as the services always have;
the clock enters through the session's ``start`` and ``end``.

What is checked elsewhere, and why:

- ``reschedule_session`` also refuses the session's current start as the new
  time: that is about the requested time, not about who may move what.
- ``review_refusal`` and ``edit_refusal`` live with the reviews
  (``reviews.services``): reviews sit above scheduling.
- Whether a session took place is also a question for higher apps (a
  reviewed session did): they register a check on the ``no_show_checks``
  hook (``core.hooks``; the reviews app does, in ``ReviewsConfig.ready``),
  and ``no_show_refusal`` asks each. Scheduling never imports them.
"""

from datetime import datetime, timedelta

from core.hooks import Hook

from .models import Session

# How long after a session's end its mentor may still mark a no-show.
NO_SHOW_WINDOW = timedelta(days=7)

# Whether a session took place, asked by the apps above scheduling, which
# register from their ``AppConfig.ready()`` a function ``(*, session) -> str |
# None``: the sentence saying why the session cannot be a no-show, or None.
# The reviews app refuses a session its mentee reviewed. A function reads the
# session as the caller loaded it: it should cost no query when the relation
# it needs was loaded, and read fresh otherwise (``mark_no_show`` passes the
# row it locked without it, so the check sees what committed before the lock).
no_show_checks = Hook("no_show_checks")


def _cancellation_cutoff(session: Session) -> timedelta:
    return timedelta(hours=session.mentor.cancellation_cutoff_hours)


def cancel_refusal(session: Session, user, now: datetime) -> str | None:
    """Why ``user`` may not cancel ``session`` at ``now``, or None.

    Its mentor and staff may cancel an upcoming session until it starts; its
    mentee until the mentor's cancellation cutoff before the start. Reads
    ``session.mentor`` and ``session.mentee`` (no query when loaded with
    ``select_related("mentor", "mentee")``).
    """
    is_mentor = session.mentor.user_id == user.pk
    is_mentee = session.mentee.user_id == user.pk
    if not (is_mentor or is_mentee or user.is_staff):
        return "Only the mentor or the mentee can cancel this session."
    if session.status != Session.Status.UPCOMING or session.start <= now:
        return "This session can no longer be cancelled."
    # Mentors and staff may cancel any time before the start; mentees (who
    # are not staff too) up to the cutoff.
    held_to_cutoff = is_mentee and not is_mentor and not user.is_staff
    if held_to_cutoff and session.start - now < _cancellation_cutoff(session):
        return (
            f"Sessions can be cancelled up to {session.mentor.cancellation_cutoff_hours} hours "
            "before they start. Please contact your mentor instead."
        )
    return None


def reschedule_refusal(session: Session, user, now: datetime) -> str | None:
    """Why ``user`` may not move ``session`` to another time at ``now``, or None.

    Only its mentee, while it is upcoming, up to the mentor's cancellation
    cutoff before the start, and while the mentor accepts bookings (a mentor
    cancels instead). Reads ``session.mentor`` and ``session.mentee`` (no
    query when loaded with ``select_related("mentor", "mentee")``).
    """
    if session.mentee.user_id != user.pk:
        return "Only the mentee can pick a new time. You can cancel the session with a note."
    if session.status != Session.Status.UPCOMING or session.start <= now:
        return "This session can no longer be rescheduled."
    if session.start - now < _cancellation_cutoff(session):
        return (
            f"Sessions can be moved up to {session.mentor.cancellation_cutoff_hours} hours "
            "before they start. Please contact your mentor instead."
        )
    if not session.mentor.is_accepting_bookings:
        return "This mentor is not taking bookings right now."
    return None


def no_show_refusal(session: Session, user, now: datetime) -> str | None:
    """Why ``user`` may not mark ``session`` as a no-show at ``now``, or None.

    Only its mentor, once it has started and up to ``NO_SHOW_WINDOW`` after
    its end, for a session that is upcoming, active or completed (not
    cancelled, not already marked), and that no registered check says took
    place (the ``no_show_checks`` hook; the reviews app refuses a reviewed
    session). Reads ``session.mentor`` and whatever the registered checks
    read: the reviews check reads ``session.review``, so a session loaded
    with ``select_related("mentor", "review")`` costs no query.
    """
    if session.mentor.user_id != user.pk:
        return "Only the mentor can mark a no-show."
    if session.status not in (
        Session.Status.UPCOMING,
        Session.Status.ACTIVE,
        Session.Status.COMPLETED,
    ):
        return "This session cannot be marked as a no-show."
    if session.start > now:
        return "A no-show can be marked once the session has started."
    for check in no_show_checks.functions:
        refusal = check(session=session)
        if refusal:
            return refusal
    if session.end + NO_SHOW_WINDOW < now:
        return "A no-show can be marked up to 7 days after the session."
    return None
