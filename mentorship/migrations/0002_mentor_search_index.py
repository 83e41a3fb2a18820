from django.db import migrations

# Must stay identical to mentorship.selectors.MENTOR_DOCUMENT_SQL, so that
# PostgreSQL answers directory searches from this index.
DOCUMENT_SQL = (
    "(setweight(to_tsvector('english'::regconfig, coalesce(headline, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(biography, '')), 'C'))"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS mentor_search_document ON mentorship_mentorprofile "
        f"USING gin ({DOCUMENT_SQL}) WHERE is_accepting_bookings"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS mentor_search_document")


class Migration(migrations.Migration):
    """A full-text index over listed mentors' headline and biography (PostgreSQL only)."""

    dependencies = [("mentorship", "0001_create_profiles_and_tags")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
