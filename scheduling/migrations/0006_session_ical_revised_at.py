"""Session.ical_revised_at, the DTSTAMP of the session's calendar event.

Existing rows take the time of their last change sent to calendars: the
cancellation for a cancelled session (which is now also a revision: its
SEQUENCE goes up by one, as ``cancel_session`` now does), else the booking
or the move that created the row. The old row of a reschedule keeps its
SEQUENCE: the move superseded it and no cancellation of it was sent.
"""

import django.utils.timezone
from django.db import migrations, models
from django.db.models import F


def stamp_existing_sessions(apps, schema_editor):
    Session = apps.get_model("scheduling", "Session")
    cancelled = Session.objects.filter(status="cancelled", cancelled_at__isnull=False)
    Session.objects.exclude(pk__in=cancelled.values("pk")).update(ical_revised_at=F("created_at"))
    cancelled.filter(rescheduled_to__isnull=False).update(ical_revised_at=F("created_at"))
    cancelled.filter(rescheduled_to__isnull=True).update(
        ical_revised_at=F("cancelled_at"), ical_sequence=F("ical_sequence") + 1
    )


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0005_calendar_connections"),
    ]

    operations = [
        migrations.AddField(
            model_name="session",
            name="ical_revised_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.RunPython(stamp_existing_sessions, migrations.RunPython.noop),
    ]
