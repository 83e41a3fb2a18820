"""Reads of reviews and ratings for the public pages and the drift check.

``average_rating`` is the one definition of a mentor's stored average (the
services, ``recompute_ratings`` and ``seed_bench`` all use it), so the stored
aggregates and a fresh recomputation can be compared exactly.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet, Sum

from mentorship.models import MentorProfile

from .models import RATING_MAX, RATING_MIN, Review

NO_AVERAGE = Decimal("0.00")
TWO_PLACES = Decimal("0.01")
STARS = range(RATING_MAX, RATING_MIN - 1, -1)  # 5, 4, 3, 2, 1


def average_rating(total: int | None, count: int) -> Decimal:
    """The mean of ``count`` ratings adding up to ``total``, to two places
    (half up, computed exactly in decimal), or 0.00 when there are none."""
    if not count:
        return NO_AVERAGE
    return (Decimal(total) / Decimal(count)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RatingSummary:
    """A mentor's visible reviews at a glance.

    ``distribution`` has one ``(stars, count, percent)`` per star from 5 down
    to 1; the percentages are whole numbers adding up to 100 (0 with no reviews).
    """

    average: Decimal | None
    count: int
    distribution: list[tuple[int, int, int]]


def _whole_percentages(counts: list[int], total: int) -> list[int]:
    """Largest-remainder rounding: whole percentages that add up to 100, none
    of them more than one point from the exact share, a zero count staying 0."""
    if not total:
        return [0] * len(counts)
    floors = [count * 100 // total for count in counts]
    remainders = [count * 100 % total for count in counts]
    short = 100 - sum(floors)
    by_remainder = sorted(range(len(counts)), key=lambda index: -remainders[index])
    for index in by_remainder[:short]:
        floors[index] += 1
    return floors


def rating_summary(mentor: MentorProfile) -> RatingSummary:
    """Average, count and 1–5 distribution of ``mentor``'s visible reviews, in
    one query (read fresh, so it always agrees with the reviews listed)."""
    star_counts = {f"stars_{stars}": Count("pk", filter=Q(rating=stars)) for stars in STARS}
    row = (
        Review.objects.visible()
        .filter(mentor=mentor)
        .aggregate(count=Count("pk"), total=Sum("rating"), **star_counts)
    )
    counts = [row[f"stars_{stars}"] for stars in STARS]
    percents = _whole_percentages(counts, row["count"])
    return RatingSummary(
        average=average_rating(row["total"], row["count"]) if row["count"] else None,
        count=row["count"],
        distribution=list(zip(STARS, counts, percents, strict=True)),
    )


def visible_reviews(mentor: MentorProfile) -> QuerySet[Review]:
    """``mentor``'s reviews that are not hidden, newest first, with what the
    mentor page shows of each (session type, reviewer's name, the reply)."""
    return (
        Review.objects.visible()
        .filter(mentor=mentor)
        .select_related("session__session_type", "mentee__user", "reply")
        # The id breaks ties between reviews written in the same instant, so
        # pages never repeat or skip one.
        .order_by("-created_at", "-id")
    )


def rating_drift(
    *, mentors: Iterable[MentorProfile] | None = None
) -> list[tuple[MentorProfile, tuple[Decimal, int], tuple[Decimal, int]]]:
    """Mentors whose stored ``rating_avg``/``rating_count`` differ from their
    visible reviews, as ``(mentor, (stored avg, count), (fresh avg, count))``,
    in one query. Reads only; ``services.recompute_ratings`` repairs."""
    profiles = MentorProfile.objects.select_related("user").order_by("slug")
    if mentors is not None:
        profiles = profiles.filter(pk__in=[mentor.pk for mentor in mentors])
    visible = Q(reviews__is_hidden=False)
    profiles = profiles.annotate(
        fresh_total=Sum("reviews__rating", filter=visible),
        fresh_count=Count("reviews", filter=visible),
    )
    drift = []
    for mentor in profiles.iterator(chunk_size=2000):
        stored = (mentor.rating_avg, mentor.rating_count)
        fresh = (average_rating(mentor.fresh_total, mentor.fresh_count), mentor.fresh_count)
        if stored != fresh:
            drift.append((mentor, stored, fresh))
    return drift
