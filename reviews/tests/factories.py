"""Factories for reviews, replies and reports.

Like the other apps' factories they write rows directly: tests that are about
the rules call ``reviews.services``. Because the mentor page shows the stored
aggregates, ``ReviewFactory`` brings the mentor's ``rating_avg``/``rating_count``
(and per-star counts) up to date after each review it writes (``recompute=False`` skips that, to
make drift on purpose).
"""

from datetime import timedelta

import factory
from django.utils import timezone

from reviews.models import Review, ReviewReply, ReviewReport
from scheduling.models import Session
from scheduling.tests.factories import SessionFactory


def _past_start(number: int):
    """Thirty days ago and two hours earlier for each session made, on the
    hour: ended, not overlapping, well inside the 7-day edit window's past."""
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    return hour - timedelta(days=30, hours=2 * number)


class CompletedSessionFactory(SessionFactory):
    """A session that took place: in the past and completed."""

    start = factory.Sequence(_past_start)
    status = Session.Status.COMPLETED


class ReviewFactory(factory.django.DjangoModelFactory):
    """A visible review of a completed session, by its mentee.

    The mentor and mentee are the session's: ``ReviewFactory(session=session)``
    reviews that session, ``ReviewFactory(session__mentor=mentor)`` a new
    session with that mentor (``session__mentee=…`` likewise).
    """

    class Meta:
        model = Review
        skip_postgeneration_save = True

    session = factory.SubFactory(CompletedSessionFactory)
    mentor = factory.SelfAttribute("session.mentor")
    mentee = factory.SelfAttribute("session.mentee")
    rating = 5
    feedback = factory.Faker("paragraph", nb_sentences=3)

    @factory.post_generation
    def recompute(review, create, extracted, **kwargs):
        if create and extracted is not False:
            from reviews.services import recompute_ratings

            recompute_ratings(mentors=[review.mentor])
            from reviews.selectors import STAR_COUNT_FIELDS

            review.mentor.refresh_from_db(fields=["rating_avg", "rating_count", *STAR_COUNT_FIELDS])


class ReviewReplyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewReply

    review = factory.SubFactory(ReviewFactory)
    body = "Thank you, it was a pleasure."


class ReviewReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewReport

    review = factory.SubFactory(ReviewFactory)
    reporter = factory.SubFactory("accounts.tests.factories.UserFactory")
    reason = "This review is not about the session."
