from django.db import migrations
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

STARS = range(1, 6)


def count_stars(apps, schema_editor):
    """Each mentor's per-star counts from their visible reviews, as the
    reviews service keeps them from now on (one UPDATE of every mentor)."""
    MentorProfile = apps.get_model("mentorship", "MentorProfile")
    Review = apps.get_model("reviews", "Review")

    def visible_with(stars):
        counted = (
            Review.objects.filter(mentor=OuterRef("pk"), is_hidden=False, rating=stars)
            .order_by()
            .values("mentor")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return Coalesce(Subquery(counted), 0)

    MentorProfile.objects.update(
        **{f"rating_{stars}_count": visible_with(stars) for stars in STARS}
    )


class Migration(migrations.Migration):
    """Fill ``MentorProfile.rating_<n>_count`` from the reviews already written."""

    dependencies = [
        ("reviews", "0002_review_reply_plural"),
        ("mentorship", "0005_mentor_star_counts"),
    ]

    operations = [migrations.RunPython(count_stars, migrations.RunPython.noop, elidable=True)]
