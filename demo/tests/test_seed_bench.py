"""``manage.py seed_bench``: many mentors, whose ratings come from real reviews."""

from datetime import UTC, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.models import User
from demo.management.commands.seed_bench import SMALL_FIXTURE, UPCOMING_SESSIONS, busy_window
from mentorship.models import MenteeProfile, MentorProfile
from reviews.models import Review
from reviews.selectors import rating_drift
from scheduling.models import BusyInterval, Session


def seed(mentors: int, fixtures: str = "none", **options) -> str:
    out = StringIO()
    call_command("seed_bench", mentors=mentors, fixtures=fixtures, stdout=out, **options)
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


@pytest.mark.django_db
def test_reviews_average_ten_per_mentor():
    seed(200)

    assert 8 <= Review.objects.count() / 200 <= 12


def _in_window(mentor):
    first, last = busy_window()
    start = datetime.combine(first, time(0), tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)
    sessions = Session.objects.filter(
        mentor=mentor, status=Session.Status.UPCOMING, start__gte=start, end__lte=end
    )
    busy = BusyInterval.objects.filter(mentor=mentor, start__gte=start, end__lte=end)
    return sessions, busy


@pytest.mark.django_db
def test_named_fixtures_for_the_benchmark_endpoints(client):
    output = seed(3, fixtures="small")
    assert "named fixtures checked" in output
    now = timezone.now()

    # Users with sessions: a mix of statuses, ten upcoming, with various mentees.
    user = User.objects.get(email="bench-sessions-4000@bench.example.com")
    mentor = MentorProfile.objects.listed().get(user=user, slug="bench-sessions-4000")
    sessions = Session.objects.filter(mentor=mentor)
    assert sessions.count() == SMALL_FIXTURE
    assert sessions.filter(status="upcoming", start__gt=now).count() == UPCOMING_SESSIONS
    assert not sessions.filter(status="upcoming", start__lt=now).exists()
    assert not sessions.filter(end__gt=now).exclude(status="upcoming").exists()
    assert sessions.values("mentee").distinct().count() > 1
    # Their upcoming sessions are never with the mentees the booking benchmarks sign in as.
    assert not sessions.filter(
        status="upcoming", mentee__user__email__startswith="bench-mentee-"
    ).exists()
    # Also a mentee of other mentors; and able to sign in.
    assert Session.objects.filter(mentee__user=user).exists()
    client.force_login(user)
    assert client.get("/sessions/").status_code == 200

    # Mentors with reviews: each of its own completed session, stored aggregates right.
    reviewed = MentorProfile.objects.get(slug="bench-reviews-30000")
    reviews = Review.objects.filter(mentor=reviewed)
    assert reviews.count() == reviewed.rating_count == SMALL_FIXTURE
    assert reviews.values("session").distinct().count() == SMALL_FIXTURE
    assert not reviews.exclude(session__status="completed", session__mentor=reviewed).exists()
    assert not reviews.exclude(created_at=F("session__end")).exists()
    assert rating_drift() == []
    stars = {f"rating_{n}_count": reviews.filter(rating=n).count() for n in range(1, 6)}
    for field, count in stars.items():
        if hasattr(reviewed, field):
            assert getattr(reviewed, field) == count

    # Busy mentors: hours every day, that many busy intervals in the window the
    # slots JSON endpoint asks for, half sessions and half calendar busy times.
    busy_mentor = MentorProfile.objects.listed().get(slug="bench-busy-4000")
    sessions, busy = _in_window(busy_mentor)
    assert sessions.count() + busy.count() == SMALL_FIXTURE
    assert sessions.count() == busy.count()
    first, last = busy_window()
    response = client.get(
        f"/mentors/bench-busy-4000/slots/?type=intro-call&from={first}&to={last}&tz=UTC"
    )
    assert response.status_code == 200
    assert response.json()["slots"]


@pytest.mark.django_db
def test_named_fixtures_are_created_once():
    seed(3, fixtures="small")
    sessions = set(Session.objects.values_list("pk", flat=True))
    busy = set(BusyInterval.objects.values_list("pk", flat=True))

    seed(3, fixtures="small")

    assert set(Session.objects.values_list("pk", flat=True)) == sessions
    assert set(BusyInterval.objects.values_list("pk", flat=True)) == busy


@pytest.mark.django_db
def test_trim_goes_back_to_fewer_mentors():
    seed(12)
    seed(30)
    assert MentorProfile.objects.filter(slug__startswith="bench-mentor-").count() == 30

    output = seed(12, trim=True)

    assert "removed 18 bench mentors" in output
    slugs = set(
        MentorProfile.objects.filter(slug__startswith="bench-mentor-").values_list(
            "slug", flat=True
        )
    )
    assert slugs == {f"bench-mentor-{n}" for n in range(12)}
    assert not Session.objects.filter(mentor__isnull=True).exists()
    assert rating_drift() == []
    assert MenteeProfile.objects.filter(user__email__startswith="bench-mentee-").exists()
