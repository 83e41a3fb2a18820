"""Booking benchmark data, and the in-process booking POST measurement.

Everything a measured booking needs is prepared untimed first: mentors of
their own (``bench-booking-mentor-<n>``, ``bench-contention-mentor-<n>``: the
default session types, the default buffer, notice and horizon, hours every day
08:00-20:00 Berlin time), verified mentees (``bench-mentee-<n>``, with a
mentee profile), signed-in sessions, CSRF tokens, and one distinct free slot
per request. Slots are picked from the slot engine's own list, far enough
apart that booking one never takes another (the mentor's buffer), and at
least two hours after the notice period so they are still bookable minutes
later. Each mentee books at most as many sessions as the product's limits
allow (``MAX_UPCOMING_SESSIONS_WITH_ONE_MENTOR``, ``..._PER_MENTEE``), all with
one mentor, never two at the same time.

Preparing again first deletes the sessions earlier runs booked with these
mentors, so every run starts from the same free calendar.
"""

import gc
import math
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.crypto import get_random_string

from benchmarks import LOCKED_WRITE_PATH, SIGNED_IN_POST_PATH
from benchmarks.endpoints import BARE
from benchmarks.measure import BenchmarkError, InProcessResult, Row
from benchmarks.stats import percentile, ratio

MENTOR_EMAIL = "bench-{kind}-mentor-{number}@bench.example.com"
MENTEE_PREFIX = "bench-mentee-"
MENTEE_EMAIL = MENTEE_PREFIX + "{number}@bench.example.com"
MENTOR_ZONE = "Europe/Berlin"
WEEKLY_HOURS = {weekday: [(clock_time(8), clock_time(20))] for weekday in range(7)}
SESSION_TYPE = "intro-call"  # 30 minutes
# Slots start at least this long after the mentor's notice period, so that they
# are still bookable when the run reaches them.
SLOT_MARGIN = timedelta(hours=2)
# Bookings per benchmark mentor (they spread over about a week of each calendar).
BOOKINGS_PER_MENTOR = 100
QUERY_SAMPLES = 3
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
SESSION_PATH = re.compile(r"/sessions/([0-9a-f-]{36})/$")


@dataclass(frozen=True)
class PlannedBooking:
    """One booking POST: who books which free slot."""

    mentor_id: object
    mentor_slug: str
    start: datetime  # UTC
    mentee_email: str
    session_type: str = SESSION_TYPE

    @property
    def path(self) -> str:
        return f"/mentors/{self.mentor_slug}/book/"

    @property
    def start_text(self) -> str:
        return self.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def form(self, csrf_token: str) -> str:
        """The urlencoded body a browser sends for the picker's booking form."""
        return urlencode(
            {
                "csrfmiddlewaretoken": csrf_token,
                "type": self.session_type,
                "start": self.start_text,
                "topic": "Benchmark booking: system design interview practice.",
            }
        )


@dataclass(frozen=True)
class Credentials:
    """A signed-in mentee: the session key and a CSRF secret (cookie and form token)."""

    session_key: str
    csrf_token: str

    def cookies(self) -> SimpleCookie:
        jar = SimpleCookie()
        jar[settings.SESSION_COOKIE_NAME] = self.session_key
        jar[settings.CSRF_COOKIE_NAME] = self.csrf_token
        return jar

    def cookie_header(self) -> str:
        return (
            f"{settings.SESSION_COOKIE_NAME}={self.session_key}; "
            f"{settings.CSRF_COOKIE_NAME}={self.csrf_token}"
        )


# --- Data ------------------------------------------------------------------------------


def ensure_mentors(kind: str, count: int):
    """``count`` benchmark mentors of ``kind`` with session types and weekly hours."""
    from accounts.models import User
    from mentorship.models import MentorProfile
    from mentorship.services import become_mentor
    from scheduling.availability import replace_weekly_hours
    from scheduling.models import Availability

    mentors = []
    for number in range(count):
        email = MENTOR_EMAIL.format(kind=kind, number=number)
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, name=f"Bench {kind.title()} Mentor {number}", timezone=MENTOR_ZONE
            )
        mentor = become_mentor(user=user)
        if not mentor.is_accepting_bookings:
            MentorProfile.objects.filter(pk=mentor.pk).update(is_accepting_bookings=True)
        if not Availability.objects.filter(mentor=mentor).exists():
            replace_weekly_hours(
                mentor=mentor,
                timezone=MENTOR_ZONE,
                weekly=WEEKLY_HOURS,
                starting=timezone.localdate() - timedelta(days=1),
            )
        mentors.append(MentorProfile.objects.select_related("user").get(pk=mentor.pk))
    return mentors


def ensure_mentees(numbers: range) -> dict[int, object]:
    """Verified mentees ``bench-mentee-<n>`` for every n in ``numbers`` (bulk inserts)."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from mentorship.models import MenteeProfile

    emails = {number: MENTEE_EMAIL.format(number=number) for number in numbers}
    existing = set(User.objects.filter(email__in=emails.values()).values_list("email", flat=True))
    password = make_password(None)  # unusable: they sign in through force_login only
    users = [
        User(
            email=email, name=f"Bench Mentee {number}", timezone="Europe/London", password=password
        )
        for number, email in emails.items()
        if email not in existing
    ]
    User.objects.bulk_create(users, batch_size=1000)
    users_by_email = {user.email: user for user in User.objects.filter(email__in=emails.values())}
    verified = set(
        EmailAddress.objects.filter(user__in=users_by_email.values(), verified=True).values_list(
            "email", flat=True
        )
    )
    EmailAddress.objects.filter(user__in=users_by_email.values(), verified=False).delete()
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user=user, email=user.email, verified=True, primary=True)
            for user in users_by_email.values()
            if user.email not in verified
        ],
        batch_size=1000,
    )
    with_profile = set(
        MenteeProfile.objects.filter(user__in=users_by_email.values()).values_list(
            "user_id", flat=True
        )
    )
    MenteeProfile.objects.bulk_create(
        [
            MenteeProfile(user=user, goals="Benchmark mentee.")
            for user in users_by_email.values()
            if user.pk not in with_profile
        ],
        batch_size=1000,
    )
    return {number: users_by_email[email] for number, email in emails.items()}


def reset_sessions(mentors) -> int:
    """Delete the sessions earlier runs booked with ``mentors`` (benchmark
    mentors: only benchmark mentees book them, and they book no one else)."""
    from core.cache import times_changed
    from scheduling.models import Session

    deleted, _ = Session.objects.filter(mentor__in=mentors).delete()
    times_changed()
    return deleted


def free_slots(mentor, count: int, *, now: datetime | None = None) -> list[datetime]:
    """``count`` free starts of the intro call with ``mentor``, each still free
    after all the others are booked (apart by the length plus the buffer)."""
    from scheduling.models import SessionType
    from scheduling.slots import available_slots

    now = now or timezone.now()
    session_type = SessionType.objects.get(mentor=mentor, slug=SESSION_TYPE)
    earliest = now + timedelta(minutes=mentor.minimum_notice_minutes) + SLOT_MARGIN
    horizon = now + timedelta(days=mentor.booking_horizon_days)
    buffer = timedelta(minutes=mentor.buffer_minutes)
    chosen = []
    for slot in available_slots(mentor, session_type, earliest, horizon, now=now):
        if chosen and slot.start < chosen[-1].end + buffer:
            continue
        chosen.append(slot)
        if len(chosen) == count:
            return [slot.start for slot in chosen]
    raise BenchmarkError(
        f"{mentor.slug} has only {len(chosen)} free slots in its horizon, {count} needed"
    )


def mentee_reuse() -> int:
    """How many sessions one mentee may book with one mentor under the product's limits."""
    return max(
        1,
        min(
            settings.MAX_UPCOMING_SESSIONS_WITH_ONE_MENTOR,
            settings.MAX_UPCOMING_SESSIONS_PER_MENTEE,
        ),
    )


def sign_in(users) -> dict[str, Credentials]:
    """A signed-in session (a row in the session store) and a CSRF secret per user."""
    credentials = {}
    for user in users:
        client = Client()
        client.force_login(user)
        credentials[user.email] = Credentials(
            session_key=client.cookies[settings.SESSION_COOKIE_NAME].value,
            csrf_token=get_random_string(CSRF_SECRET_LENGTH, allowed_chars=CSRF_ALLOWED_CHARS),
        )
    return credentials


def plan_bookings(count: int, *, first_mentee: int = 0, now=None, kind: str = "booking"):
    """``count`` bookings of distinct free slots, spread over benchmark mentors
    of ``kind`` (round robin, ``BOOKINGS_PER_MENTOR`` each at most); returns the
    plan and the mentees' credentials (keyed by email)."""
    mentor_count = max(1, math.ceil(count / BOOKINGS_PER_MENTOR))
    mentors = ensure_mentors(kind, mentor_count)
    reset_sessions(mentors)
    per_mentor = math.ceil(count / mentor_count)
    starts = [free_slots(mentor, per_mentor, now=now) for mentor in mentors]
    reuse = mentee_reuse()
    plan = []
    for index in range(count):
        which, nth = index % mentor_count, index // mentor_count
        # A mentee books ``reuse`` of one mentor's slots (never at the same time).
        mentee = first_mentee + (nth // reuse) * mentor_count + which
        plan.append(
            PlannedBooking(
                mentor_id=mentors[which].pk,
                mentor_slug=mentors[which].slug,
                start=starts[which][nth],
                mentee_email=MENTEE_EMAIL.format(number=mentee),
            )
        )
    numbers = sorted({int(re.search(r"(\d+)@", item.mentee_email).group(1)) for item in plan})
    users = ensure_mentees(range(first_mentee, numbers[-1] + 1) if numbers else range(0))
    return plan, sign_in(users[number] for number in numbers)


def booked_session_id(response) -> str | None:
    """The session id a successful booking redirected to, or None."""
    if response.status_code != 302:
        return None
    match = SESSION_PATH.search(response.headers.get("Location", ""))
    return match.group(1) if match else None


def verify_sessions(plan: list[PlannedBooking], session_ids: list[str]) -> None:
    """Every planned booking exists as an upcoming session of the right mentor,
    start and mentee; raises BenchmarkError otherwise."""
    from scheduling.models import Session

    found = {
        str(pk): (mentor_id, start, email)
        for pk, mentor_id, start, email in Session.objects.blocking()
        .filter(pk__in=session_ids)
        .values_list("pk", "mentor_id", "start", "mentee__user__email")
    }
    missing = [
        (item, pk)
        for item, pk in zip(plan, session_ids, strict=True)
        if found.get(pk) != (item.mentor_id, item.start, item.mentee_email)
    ]
    if missing:
        item, pk = missing[0]
        raise BenchmarkError(
            f"{len(missing)} of {len(plan)} booked sessions are not in the database as "
            f"booked (first: {pk} for {item.mentor_slug} at {item.start_text})"
        )


def double_bookings() -> int:
    """Upcoming/active sessions overlapping an earlier (by id) one of the same
    mentor, in the whole database: a slot booked three times counts 2."""
    from scheduling.models import Session

    blocking = Session.objects.blocking()
    overlapping = blocking.filter(
        mentor=OuterRef("mentor"),
        start__lt=OuterRef("end"),
        end__gt=OuterRef("start"),
        pk__lt=OuterRef("pk"),
    )
    return blocking.filter(Exists(overlapping)).count()


# --- In-process measurement -----------------------------------------------------------------


def _post(client: Client, item: PlannedBooking, credentials: Credentials):
    client.cookies = credentials.cookies()
    return client.post(item.path, item.form(credentials.csrf_token), content_type=FORM_CONTENT_TYPE)


def _check(response, item: PlannedBooking) -> str:
    session_id = booked_session_id(response)
    if session_id is None:
        raise BenchmarkError(
            f"booking POST {item.path} ({item.start_text}, {item.mentee_email}) answered "
            f"{response.status_code} {response.headers.get('Location', '')}, expected 302 "
            "to the new session"
        )
    return session_id


@dataclass(frozen=True)
class Reference:
    """A POST timed beside the bookings to show the floor under them
    (``benchmarks.views``): signed in, CSRF checked, answered with a redirect."""

    name: str
    path: str


REFERENCES = (
    Reference("signed-in POST, no work", SIGNED_IN_POST_PATH),
    Reference("signed-in POST, locked write", LOCKED_WRITE_PATH),
)


@dataclass
class BookingRun:
    row: Row
    bare: InProcessResult  # the bare view, timed in the same rounds
    mentors: int
    mentees: int
    references: list[Row] = field(default_factory=list)  # REFERENCES, same rounds


def _result(timings: list[float], queries: int) -> InProcessResult:
    return InProcessResult(
        requests=len(timings),
        median_ms=percentile(timings, 50) * 1000,
        p95_ms=percentile(timings, 95) * 1000,
        queries=queries,
    )


def _reference_post(client: Client, reference: Reference, credentials: Credentials):
    client.cookies = credentials.cookies()
    response = client.post(
        reference.path,
        urlencode({"csrfmiddlewaretoken": credentials.csrf_token}),
        content_type=FORM_CONTENT_TYPE,
    )
    if response.status_code != 302:
        raise BenchmarkError(
            f"{reference.name} ({reference.path}) answered {response.status_code}, expected 302"
        )
    return response


def measure_booking_posts(
    *, requests: int, warmup: int, rounds: int = 5, progress=None
) -> BookingRun:
    """Time ``requests`` booking POSTs (each a different free slot, each must
    answer 302), interleaved round by round with as many bare-view requests
    and as many of each reference POST (``REFERENCES``, signed in as a
    benchmark mentee); then check every session exists. Every ratio is to the
    bare median of these rounds."""
    if requests < 1:
        raise ValueError("requests must be at least 1")
    total = warmup + requests + QUERY_SAMPLES
    if progress:
        progress(f"booking: preparing {total} free slots, mentees and sessions")
    plan, credentials = plan_bookings(total)
    warm, timed, sampled = plan[:warmup], plan[warmup : warmup + requests], plan[-QUERY_SAMPLES:]
    client = Client(enforce_csrf_checks=True)
    bare_client = Client()
    reference_credentials = credentials[plan[0].mentee_email]
    session_ids: list[str] = []

    if progress:
        progress(f"booking: warm-up ({warmup} POSTs)")
    for item in warm:
        session_ids.append(_check(_post(client, item, credentials[item.mentee_email]), item))
    for _ in range(warmup):
        bare_client.get(BARE.path)
        for reference in REFERENCES:
            _reference_post(client, reference, reference_credentials)

    rounds = max(1, min(rounds, requests))
    post_timings: list[float] = []
    bare_timings: list[float] = []
    reference_timings: dict[Reference, list[float]] = {item: [] for item in REFERENCES}
    position = 0
    for index in range(rounds):
        count = requests // rounds + (1 if index < requests % rounds else 0)
        if progress:
            progress(
                f"booking: round {index + 1}/{rounds}, {count} POSTs, bare and reference requests"
            )
        gc.collect()
        for _ in range(count):
            began = time.perf_counter()
            response = bare_client.get(BARE.path)
            bare_timings.append(time.perf_counter() - began)
            if response.status_code != 200:
                raise BenchmarkError(f"bare view answered {response.status_code}")
        for reference, timings in reference_timings.items():
            client.cookies = reference_credentials.cookies()
            body = urlencode({"csrfmiddlewaretoken": reference_credentials.csrf_token})
            for _ in range(count):
                began = time.perf_counter()
                response = client.post(reference.path, body, content_type=FORM_CONTENT_TYPE)
                timings.append(time.perf_counter() - began)
                if response.status_code != 302:
                    raise BenchmarkError(
                        f"{reference.name} answered {response.status_code}, expected 302"
                    )
        for item in timed[position : position + count]:
            item_credentials = credentials[item.mentee_email]
            client.cookies = item_credentials.cookies()
            body = item.form(item_credentials.csrf_token)
            began = time.perf_counter()
            response = client.post(item.path, body, content_type=FORM_CONTENT_TYPE)
            post_timings.append(time.perf_counter() - began)
            session_ids.append(_check(response, item))
        position += count

    queries = 0
    for item in sampled:
        with CaptureQueriesContext(connection) as captured:
            response = _post(client, item, credentials[item.mentee_email])
        session_ids.append(_check(response, item))
        queries = max(queries, len(captured.captured_queries))
    reference_queries = {}
    for reference in REFERENCES:
        with CaptureQueriesContext(connection) as captured:
            _reference_post(client, reference, reference_credentials)
        reference_queries[reference] = len(captured.captured_queries)

    verify_sessions(plan, session_ids)
    bare = _result(bare_timings, 0)
    result = _result(post_timings, queries)
    row = Row(
        name="booking POST",
        path="/mentors/<slug>/book/",
        user=None,
        in_process=result,
        in_process_ratio=ratio(result.median_ms, bare.median_ms),
    )
    references = []
    for reference, timings in reference_timings.items():
        measured = _result(timings, reference_queries[reference])
        references.append(
            Row(
                name=reference.name,
                path=reference.path,
                user=None,  # a benchmark mentee (the table names only seeded accounts)
                in_process=measured,
                in_process_ratio=ratio(measured.median_ms, bare.median_ms),
            )
        )
    return BookingRun(
        row=row,
        bare=bare,
        mentors=len({item.mentor_id for item in plan}),
        mentees=len(credentials),
        references=references,
    )


def format_booking(run: BookingRun, target: float = 3.0) -> str:
    verdict = "meets" if run.row.in_process_ratio <= target else "MISSES"
    booking_ms = run.row.in_process.median_ms
    return (
        f"booking POST (302, {run.row.in_process.requests} different free slots of "
        f"{run.mentors} mentor{'' if run.mentors == 1 else 's'}, {run.mentees} signed-in "
        "mentees, CSRF checked): "
        f"median {run.row.in_process.median_ms:.3f} ms, p95 {run.row.in_process.p95_ms:.3f} ms, "
        f"{run.row.in_process.queries} queries; bare view in the same rounds "
        f"{run.bare.median_ms:.3f} ms: {run.row.in_process_ratio:.2f}x bare "
        f"({verdict} the {target:g}x target); every session checked in the database"
        + "".join(
            f"\n  for reference, {reference.name}: {reference.in_process.median_ms:.3f} ms, "
            f"{reference.in_process.queries} queries, {reference.in_process_ratio:.2f}x bare; "
            f"the booking is {ratio(booking_ms, reference.in_process.median_ms):.2f}x this"
            for reference in run.references
        )
    )
