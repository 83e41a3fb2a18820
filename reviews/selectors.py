"""Reads of reviews and ratings for the public pages and the drift check.

``average_rating`` is the one definition of a mentor's stored average (the
services, ``recompute_ratings`` and ``seed_bench`` all use it), so the stored
aggregates and a fresh recomputation can be compared exactly.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.db.models import Count, Q, QuerySet

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


STAR_COUNT_FIELDS = tuple(f"rating_{stars}_count" for stars in range(RATING_MIN, RATING_MAX + 1))


class StoredRating(NamedTuple):
    """What ``MentorProfile`` stores of a mentor's visible reviews: the
    average, the count and, in ``stars``, how many gave 1, 2, … 5 stars."""

    average: Decimal
    count: int
    stars: tuple[int, ...]

    @classmethod
    def from_star_counts(cls, stars) -> "StoredRating":
        """The whole rating from the per-star counts (index 0 is one star)."""
        stars = tuple(stars)
        count = sum(stars)
        total = sum(number * given for number, given in enumerate(stars, start=RATING_MIN))
        return cls(average_rating(total, count), count, stars)

    @classmethod
    def stored_on(cls, mentor: MentorProfile) -> "StoredRating":
        return cls(
            mentor.rating_avg,
            mentor.rating_count,
            tuple(getattr(mentor, field) for field in STAR_COUNT_FIELDS),
        )

    def as_fields(self) -> dict:
        """The ``MentorProfile`` field values, for an update."""
        return {
            "rating_avg": self.average,
            "rating_count": self.count,
            **dict(zip(STAR_COUNT_FIELDS, self.stars, strict=True)),
        }


def star_count_aggregates(prefix: str = "") -> dict:
    """``Count`` expressions of the visible reviews per star, named like the
    stored fields; ``prefix`` is the path to the reviews (``"reviews__"``
    from a mentor)."""
    return {
        f"fresh_{field}": Count(
            f"{prefix}pk" if prefix else "pk",
            filter=Q(**{f"{prefix}is_hidden": False, f"{prefix}rating": stars}),
        )
        for stars, field in enumerate(STAR_COUNT_FIELDS, start=RATING_MIN)
    }


def fresh_rating(row) -> StoredRating:
    """The rating from a row (a dict or an object) annotated with
    ``star_count_aggregates``."""
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    return StoredRating.from_star_counts(get(f"fresh_{field}") for field in STAR_COUNT_FIELDS)


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
    """Average, count and 1–5 distribution of ``mentor``'s visible reviews,
    from the counts stored on the profile (no query: the reviews service
    keeps them in the same transaction as every change to the reviews)."""
    stored = StoredRating.stored_on(mentor)
    counts = list(reversed(stored.stars))  # 5 stars first, like STARS
    percents = _whole_percentages(counts, stored.count)
    return RatingSummary(
        average=stored.average if stored.count else None,
        count=stored.count,
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
) -> list[tuple[MentorProfile, StoredRating, StoredRating]]:
    """Mentors whose stored rating (average, count, per-star counts) differs
    from their visible reviews, as ``(mentor, stored, fresh)``, in one query.
    Reads only; ``services.recompute_ratings`` repairs."""
    profiles = MentorProfile.objects.select_related("user").order_by("slug")
    if mentors is not None:
        profiles = profiles.filter(pk__in=[mentor.pk for mentor in mentors])
    profiles = profiles.annotate(**star_count_aggregates("reviews__"))
    drift = []
    for mentor in profiles.iterator(chunk_size=2000):
        stored = StoredRating.stored_on(mentor)
        fresh = fresh_rating(mentor)
        if stored != fresh:
            drift.append((mentor, stored, fresh))
    return drift
