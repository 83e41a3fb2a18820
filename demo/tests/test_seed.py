"""``manage.py seed_demo``: a small demo community, idempotent."""

import re
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from accounts.models import User
from demo.management.commands.seed_demo import DEMO_REVIEWS
from mentorship.models import (
    ExpertiseTag,
    MenteeProfile,
    MentorExpertise,
    MentorProfile,
    SocialLink,
)
from reviews.models import Review, ReviewReply
from reviews.selectors import rating_drift
from reviews.services import review_refusal
from scheduling.models import Availability, Session


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def rows_created(output: str) -> int:
    match = re.search(r"\((\d+) row\(s\) created\)", output)
    assert match, output
    return int(match.group(1))


def row_counts() -> dict[str, int]:
    """Rows of every model of every installed app."""
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


@pytest.mark.django_db
def test_seed_demo_creates_a_community():
    output = seed()
    assert rows_created(output) > 0
    assert "mentor@example.com" in output

    mentors = MentorProfile.objects.annotate(
        tags=Count("expertise", distinct=True), links=Count("social_links", distinct=True)
    )
    assert mentors.count() >= 12
    assert all(mentor.tags >= 1 for mentor in mentors)
    assert all(mentor.links >= 1 for mentor in mentors)
    assert all(mentor.headline and mentor.biography for mentor in mentors)
    assert MentorProfile.objects.listed().count() >= 12
    assert MenteeProfile.objects.count() >= 3
    assert ExpertiseTag.objects.count() >= 20

    # The documented accounts exist and can sign in.
    for email in ("admin@example.com", "mentor@example.com", "mentee@example.com"):
        user = User.objects.get(email=email)
        assert user.check_password("mentorship-demo")
        assert EmailAddress.objects.filter(user=user, email=email, verified=True).exists()
    assert User.objects.get(email="admin@example.com").is_staff
    assert MentorProfile.objects.filter(user__email="mentor@example.com").exists()
    assert MenteeProfile.objects.filter(user__email="mentee@example.com").exists()


@pytest.mark.django_db
def test_seed_demo_data_obeys_the_profile_rules():
    seed()
    for mentor in MentorProfile.objects.all():
        mentor.full_clean()
    for link in SocialLink.objects.all():
        link.full_clean()
    for mentee in MenteeProfile.objects.all():
        mentee.full_clean()
    over_limit = MentorExpertise.objects.values("mentor").annotate(n=Count("id")).filter(n__gt=10)
    assert not over_limit.exists()


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing():
    seed()
    counts = row_counts()
    slugs = set(MentorProfile.objects.values_list("slug", flat=True))
    output = seed()
    assert rows_created(output) == 0
    assert row_counts() == counts
    assert set(MentorProfile.objects.values_list("slug", flat=True)) == slugs


@pytest.mark.django_db
def test_seed_demo_fills_in_what_is_missing():
    seed()
    counts = row_counts()
    Review.objects.filter(mentor__user__email="mentor@example.com").delete()
    Session.objects.filter(mentor__user__email="mentor@example.com").delete()
    MentorProfile.objects.filter(user__email="mentor@example.com").delete()
    output = seed()
    # The profile, and its weekly hours (its session types come with it), the
    # demo mentee's two sessions with Maya, and her other mentees' past
    # sessions, their reviews and her replies.
    hours = Availability.objects.filter(mentor__user__email="mentor@example.com").count()
    assert hours > 0
    mayas = [entry for entry in DEMO_REVIEWS if entry["mentor"] == "mentor@example.com"]
    reviews = 2 * len(mayas) + sum(1 for entry in mayas if entry.get("reply"))
    assert rows_created(output) == 1 + hours + 2 + reviews
    assert row_counts() == counts


@pytest.mark.django_db
def test_demo_directory_and_pages_render(client):
    seed()
    response = client.get("/mentors/")
    assert response.status_code == 200
    assert "Maya Mentor" in response.text
    mentor = MentorProfile.objects.get(user__email="mentor@example.com")
    page = client.get(f"/mentors/{mentor.slug}/")
    assert page.status_code == 200
    assert "mentor@example.com" not in page.text


@pytest.mark.django_db
def test_seed_demo_gives_the_demo_mentee_an_upcoming_and_a_completed_session():
    seed()
    sessions = Session.objects.filter(
        mentee__user__email="mentee@example.com", mentor__user__email="mentor@example.com"
    ).order_by("start")
    assert [session.status for session in sessions] == ["completed", "upcoming"]
    past, upcoming = sessions
    assert past.end < timezone.now() < upcoming.start
    assert upcoming.meeting_url.startswith("https://")
    count = Session.objects.count()
    seed()
    assert Session.objects.count() == count


@pytest.mark.django_db
def test_seed_demo_gives_mentors_reviews_from_completed_sessions():
    seed()
    assert Review.objects.count() == len(DEMO_REVIEWS)
    assert ReviewReply.objects.count() == sum(1 for entry in DEMO_REVIEWS if entry.get("reply"))
    now = timezone.now()
    for review in Review.objects.select_related("session", "mentee__user", "mentor__user"):
        assert review.session.status_at(now) == "completed"
        assert review.session.end < now
        assert review.mentee_id == review.session.mentee_id
    # Stored through the services: the ratings agree with the reviews.
    assert rating_drift() == []
    maya = MentorProfile.objects.get(user__email="mentor@example.com")
    assert (str(maya.rating_avg), maya.rating_count) == ("4.67", 3)
    # The demo mentee's own past session is left for them to review.
    theo = User.objects.get(email="mentee@example.com")
    past = Session.objects.get(mentee__user=theo, status="completed")
    assert review_refusal(session=past, user=theo, now=now) is None
    seed()
    assert Review.objects.count() == len(DEMO_REVIEWS)
