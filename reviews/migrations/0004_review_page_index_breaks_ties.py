from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mentorship", "0006_directory_indexes_carry_the_user"),
        ("reviews", "0003_backfill_star_counts"),
        ("scheduling", "0008_session_list_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="review",
            name="review_mentor_visible_newest",
        ),
        migrations.AddIndex(
            model_name="review",
            index=models.Index(
                condition=models.Q(("is_hidden", False)),
                fields=["mentor", "-created_at", "-id"],
                name="review_mentor_visible_order",
            ),
        ),
    ]
