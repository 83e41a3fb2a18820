"""Large data for benchmarks: ``seed_bench --mentors 10000``.

Bulk inserts in batches, so 10 000 mentors with some 70 000 reviews take well
under a minute (200, the benchmarks' default, a second). Running it again only
adds what is missing (mentors are numbered ``bench-mentor-<n>@bench.example.com``,
the mentees who review them ``bench-mentee-<n>@bench.example.com``).

Each mentor gets a realistic number of reviews (none for some, dozens for a
few), each of a completed past session with one of the bench mentees, with
ratings scattered around a level of their own. The stored ``rating_avg`` and
``rating_count`` are computed from exactly those ratings with the reviews
service's own rounding, so ``recompute_ratings --check`` finds nothing to fix
and the directory's rating sort has real work to do.
"""

import random
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from demo import demo_data
from mentorship.models import (
    ExpertiseTag,
    MenteeProfile,
    MentorExpertise,
    MentorProfile,
    SocialLink,
)
from reviews.models import Review
from reviews.selectors import average_rating
from scheduling.models import Session

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
MENTEES = 300
# How many reviews a mentor has: most a few, some none, some dozens (about
# seven on average: 10 000 mentors get some 70 000 reviews).
REVIEW_COUNTS = [0, 0, 1, 2, 3, 5, 8, 12, 30]
FEEDBACK = [
    "",
    "",
    "Clear, practical advice. I left with a plan for the next month.",
    "Very generous with their time and experience.",
    "Good session, though we ran out of time before my last question.",
    "Helped me see my design from a reviewer's side. Exactly what I needed.",
    "Friendly and direct. The mock interview was hard in the right way.",
    "Useful pointers, but it felt a bit rushed.",
    "We spent most of the time on my CV; I wanted more on system design.",
    "Honest feedback on my portfolio, delivered kindly.",
]


class Command(BaseCommand):
    help = "Create N benchmark mentors with tags and links (bulk inserts)."

    def add_arguments(self, parser):
        parser.add_argument("--mentors", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=20261126)

    def handle(self, *args, mentors: int, seed: int, **options):
        rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        tags = self._tags()
        password = make_password(None)  # unusable: bench people never sign in
        mentees = self._mentees(rng, password)
        existing = User.objects.filter(email__startswith="bench-mentor-").count()
        for start in range(existing, mentors, BATCH):
            stop = min(start + BATCH, mentors)
            with transaction.atomic():
                self._create_batch(range(start, stop), tags, rng, password, mentees)
            self.stdout.write(f"  {stop} / {mentors} mentors")
        total = MentorProfile.objects.count()
        reviews = Review.objects.count()
        self.stdout.write(
            self.style.SUCCESS(f"Benchmark data ready: {total} mentors, {reviews} reviews in all.")
        )

    def _mentees(self, rng, password) -> list[MenteeProfile]:
        """The bench mentees who write the reviews (created once)."""
        existing = User.objects.filter(email__startswith="bench-mentee-").count()
        users = [
            User(
                email=f"bench-mentee-{number}@bench.example.com",
                name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                timezone=rng.choice(ZONES),
                password=password,
            )
            for number in range(existing, MENTEES)
        ]
        with transaction.atomic():
            User.objects.bulk_create(users, batch_size=BATCH)
            MenteeProfile.objects.bulk_create(
                [MenteeProfile(user=user) for user in users], batch_size=BATCH
            )
        return list(
            MenteeProfile.objects.filter(user__email__startswith="bench-mentee-").order_by(
                "user__email"
            )
        )

    def _tags(self) -> list[ExpertiseTag]:
        for name in demo_data.TAGS:
            if not ExpertiseTag.objects.filter(name__iexact=name).exists():
                ExpertiseTag.objects.create(name=name, slug=slugify(name))
        return list(ExpertiseTag.objects.all())

    def _create_batch(self, numbers, tags, rng, password, mentees) -> None:
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
        profiles, expertise, links, ratings = [], [], [], []
        for number, user in zip(numbers, users, strict=True):
            chosen = rng.sample(tags, 3)
            level = rng.uniform(3.2, 5.0)
            given = [
                min(5, max(1, round(rng.gauss(level, 0.8))))
                for _ in range(rng.choice(REVIEW_COUNTS))
            ]
            profile = MentorProfile(
                user=user,
                slug=f"bench-mentor-{number}",
                headline=rng.choice(HEADLINES).format(a=chosen[0].name, b=chosen[1].name),
                biography=(
                    f"I am {user.name}. I have worked with {chosen[0].name} for years.\n\n"
                    f"Sessions with me focus on {chosen[1].name} and {chosen[2].name}."
                ),
                is_accepting_bookings=rng.random() > 0.05,
                # What the reviews service would store for these reviews.
                rating_avg=average_rating(sum(given), len(given)),
                rating_count=len(given),
            )
            profiles.append(profile)
            ratings.append(given)
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
        self._reviews(profiles, ratings, mentees, rng)

    def _reviews(self, profiles, ratings, mentees, rng) -> None:
        """One completed past session and its review per rating, newest first
        a few days ago, every three days further back (the sessions of one
        mentor never overlap)."""
        hour = timezone.now().replace(minute=0, second=0, microsecond=0)
        sessions, reviews = [], []
        for profile, given in zip(profiles, ratings, strict=True):
            for index, rating in enumerate(given):
                start = hour - timedelta(days=2 + 3 * index, hours=rng.randrange(12))
                # Ids, not instances: assigning instances is a third of the
                # time at this volume.
                session = Session(
                    mentor_id=profile.pk,
                    mentee_id=rng.choice(mentees).pk,
                    title="Mentoring session",
                    duration_minutes=60,
                    start=start,
                    end=start + timedelta(hours=1),
                    status=Session.Status.COMPLETED,
                )
                sessions.append(session)
                reviews.append(
                    Review(
                        session_id=session.pk,
                        mentor_id=profile.pk,
                        mentee_id=session.mentee_id,
                        rating=rating,
                        feedback=rng.choice(FEEDBACK),
                    )
                )
        Session.objects.bulk_create(sessions, batch_size=BATCH)
        Review.objects.bulk_create(reviews, batch_size=BATCH)
        # ``created_at`` is set to now on insert: date each review to the end
        # of its session instead, so "newest first" has a real order.
        Review.objects.filter(mentor__in=profiles).update(
            created_at=Subquery(Session.objects.filter(pk=OuterRef("session_id")).values("end")[:1])
        )
