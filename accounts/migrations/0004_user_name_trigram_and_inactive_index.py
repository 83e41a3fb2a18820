from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

# The directory's search matches names with ``name__icontains``, which
# PostgreSQL writes as ``UPPER("accounts_user"."name"::text) LIKE UPPER(...)``:
# this trigram index is over that same expression. The partial index holds the
# (few) inactive accounts, which ``MentorProfile.objects.listed()`` excludes.
CREATE = [
    "CREATE INDEX IF NOT EXISTS user_name_upper_trigram ON accounts_user "
    "USING gin ((UPPER((name)::text)) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS user_inactive ON accounts_user (id) WHERE NOT is_active",
]
DROP = [
    "DROP INDEX IF EXISTS user_name_upper_trigram",
    "DROP INDEX IF EXISTS user_inactive",
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    """Indexes for the mentor directory's search and listing (PostgreSQL only)."""

    dependencies = [("accounts", "0003_user_time_format")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
