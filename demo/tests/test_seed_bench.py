"""``manage.py seed_bench``: many mentors, whose ratings come from real reviews."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.utils import timezone

from mentorship.models import MenteeProfile, MentorProfile
from reviews.models import Review
from reviews.selectors import rating_drift
from scheduling.models import Session


def seed(mentors: int) -> str:
    out = StringIO()
    call_command("seed_bench", mentors=mentors, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_bench_mentors_are_rated_by_real_reviews():
    output = seed(40)
    assert "40 mentors" in output

    mentors = MentorProfile.objects.annotate(reviews_count=Count("reviews"))
    assert mentors.count() == 40
    # Some have none, most some, a few dozens.
    counts = sorted(mentor.reviews_count for mentor in mentors)
    assert counts[0] == 0
    assert counts[-1] >= 12
    # The stored aggregates are exactly what the reviews give.
    assert rating_drift() == []
    assert all(mentor.rating_count == mentor.reviews_count for mentor in mentors)

    reviews = Review.objects.select_related("session")
    assert reviews.count() == sum(counts)
    # Each review is of a completed, past session with its own mentor and
    # mentee, dated when that session ended.
    assert not reviews.exclude(session__mentor=F("mentor"), session__mentee=F("mentee")).exists()
    assert not Session.objects.exclude(status="completed").exists()
    assert not Session.objects.filter(end__gt=timezone.now()).exists()
    assert not reviews.exclude(created_at=F("session__end")).exists()
    assert not reviews.filter(Q(rating__lt=1) | Q(rating__gt=5)).exists()
    # The reviewers are the bench mentees.
    assert not reviews.exclude(mentee__user__email__startswith="bench-mentee-").exists()


@pytest.mark.django_db
def test_seed_bench_again_only_adds_what_is_missing():
    seed(10)
    reviews = set(Review.objects.values_list("pk", flat=True))
    mentees = MenteeProfile.objects.count()
    seed(10)
    assert set(Review.objects.values_list("pk", flat=True)) == reviews
    seed(25)
    assert MentorProfile.objects.count() == 25
    assert MenteeProfile.objects.count() == mentees
    assert reviews < set(Review.objects.values_list("pk", flat=True))
    assert rating_drift() == []


@pytest.mark.django_db
def test_the_directory_sorts_bench_mentors_by_rating(client):
    seed(20)
    response = client.get("/mentors/?sort=rating")
    assert response.status_code == 200
