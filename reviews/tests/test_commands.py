"""``manage.py recompute_ratings``: find (``--check``) and repair drifted ratings."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.tests.factories import UserFactory
from mentorship.models import MentorProfile
from mentorship.tests.factories import MentorProfileFactory
from reviews.models import Review
from reviews.selectors import rating_drift
from reviews.services import hide_review, recompute_ratings

from .factories import ReviewFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("recompute_ratings", *args, stdout=out)
    return out.getvalue()


def stored(mentor) -> tuple[Decimal, int]:
    row = MentorProfile.objects.filter(pk=mentor.pk).values("rating_avg", "rating_count").get()
    return row["rating_avg"], row["rating_count"]


@pytest.fixture
def mentors(db):
    """Ada's stored rating is right, Grace's misses a review written around
    the services, Linus's counts one that was deleted behind its back."""
    ada = MentorProfileFactory(slug="ada", user=UserFactory(name="Ada Lovelace"))
    ReviewFactory.create_batch(2, session__mentor=ada, rating=4)
    grace = MentorProfileFactory(slug="grace", user=UserFactory(name="Grace Hopper"))
    ReviewFactory(session__mentor=grace, rating=5)
    ReviewFactory(session__mentor=grace, rating=2, recompute=False)
    linus = MentorProfileFactory(slug="linus", user=UserFactory(name="Linus Torvalds"))
    Review.objects.filter(pk=ReviewFactory(session__mentor=linus, rating=3).pk).delete()
    MentorProfileFactory(slug="nobody")  # no reviews: 0.00 from 0 is right
    return {"ada": ada, "grace": grace, "linus": linus}


def test_check_reports_drift_and_fails_without_fixing(mentors):
    out = StringIO()
    with pytest.raises(CommandError, match="2 mentor"):
        call_command("recompute_ratings", "--check", stdout=out)
    assert out.getvalue().splitlines() == [
        "grace (Grace Hopper): stored 5.00 from 1 review(s), visible reviews give 3.50 from 2"
        " (1 to 5 stars: stored 0 0 0 0 1, visible 0 1 0 0 1)",
        "linus (Linus Torvalds): stored 3.00 from 1 review(s), visible reviews give 0.00 from 0"
        " (1 to 5 stars: stored 0 0 1 0 0, visible 0 0 0 0 0)",
    ]
    assert stored(mentors["grace"]) == (Decimal("5.00"), 1)
    assert stored(mentors["linus"]) == (Decimal("3.00"), 1)


def test_check_exits_with_status_1_on_the_command_line(mentors):
    from django.core.management import execute_from_command_line

    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(["manage.py", "recompute_ratings", "--check"])
    assert exit_info.value.code == 1


def test_repair_fixes_and_reports_what_changed(mentors):
    output = run()
    assert "Fixed grace (Grace Hopper): stored 5.00 from 1 review(s)" in output
    assert "Fixed linus" in output
    assert "ada" not in output
    assert "2 mentor(s) changed" in output
    assert stored(mentors["grace"]) == (Decimal("3.50"), 2)
    assert stored(mentors["linus"]) == (Decimal("0.00"), 0)
    assert stored(mentors["ada"]) == (Decimal("4.00"), 2)
    # Then the check passes, and a second repair has nothing to do.
    assert "up to date" in run("--check")
    assert "0 mentor(s) changed" in run()


def test_hidden_reviews_do_not_count(mentors):
    ada = mentors["ada"]
    review = ReviewFactory(session__mentor=ada, rating=1)
    hide_review(review=review, by=UserFactory(is_staff=True))
    Review.objects.filter(pk=review.pk).update(is_hidden=False)  # behind the services' back
    assert [mentor.slug for mentor, _old, _new in rating_drift(mentors=[ada])] == ["ada"]
    Review.objects.filter(pk=review.pk).update(is_hidden=True)
    assert rating_drift(mentors=[ada]) == []


def test_recompute_returns_old_and_new_values_for_the_mentors_asked_about(mentors):
    changed = recompute_ratings(mentors=[mentors["grace"], mentors["ada"]])
    assert [(mentor.slug, old, new) for mentor, old, new in changed] == [
        ("grace", (Decimal("5.00"), 1, (0, 0, 0, 0, 1)), (Decimal("3.50"), 2, (0, 1, 0, 0, 1)))
    ]
    # Linus was not asked about.
    assert stored(mentors["linus"]) == (Decimal("3.00"), 1)


def test_drift_check_is_one_query_for_any_number_of_mentors(mentors, django_assert_num_queries):
    MentorProfileFactory.create_batch(20)
    with django_assert_num_queries(1):
        rating_drift()


def test_check_finds_and_repair_fixes_per_star_counts_alone(mentors):
    """Ada's 4 and 4 stored as a 5 and a 3: the average and count agree, the
    distribution the mentor page shows does not."""
    ada = mentors["ada"]
    recompute_ratings(mentors=[mentors["grace"], mentors["linus"]])
    MentorProfile.objects.filter(pk=ada.pk).update(
        rating_4_count=0, rating_5_count=1, rating_3_count=1
    )
    assert stored(ada) == (Decimal("4.00"), 2)
    out = StringIO()
    with pytest.raises(CommandError, match="1 mentor"):
        call_command("recompute_ratings", "--check", stdout=out)
    assert out.getvalue().splitlines() == [
        "ada (Ada Lovelace): stored 4.00 from 2 review(s), visible reviews give 4.00 from 2"
        " (1 to 5 stars: stored 0 0 1 0 1, visible 0 0 0 2 0)"
    ]
    assert "Fixed ada" in run()
    stars = MentorProfile.objects.filter(pk=ada.pk).values_list(
        "rating_1_count", "rating_2_count", "rating_3_count", "rating_4_count", "rating_5_count"
    )
    assert stars.get() == (0, 0, 0, 2, 0)
    assert "up to date" in run("--check")
