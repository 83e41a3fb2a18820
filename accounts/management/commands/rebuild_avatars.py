from django.core.management.base import BaseCommand

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = (
        "Re-encode stored avatars that are not in the current form (stored as uploaded, or "
        "a rendition missing) with their renditions; clear those no longer accepted. "
        "Idempotent: avatars already current are left alone."
    )

    def handle(self, *args, **options):
        outcome = services.rebuild_avatars(users=User.objects.all())
        self.stdout.write(
            f"Avatars: {outcome['rebuilt']} rebuilt, {outcome['cleared']} cleared "
            f"(not an acceptable picture), {outcome['missing']} missing from storage "
            f"(left as they are), {outcome['current']} already current."
        )
