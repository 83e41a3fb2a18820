from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations


class Migration(migrations.Migration):
    """Enables btree_gist on PostgreSQL for the no-overlapping-sessions
    exclusion constraint (mentor = AND time range &&). A no-op on SQLite."""

    initial = True

    dependencies = []

    operations = [BtreeGistExtension()]
