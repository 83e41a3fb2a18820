"""Large data for benchmarks: ``seed_bench --mentors 10000``.

Bulk inserts in batches, so 10 000 mentors take seconds. Running it again only
adds what is missing (mentors are numbered ``bench-mentor-<n>@bench.example.com``).

Until reviews exist, each mentor's stored rating average and count are drawn
from a realistic distribution, so that the directory's rating sort has real
work to do; the reviews issue replaces this with generated reviews.
"""

import random
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.text import slugify

from accounts.models import User
from mentorship import demo_data
from mentorship.models import ExpertiseTag, MentorExpertise, MentorProfile, SocialLink

FIRST_NAMES = [
    "Ada", "Alan", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Edsger",
    "Radia", "Tim", "Katherine", "Guido", "Hedy", "Bjarne", "Shafi", "Donald", "Sophie", "Yukihiro",
]  # fmt: skip
LAST_NAMES = [
    "Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie",
    "Allen", "Dijkstra", "Perlman", "Berners-Lee", "Johnson", "van Rossum", "Lamarr", "Stroustrup",
    "Goldwasser", "Knuth", "Wilson", "Matsumoto",
]  # fmt: skip
HEADLINES = [
    "Senior engineer · {a} and {b}",
    "Helping people grow in {a}",
    "{a} lead · mentoring on {b}",
    "Ten years of {a}; ask me about {b}",
]
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC"]
BATCH = 2000


class Command(BaseCommand):
    help = "Create N benchmark mentors with tags and links (bulk inserts)."

    def add_arguments(self, parser):
        parser.add_argument("--mentors", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=20261126)

    def handle(self, *args, mentors: int, seed: int, **options):
        rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        tags = self._tags()
        existing = User.objects.filter(email__startswith="bench-mentor-").count()
        password = make_password(None)  # unusable: bench mentors never sign in
        for start in range(existing, mentors, BATCH):
            stop = min(start + BATCH, mentors)
            with transaction.atomic():
                self._create_batch(range(start, stop), tags, rng, password)
            self.stdout.write(f"  {stop} / {mentors} mentors")
        total = MentorProfile.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Benchmark data ready: {total} mentors in all."))

    def _tags(self) -> list[ExpertiseTag]:
        for name in demo_data.TAGS:
            if not ExpertiseTag.objects.filter(name__iexact=name).exists():
                ExpertiseTag.objects.create(name=name, slug=slugify(name))
        return list(ExpertiseTag.objects.all())

    def _create_batch(self, numbers, tags, rng, password) -> None:
        users = []
        for number in numbers:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {number}"
            users.append(
                User(
                    email=f"bench-mentor-{number}@bench.example.com",
                    name=name,
                    timezone=rng.choice(ZONES),
                    password=password,
                )
            )
        User.objects.bulk_create(users, batch_size=BATCH)
        profiles, expertise, links = [], [], []
        for number, user in zip(numbers, users, strict=True):
            chosen = rng.sample(tags, 3)
            count = rng.choice([0, 0, 1, 3, 8, 20, 45])
            average = Decimal(str(round(rng.uniform(3.2, 5.0), 2))) if count else Decimal("0")
            profile = MentorProfile(
                user=user,
                slug=f"bench-mentor-{number}",
                headline=rng.choice(HEADLINES).format(a=chosen[0].name, b=chosen[1].name),
                biography=(
                    f"I am {user.name}. I have worked with {chosen[0].name} for years.\n\n"
                    f"Sessions with me focus on {chosen[1].name} and {chosen[2].name}."
                ),
                is_accepting_bookings=rng.random() > 0.05,
                rating_avg=average,
                rating_count=count,
            )
            profiles.append(profile)
            expertise += [MentorExpertise(mentor=profile, tag=tag) for tag in chosen]
            links += [
                SocialLink(
                    mentor=profile,
                    platform=SocialLink.Platform.GITHUB,
                    url=f"https://github.com/bench-mentor-{number}",
                ),
                SocialLink(
                    mentor=profile,
                    platform=SocialLink.Platform.LINKEDIN,
                    url=f"https://www.linkedin.com/in/bench-mentor-{number}",
                ),
            ]
        MentorProfile.objects.bulk_create(profiles, batch_size=BATCH)
        MentorExpertise.objects.bulk_create(expertise, batch_size=BATCH)
        SocialLink.objects.bulk_create(links, batch_size=BATCH)
