"""Large data for benchmarks: ``seed_bench --mentors 10000``.

Bulk inserts in batches, so 10 000 mentors with some 100 000 reviews take
about a minute. Running it again only adds what is missing (mentors are
numbered ``bench-mentor-<n>@bench.example.com``, the mentees who review them
``bench-mentee-<n>@bench.example.com``), so a 10 000-mentor database grows to
30 000 with ``--mentors 30000``.

Each mentor gets a realistic number of reviews (none for some, dozens for a
few; ten on average), each of a completed past session with one of the bench
mentees, with ratings scattered around a level of their own. The stored
``rating_avg``, ``rating_count`` (and per-star counts) are computed from
exactly those ratings with the reviews service's own rounding, so
``recompute_ratings --check`` finds nothing to fix and the directory's rating
sort has real work to do.

Named fixtures the benchmark endpoints need (``FIXTURES`` below), created
once and checked on every run (rebuilt only if they are not as described):

* ``bench-sessions-40@…`` and ``bench-sessions-4000@…``: mentors with 40 and
  4 000 sessions (mostly completed, some cancelled or no-show, 10 upcoming),
  and a few sessions as a mentee of other bench mentors;
* ``bench-reviews-30`` and ``bench-reviews-30000``: mentors with that many
  published reviews, each of its own completed session;
* ``bench-busy-100``, ``bench-busy-1000`` and ``bench-busy-4000``: mentors with
  hours every day and that many busy intervals (upcoming sessions and
  calendar busy times, half each) inside ``busy_window`` (the dates the slots
  JSON endpoint of the benchmarks asks for).

Their upcoming sessions are with ``bench-fixture-mentee-<n>``, never with the
``bench-mentee-<n>`` accounts that the booking benchmarks sign in as (whose
limits on upcoming sessions must stay free).
"""

import random
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

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
from scheduling.models import BusyInterval, Session

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
# How many reviews a mentor has: most a few, some none, some dozens (ten on
# average: 10 000 mentors get some 100 000 reviews).
REVIEW_COUNTS = [0, 1, 2, 4, 6, 9, 12, 18, 38]
# Per-star counts stored beside rating_avg/rating_count (filled when the model has them).
STAR_FIELDS = [f"rating_{stars}_count" for stars in range(1, 6)]

# --- Named fixtures ---------------------------------------------------------------------
FIXTURE_EMAIL = "bench-{kind}-{count}@bench.example.com"
SESSION_USERS = (40, 4000)  # bench-sessions-<n>: mentors with n sessions
REVIEW_MENTORS = (30, 30_000)  # bench-reviews-<n>: mentors with n published reviews
BUSY_MENTORS = (100, 1000, 4000)  # bench-busy-<n>: n busy intervals in busy_window
FIXTURE_MENTEES = 40  # bench-fixture-mentee-<n>: the fixtures' upcoming sessions
UPCOMING_SESSIONS = 10  # of each bench-sessions-<n> user
SESSIONS_AS_MENTEE = 5  # each bench-sessions-<n> user also booked other mentors
# The busy mentors' hours: every day, in UTC.
BUSY_ZONE = "UTC"
BUSY_HOURS = (clock_time(6), clock_time(22))
SMALL_FIXTURE = 12  # --fixtures small: at most this many of each
BUSY_WINDOW_DAYS = 58  # inside the default 60-day booking horizon and the 62-day JSON limit


def busy_window(today: date | None = None) -> tuple[date, date]:
    """The first and last (inclusive) UTC dates that hold the busy mentors'
    intervals: tomorrow and the 57 days after. The slots JSON endpoints of the
    benchmarks ask for exactly these dates (``tz=UTC``)."""
    today = today or timezone.now().astimezone(UTC).date()
    first = today + timedelta(days=1)
    return first, first + timedelta(days=BUSY_WINDOW_DAYS - 1)


def star_counts(ratings) -> dict[str, int]:
    """The per-star count fields for ``ratings``, if the model has them."""
    fields = {field.name for field in MentorProfile._meta.get_fields()}
    return {
        name: sum(1 for rating in ratings if rating == stars)
        for stars, name in enumerate(STAR_FIELDS, start=1)
        if name in fields
    }


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


def trim_mentors(keep: int) -> int:
    """Delete the bench mentors numbered ``keep`` and above, with their
    sessions and reviews; returns how many."""
    numbers = {
        pk: int(slug.rsplit("-", 1)[1])
        for pk, slug in MentorProfile.objects.filter(slug__startswith="bench-mentor-").values_list(
            "pk", "slug"
        )
    }
    doomed = [pk for pk, number in numbers.items() if number >= keep]
    if not doomed:
        return 0
    with transaction.atomic():
        for start in range(0, len(doomed), BATCH):
            chunk = doomed[start : start + BATCH]
            user_ids = list(
                MentorProfile.objects.filter(pk__in=chunk).values_list("user_id", flat=True)
            )
            Review.objects.filter(session__mentor__in=chunk).delete()
            Review.objects.filter(mentor__in=chunk).delete()
            Session.objects.filter(mentor__in=chunk).delete()
            MentorProfile.objects.filter(pk__in=chunk).delete()
            User.objects.filter(pk__in=user_ids).delete()
    return len(doomed)


class Command(BaseCommand):
    help = "Create N benchmark mentors with tags and links (bulk inserts)."

    def add_arguments(self, parser):
        parser.add_argument("--mentors", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=20261126)
        parser.add_argument(
            "--fixtures",
            choices=["full", "small", "none"],
            default="full",
            help="the named fixtures at their sizes, at most 12 of each thing "
            "(smoke tests), or none",
        )
        parser.add_argument(
            "--trim",
            action="store_true",
            help="first delete the bench mentors numbered --mentors and above "
            "(back to this size after a larger run)",
        )

    def handle(self, *args, mentors: int, seed: int, fixtures="full", trim=False, **options):
        began = time.monotonic()
        if trim:
            removed = trim_mentors(mentors)
            if removed:
                self.stdout.write(f"  removed {removed} bench mentors numbered {mentors} and above")
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
        if fixtures != "none":
            self._fixtures(password, mentees, small=fixtures == "small")
        total = MentorProfile.objects.count()
        reviews = Review.objects.count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Benchmark data ready: {total} mentors, {reviews} reviews in all "
                f"({time.monotonic() - began:.1f}s)."
            )
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
                **star_counts(given),
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

    # --- Named fixtures -------------------------------------------------------------------

    def _fixtures(self, password, mentees, *, small: bool = False) -> None:
        """``FIXTURES``; ``small``: the same accounts and slugs with at most
        ``SMALL_FIXTURE`` sessions, reviews or busy intervals each."""
        began = time.monotonic()
        fixture_mentees = self._fixture_mentees(password)
        rng = random.Random(f"fixtures-{len(mentees)}")  # noqa: S311 - reproducible

        def size(count: int) -> int:
            return min(count, SMALL_FIXTURE) if small else count

        for count in SESSION_USERS:
            self._session_user(count, size(count), mentees, fixture_mentees, rng)
        for count in REVIEW_MENTORS:
            self._review_mentor(count, size(count), mentees, rng)
        for count in BUSY_MENTORS:
            self._busy_mentor(count, size(count), fixture_mentees)
        self.stdout.write(f"  named fixtures checked ({time.monotonic() - began:.1f}s)")

    def _fixture_mentees(self, password) -> list[MenteeProfile]:
        emails = [f"bench-fixture-mentee-{n}@bench.example.com" for n in range(FIXTURE_MENTEES)]
        existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
        users = [
            User(email=email, name=f"Fixture Mentee {n}", timezone="UTC", password=password)
            for n, email in enumerate(emails)
            if email not in existing
        ]
        with transaction.atomic():
            User.objects.bulk_create(users)
            MenteeProfile.objects.bulk_create([MenteeProfile(user=user) for user in users])
        return list(MenteeProfile.objects.filter(user__email__in=emails).order_by("user__email"))

    def _fixture_mentor(self, kind: str, count: int, *, zone: str = "Europe/Berlin"):
        """The listed mentor ``bench-<kind>-<count>`` (slug too), with the
        default session types (``become_mentor``)."""
        from mentorship.services import become_mentor

        email = FIXTURE_EMAIL.format(kind=kind, count=count)
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, name=f"Bench {kind.title()} {count}", timezone=zone
            )
        mentor = become_mentor(user=user)
        slug = f"bench-{kind}-{count}"
        if mentor.slug != slug or not mentor.is_accepting_bookings:
            MentorProfile.objects.filter(pk=mentor.pk).update(
                slug=slug,
                is_accepting_bookings=True,
                headline=f"Benchmark mentor with {count} {kind}",
            )
            mentor.refresh_from_db()
        return mentor

    def _session_user(self, name, count, mentees, fixture_mentees, rng) -> None:
        """A mentor with ``count`` sessions: ``UPCOMING_SESSIONS`` upcoming (one
        a day from the day after tomorrow), the rest in the past, four hours
        apart: mostly completed, one in ten cancelled, one in twenty no-show.
        Also a few past sessions as a mentee of other bench mentors."""
        mentor = self._fixture_mentor("sessions", name)
        if Session.objects.filter(mentor=mentor).count() == count:
            return
        with transaction.atomic():
            Review.objects.filter(session__mentor=mentor).delete()
            Session.objects.filter(mentor=mentor).delete()
            hour = timezone.now().replace(minute=0, second=0, microsecond=0)
            sessions = []
            upcoming = min(UPCOMING_SESSIONS, count)
            for index in range(upcoming):
                start = hour + timedelta(days=2 + index)
                sessions.append(
                    self._session(mentor, fixture_mentees[index % len(fixture_mentees)], start)
                )
            for index in range(count - upcoming):
                start = hour - timedelta(hours=24 + 4 * index)
                draw = rng.random()
                session = self._session(
                    mentor, rng.choice(mentees), start, status=Session.Status.COMPLETED
                )
                if draw < 0.10:
                    session.status = Session.Status.CANCELLED
                    session.cancelled_at = start - timedelta(days=1)
                    session.cancelled_by_id = mentor.user_id
                    session.cancellation_reason = "Something came up."
                elif draw < 0.15:
                    session.status = Session.Status.NO_SHOW
                    session.no_show_marked_at = session.end
                sessions.append(session)
            Session.objects.bulk_create(sessions, batch_size=BATCH)
            # The same user as a mentee of other bench mentors (past, completed).
            as_mentee, _ = MenteeProfile.objects.get_or_create(user_id=mentor.user_id)
            if not Session.objects.filter(mentee=as_mentee).exists():
                others = list(
                    MentorProfile.objects.filter(slug__startswith="bench-mentor-")
                    .order_by("pk")
                    .values_list("pk", flat=True)[:SESSIONS_AS_MENTEE]
                )
                Session.objects.bulk_create(
                    [
                        self._session(
                            MentorProfile(pk=other),
                            as_mentee,
                            hour - timedelta(days=3 * (index + 1), hours=1),
                            status=Session.Status.COMPLETED,
                        )
                        for index, other in enumerate(others)
                    ]
                )

    def _review_mentor(self, name, count, mentees, rng) -> None:
        """A mentor with ``count`` published reviews, each of its own completed
        session (two hours apart, going back from yesterday), with consistent
        stored aggregates."""
        mentor = self._fixture_mentor("reviews", name)
        if (
            mentor.rating_count == count
            and Review.objects.filter(mentor=mentor, is_hidden=False).count() == count
        ):
            return
        with transaction.atomic():
            Review.objects.filter(mentor=mentor).delete()
            Session.objects.filter(mentor=mentor).delete()
            hour = timezone.now().replace(minute=0, second=0, microsecond=0)
            level = 4.3
            ratings = [min(5, max(1, round(rng.gauss(level, 0.9)))) for _ in range(count)]
            sessions, reviews = [], []
            for index, rating in enumerate(ratings):
                session = self._session(
                    mentor,
                    rng.choice(mentees),
                    hour - timedelta(hours=24 + 2 * index),
                    status=Session.Status.COMPLETED,
                )
                sessions.append(session)
                reviews.append(
                    Review(
                        session_id=session.pk,
                        mentor_id=mentor.pk,
                        mentee_id=session.mentee_id,
                        rating=rating,
                        feedback=rng.choice(FEEDBACK),
                    )
                )
            Session.objects.bulk_create(sessions, batch_size=BATCH)
            Review.objects.bulk_create(reviews, batch_size=BATCH)
            Review.objects.filter(mentor=mentor).update(
                created_at=Subquery(
                    Session.objects.filter(pk=OuterRef("session_id")).values("end")[:1]
                )
            )
            MentorProfile.objects.filter(pk=mentor.pk).update(
                rating_avg=average_rating(sum(ratings), len(ratings)),
                rating_count=len(ratings),
                **star_counts(ratings),
            )

    def _busy_mentor(self, name, count, fixture_mentees) -> None:
        """A mentor with hours every day (``BUSY_HOURS``, UTC) and ``count``
        busy intervals spread evenly over those hours in ``busy_window``:
        every other one an upcoming session, the others calendar busy times."""
        from scheduling.availability import replace_weekly_hours
        from scheduling.models import Availability

        mentor = self._fixture_mentor("busy", name, zone=BUSY_ZONE)
        first, last = busy_window()
        window_start = datetime.combine(first, clock_time(0), tzinfo=UTC)
        window_end = datetime.combine(last + timedelta(days=1), clock_time(0), tzinfo=UTC)
        if not Availability.objects.filter(mentor=mentor).exists():
            replace_weekly_hours(
                mentor=mentor,
                timezone=BUSY_ZONE,
                weekly={weekday: [BUSY_HOURS] for weekday in range(7)},
                starting=first - timedelta(days=2),
            )
        in_window = (
            Session.objects.filter(
                mentor=mentor,
                status=Session.Status.UPCOMING,
                start__gte=window_start,
                end__lte=window_end,
            ).count()
            + BusyInterval.objects.filter(
                mentor=mentor, start__gte=window_start, end__lte=window_end
            ).count()
        )
        total = (
            Session.objects.filter(mentor=mentor).count()
            + BusyInterval.objects.filter(mentor=mentor).count()
        )
        if in_window == count == total:
            return
        day_minutes = (
            datetime.combine(first, BUSY_HOURS[1]) - datetime.combine(first, BUSY_HOURS[0])
        ).total_seconds() / 60
        step = day_minutes * BUSY_WINDOW_DAYS / count
        length = max(5, min(30, int(step / 2)))
        sessions, busy = [], []
        for index in range(count):
            offset = index * step
            day, minute = divmod(int(offset), int(day_minutes))
            start = datetime.combine(
                first + timedelta(days=day), BUSY_HOURS[0], tzinfo=UTC
            ) + timedelta(minutes=minute)
            if index % 2 == 0:
                sessions.append(
                    self._session(
                        mentor,
                        fixture_mentees[index % len(fixture_mentees)],
                        start,
                        minutes=length,
                    )
                )
            else:
                busy.append(
                    BusyInterval(
                        mentor_id=mentor.pk,
                        start=start,
                        end=start + timedelta(minutes=length),
                        source="benchmark",
                    )
                )
        with transaction.atomic():
            Session.objects.filter(mentor=mentor).delete()
            BusyInterval.objects.filter(mentor=mentor).delete()
            Session.objects.bulk_create(sessions, batch_size=BATCH)
            BusyInterval.objects.bulk_create(busy, batch_size=BATCH)

    @staticmethod
    def _session(mentor, mentee, start, *, status=Session.Status.UPCOMING, minutes=60) -> Session:
        return Session(
            mentor_id=mentor.pk,
            mentee_id=mentee.pk,
            title="Mentoring session",
            duration_minutes=minutes,
            start=start,
            end=start + timedelta(minutes=minutes),
            status=status,
        )
