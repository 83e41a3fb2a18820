"""Re-encrypt every encrypted value with the first key of ``FIELD_ENCRYPTION_KEYS``.

Rotating a key takes three steps (see ``scheduling/crypto.py``):

1. put the new key in front: ``FIELD_ENCRYPTION_KEYS=<new>,<old>``, and deploy;
2. run ``manage.py rotate_encryption_keys``: it rewrites every row with the new
   key and then checks that the new key alone reads every value;
3. remove the old key: ``FIELD_ENCRYPTION_KEYS=<new>``, and deploy.

Running it again is harmless. It prints counts per model, never a value.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from scheduling import crypto


class Command(BaseCommand):
    help = "Re-encrypt every encrypted value (calendar tokens, passwords) with the first key."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Rows rewritten per transaction (default 500).",
        )

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if not any(key.strip() for key in settings.FIELD_ENCRYPTION_KEYS):
            # Only reachable in debug: production refuses below.
            self.stderr.write(
                self.style.WARNING(
                    "FIELD_ENCRYPTION_KEYS is not set: using the development key "
                    "derived from SECRET_KEY."
                )
            )
        try:
            rewritten = crypto.rotate_all(batch_size=batch_size)
            pending = crypto.values_not_on_first_key()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        for label, count in rewritten.items():
            self.stdout.write(f"{label}: {count} row{'' if count == 1 else 's'} re-encrypted.")
        left = sum(pending.values())
        if left:
            # Written meanwhile by a process still running with the old keys.
            raise CommandError(
                f"{left} value{'' if left == 1 else 's'} still need an older key "
                f"({', '.join(f'{label}: {count}' for label, count in pending.items() if count)}): "
                "run the command again once every process uses the new keys."
            )
        self.stdout.write(
            self.style.SUCCESS(
                "Every encrypted value now reads with the first key alone: "
                "older keys can be removed from FIELD_ENCRYPTION_KEYS."
            )
        )
