"""Small, idempotent demo data with documented accounts (see README.md).

Running it twice changes nothing: rows are looked up by their natural keys and
only created when missing.
"""

from datetime import time, timedelta

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import User
from demo import demo_data
from mentorship import services
from mentorship.models import ExpertiseTag, MenteeProfile, MentorProfile
from reviews.models import Review
from reviews.services import reply_to_review, submit_review
from scheduling.availability import create_default_session_types, replace_weekly_hours
from scheduling.booking import book_session
from scheduling.models import Availability, Session
from scheduling.slots import available_slots

DEMO_PASSWORD = "mentorship-demo"  # noqa: S105 - documented demo credential

STAFF = {"email": "admin@example.com", "name": "Alex Admin", "timezone": "Europe/London"}

# Past sessions and the reviews their mentees left, some with the mentor's
# reply. The demo mentee's own past session with Maya is left unreviewed, so
# the review form can be tried as mentee@example.com.
DEMO_REVIEWS = [
    {
        "mentor": "mentor@example.com",
        "mentee": "priya.nair@example.com",
        "days_ago": 41,
        "topic": "Reviewing my first design document.",
        "rating": 5,
        "feedback": "Maya read my design document beforehand and came with questions that "
        "showed me where it was vague. I rewrote half of it the same evening.",
        "reply": "Thank you, Priya! The second version was a real step up. Good luck with the "
        "review meeting.",
    },
    {
        "mentor": "mentor@example.com",
        "mentee": "liam.murphy@example.com",
        "days_ago": 27,
        "topic": "How engineers think about roadmaps.",
        "rating": 4,
        "feedback": "Very clear about how engineers weigh roadmap trade-offs. I would have "
        "liked a few more concrete examples.",
    },
    {
        "mentor": "mentor@example.com",
        "mentee": "zoe.martin@example.com",
        "days_ago": 9,
        "topic": "System design interview practice.",
        "rating": 5,
        "feedback": "A realistic mock interview and honest, kind feedback afterwards.",
    },
    {
        "mentor": "kwame.asante@example.com",
        "mentee": "liam.murphy@example.com",
        "days_ago": 33,
        "topic": "Running my first one-on-ones.",
        "rating": 5,
        "feedback": "Practical advice on one-on-ones that I could use the next day.",
        "reply": "Glad it helped, Liam. Let me know how the first month goes.",
    },
    {
        "mentor": "kwame.asante@example.com",
        "mentee": "priya.nair@example.com",
        "days_ago": 15,
        "topic": "Preparing for behavioural interviews.",
        "rating": 4,
        "feedback": "Good preparation for behavioural questions.",
    },
    {
        "mentor": "sofia.rossi@example.com",
        "mentee": "priya.nair@example.com",
        "days_ago": 20,
        "topic": "Portfolio review.",
        "rating": 5,
        "feedback": "Sofia's portfolio critique was detailed and encouraging.",
    },
    {
        "mentor": "sofia.rossi@example.com",
        "mentee": "zoe.martin@example.com",
        "days_ago": 6,
        "topic": "Accessible dashboards.",
        "rating": 3,
        "feedback": "Useful pointers on accessible charts, though we ran out of time.",
    },
    {
        "mentor": "arjun.mehta@example.com",
        "mentee": "zoe.martin@example.com",
        "days_ago": 18,
        "topic": "Moving from analytics into machine learning.",
        "rating": 5,
        "feedback": "Arjun gave me a realistic plan for moving into ML.",
    },
]


def demo_user(*, email: str, name: str, timezone: str, staff: bool = False) -> tuple[User, bool]:
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        factory = User.objects.create_superuser if staff else User.objects.create_user
        user = factory(email=email, password=DEMO_PASSWORD, name=name, timezone=timezone)
    # Demo accounts can sign in at once: their address counts as verified.
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user, created


class Command(BaseCommand):
    help = "Create the demo community (idempotent). Password for every account: " + DEMO_PASSWORD

    def handle(self, *args, **options):
        # The demo people are fictional: their booking emails go nowhere
        # instead of filling the console (the outbox records them as sent).
        # The transaction commits, and its emails are handed over, inside.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            self._seed()

    @transaction.atomic
    def _seed(self) -> None:
        created = 0
        _admin, is_new = demo_user(**STAFF, staff=True)
        created += is_new

        tags = {}
        for name in demo_data.TAGS:
            tag = ExpertiseTag.objects.filter(name__iexact=name).first()
            if tag is None:
                tag = services.create_expertise_tag(name=name)
                created += 1
            tags[name] = tag

        for entry in demo_data.MENTORS:
            user, is_new = demo_user(
                email=entry["email"], name=entry["name"], timezone=entry["timezone"]
            )
            created += is_new
            mentor = MentorProfile.objects.filter(user=user).first()
            if mentor is not None:
                created += self._schedule(mentor, entry)
                continue
            mentor = services.become_mentor(user=user)
            services.update_mentor_profile(
                mentor=mentor,
                changes={
                    "headline": entry["headline"],
                    "biography": entry["biography"],
                    "is_accepting_bookings": entry.get("is_accepting_bookings", True),
                },
                tags=[tags[name] for name in entry["tags"]],
                links=entry["links"],
            )
            created += 1 + self._schedule(mentor, entry)

        for entry in demo_data.MENTEES:
            user, is_new = demo_user(
                email=entry["email"], name=entry["name"], timezone=entry["timezone"]
            )
            created += is_new
            if not hasattr(user, "mentee_profile"):
                mentee = services.become_mentee(user=user)
                services.update_mentee_profile(
                    mentee=mentee, biography=entry["biography"], goals=entry["goals"]
                )
                created += 1

        created += self._sessions()
        created += self._reviews()

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready ({created} row(s) created). Sign in as admin@example.com, "
                f"mentor@example.com or mentee@example.com with the password “{DEMO_PASSWORD}”."
            )
        )

    def _schedule(self, mentor: MentorProfile, entry: dict) -> int:
        """Session types and weekly hours, for mentors that have none yet."""
        created = (
            len(create_default_session_types(mentor=mentor))
            if not mentor.session_types.exists()
            else 0
        )
        if not Availability.objects.filter(mentor=mentor).exists():
            weekly = {
                weekday: [(time(hour), time(hour + 3)) for hour in entry.get("hours", (9, 14))]
                for weekday in entry.get("weekdays", range(5))
            }
            created += len(
                replace_weekly_hours(
                    mentor=mentor,
                    timezone=entry["timezone"],
                    weekly=weekly,
                    starting=timezone.localdate(),
                )
            )
        return created

    def _sessions(self) -> int:
        """The demo mentee's history with Maya: one upcoming session, booked
        through the real service at a free time two days ahead, and one completed two
        weeks earlier (the past cannot be booked, so that row is written
        directly). Only when the demo mentee has no sessions yet."""
        mentee_user = User.objects.get(email__iexact="mentee@example.com")
        if Session.objects.filter(mentee__user=mentee_user).exists():
            return 0
        maya = MentorProfile.objects.select_related("user").get(
            user__email__iexact="mentor@example.com"
        )
        intro = maya.session_types.filter(is_active=True).order_by("duration_minutes").first()
        now = timezone.now()
        # Two days ahead at least, so the demo mentee can still move or cancel it.
        soonest = now + timedelta(days=2)
        slots = available_slots(maya, intro, soonest, soonest + timedelta(days=21), now=now)
        if intro is None or not slots:
            return 0
        upcoming = book_session(
            mentee_user=mentee_user,
            mentor=maya,
            session_type=intro,
            start=slots[0].start,
            topic="How do I prepare for my first staff-engineer interview?",
        )
        past_start = upcoming.start - timedelta(days=14)
        Session.objects.create(
            mentor=maya,
            mentee=upcoming.mentee,
            session_type=intro,
            title=intro.name,
            duration_minutes=intro.duration_minutes,
            start=past_start,
            end=past_start + timedelta(minutes=intro.duration_minutes),
            status=Session.Status.COMPLETED,
            topic="Getting started: goals for the next six months.",
            meeting_id=upcoming.meeting_id,
            meeting_url=upcoming.meeting_url,
        )
        return 2

    def _reviews(self) -> int:
        """``DEMO_REVIEWS``: each a completed session, written directly like the
        demo mentee's past one (the past cannot be booked), then its review and
        reply through the real services, which keep the mentors' ratings.
        Sessions are found again by mentor, mentee and topic."""
        created = 0
        now = timezone.now()
        for entry in DEMO_REVIEWS:
            mentor = (
                MentorProfile.objects.select_related("user")
                .filter(user__email__iexact=entry["mentor"])
                .first()
            )
            mentee = (
                MenteeProfile.objects.select_related("user")
                .filter(user__email__iexact=entry["mentee"])
                .first()
            )
            if mentor is None or mentee is None:
                continue
            session = Session.objects.filter(
                mentor=mentor, mentee=mentee, topic=entry["topic"]
            ).first()
            if session is None:
                offered = mentor.session_types.filter(is_active=True)
                session_type = offered.order_by("-duration_minutes").first()
                if session_type is None:
                    continue
                start = (now - timedelta(days=entry["days_ago"])).replace(
                    hour=15, minute=0, second=0, microsecond=0
                )
                session = Session.objects.create(
                    mentor=mentor,
                    mentee=mentee,
                    session_type=session_type,
                    title=session_type.name,
                    duration_minutes=session_type.duration_minutes,
                    start=start,
                    end=start + timedelta(minutes=session_type.duration_minutes),
                    status=Session.Status.COMPLETED,
                    topic=entry["topic"],
                )
                created += 1
            if Review.objects.filter(session=session).exists():
                continue
            review = submit_review(
                session=session,
                by=mentee.user,
                rating=entry["rating"],
                feedback=entry["feedback"],
                now=now,
            )
            created += 1
            if entry.get("reply"):
                reply_to_review(review=review, by=mentor.user, body=entry["reply"])
                created += 1
        return created
