"""Small, idempotent demo data with documented accounts (see README.md).

Running it twice changes nothing: rows are looked up by their natural keys and
only created when missing.
"""

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User

DEMO_PASSWORD = "mentorship-demo"  # noqa: S105 - documented demo credential

DEMO_ACCOUNTS = [
    # email, name, time zone, staff
    ("admin@example.com", "Alex Admin", "Europe/London", True),
    ("mentor@example.com", "Maya Mentor", "America/New_York", False),
    ("mentee@example.com", "Theo Mentee", "Europe/Berlin", False),
]


class Command(BaseCommand):
    help = "Create the demo accounts (idempotent). Password for all: " + DEMO_PASSWORD

    @transaction.atomic
    def handle(self, *args, **options):
        created = 0
        for email, name, zone, staff in DEMO_ACCOUNTS:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                factory = User.objects.create_superuser if staff else User.objects.create_user
                user = factory(email=email, password=DEMO_PASSWORD, name=name, timezone=zone)
                created += 1
            # Demo accounts can sign in at once: their address counts as verified.
            EmailAddress.objects.get_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready ({created} account(s) created). "
                f"Sign in as admin@example.com, mentor@example.com or mentee@example.com "
                f"with the password “{DEMO_PASSWORD}”."
            )
        )
