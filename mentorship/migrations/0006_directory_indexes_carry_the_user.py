from django.conf import settings
from django.db import migrations, models

# The text the directory searches, weighted: headline over biography, stored
# in a generated column (PostgreSQL only; the model does not declare it, and
# nothing writes it) so that ranking and matching read it instead of parsing
# both texts again for every row. Must stay the expression of
# ``mentorship.selectors`` (``SEARCH_DOCUMENT_COLUMN``).
DOCUMENT_SQL = (
    "(setweight(to_tsvector('english'::regconfig, coalesce(headline, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(biography, '')), 'C'))"
)


def store_document(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS mentor_search_document")
    schema_editor.execute(
        "ALTER TABLE mentorship_mentorprofile ADD COLUMN search_document tsvector "
        f"GENERATED ALWAYS AS {DOCUMENT_SQL} STORED"
    )
    schema_editor.execute(
        "CREATE INDEX mentor_search_document ON mentorship_mentorprofile "
        "USING gin (search_document) WHERE is_accepting_bookings"
    )


def drop_document(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE mentorship_mentorprofile DROP COLUMN search_document")
    schema_editor.execute(
        "CREATE INDEX mentor_search_document ON mentorship_mentorprofile "
        f"USING gin ({DOCUMENT_SQL}) WHERE is_accepting_bookings"
    )


class Migration(migrations.Migration):
    """Directory indexes that carry the user (an index-only walk to any page)
    and a stored search document (PostgreSQL)."""

    dependencies = [
        ("mentorship", "0005_mentor_star_counts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("accounts", "0004_user_name_trigram_and_inactive_index"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="mentorprofile",
            name="mentor_listed_rating",
        ),
        migrations.RemoveIndex(
            model_name="mentorprofile",
            name="mentor_listed_newest",
        ),
        migrations.AddIndex(
            model_name="mentorprofile",
            index=models.Index(
                condition=models.Q(("is_accepting_bookings", True)),
                fields=["-rating_avg", "-rating_count", "slug", "id"],
                include=("user",),
                name="mentor_listed_by_rating",
            ),
        ),
        migrations.AddIndex(
            model_name="mentorprofile",
            index=models.Index(
                condition=models.Q(("is_accepting_bookings", True)),
                fields=["-created_at", "slug", "id"],
                include=("user",),
                name="mentor_listed_by_newest",
            ),
        ),
        migrations.RunPython(store_document, drop_document, elidable=False),
    ]
