"""``manage.py recompute_ratings [--check]``: the mentors' stored ratings
against their visible reviews.

The review services keep ``rating_avg``, ``rating_count`` and the per-star
``rating_<n>_count`` right in the same transaction as each change; this finds
and repairs rows written around them (raw SQL, a restored backup, a bulk
import). ``--check`` only reports, and exits with status 1 when any mentor's
stored rating has drifted.
"""

from django.core.management.base import BaseCommand, CommandError

from reviews.selectors import rating_drift
from reviews.services import recompute_ratings


def _stars(rating) -> str:
    return " ".join(str(given) for given in rating.stars)


def describe(mentor, old, new) -> str:
    text = (
        f"{mentor.slug} ({mentor}): stored {old.average} from {old.count} review(s), "
        f"visible reviews give {new.average} from {new.count}"
    )
    if old.stars != new.stars:
        text += f" (1 to 5 stars: stored {_stars(old)}, visible {_stars(new)})"
    return text


class Command(BaseCommand):
    help = "Check (--check) or repair every mentor's stored rating average and count."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Report drifted ratings and exit with status 1 if any; change nothing.",
        )

    def handle(self, *args, check: bool, **options):
        if check:
            drift = rating_drift()
            for mentor, old, new in drift:
                self.stdout.write(describe(mentor, old, new))
            if drift:
                raise CommandError(
                    f"{len(drift)} mentor(s) have a stored rating that does not match their "
                    "reviews. Run `manage.py recompute_ratings` to repair."
                )
            self.stdout.write(self.style.SUCCESS("Every mentor's stored rating is up to date."))
            return
        changed = recompute_ratings()
        for mentor, old, new in changed:
            self.stdout.write(f"Fixed {describe(mentor, old, new)}")
        self.stdout.write(
            self.style.SUCCESS(f"Recomputed ratings: {len(changed)} mentor(s) changed.")
        )
