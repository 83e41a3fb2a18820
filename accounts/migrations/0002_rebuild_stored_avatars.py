from django.db import migrations


def rebuild_stored_avatars(apps, schema_editor):
    # Avatars uploaded before they were re-encoded are stored as sent (any
    # extension, metadata kept, any pixel count) and have no renditions,
    # which pages now embed: re-encode them with their renditions, and clear
    # those no longer accepted. ``manage.py rebuild_avatars`` does the same
    # later (files that were missing from storage during the migration).
    from accounts.services import rebuild_avatars

    User = apps.get_model("accounts", "User")
    rebuild_avatars(users=User.objects.using(schema_editor.connection.alias))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_create_user"),
    ]

    operations = [
        migrations.RunPython(rebuild_stored_avatars, migrations.RunPython.noop, elidable=True),
    ]
