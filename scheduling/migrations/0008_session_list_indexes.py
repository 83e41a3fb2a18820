# /sessions/ reads each list a page at a time from these (scheduling.session_lists).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0007_booking_holds"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="session",
            index=models.Index(fields=["mentee", "start"], name="session_mentee_start"),
        ),
        migrations.AddIndex(
            model_name="session",
            index=models.Index(
                condition=models.Q(("status", "cancelled")),
                fields=["mentor", "start"],
                name="session_mentor_cancelled",
            ),
        ),
        migrations.AddIndex(
            model_name="session",
            index=models.Index(
                condition=models.Q(("status", "cancelled")),
                fields=["mentee", "start"],
                name="session_mentee_cancelled",
            ),
        ),
    ]
