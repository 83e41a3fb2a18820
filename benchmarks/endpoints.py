"""What the harness measures. Adding an endpoint is one line in ``ENDPOINTS``.

``Endpoint(name, path, user=None, status=200)``:

* ``path`` is a URL path, or a zero-argument callable returning one; callables
  are resolved after seeding, so they may look rows up (e.g. a mentor's slug).
* ``user`` is the email of a seeded account to sign in as (see ``seed_demo``);
  ``None`` measures an anonymous visitor.
* ``status`` is the status every measured response must have.
* ``cold=True`` clears the cache before each request: the uncached cost.
"""

from collections.abc import Callable
from dataclasses import dataclass

from benchmarks import BARE_PATH


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str | Callable[[], str]
    user: str | None = None
    status: int = 200
    # Cold: the cache is cleared before every request (untimed), measuring the
    # path with no cached fragments. In-process only: gunicorn workers keep
    # their own caches.
    cold: bool = False

    def resolve_path(self) -> str:
        return self.path() if callable(self.path) else self.path


# The baseline: base.html with 20 list items, no database queries.
BARE = Endpoint("bare template", BARE_PATH)


def _a_listed_mentor() -> str:
    from mentorship.models import MentorProfile

    slug = MentorProfile.objects.listed().order_by("slug").values_list("slug", flat=True)[0]
    return f"/mentors/{slug}/"


def _last_directory_page() -> str:
    # Page 500 with 10 000 mentors; on smaller data sets the last page.
    from mentorship.models import MentorProfile
    from mentorship.selectors import PAGE_SIZE

    pages = max(1, -(-MentorProfile.objects.listed().count() // PAGE_SIZE))
    return f"/mentors/?page={min(500, pages)}"


def _busy_slots(count: int):
    """The slots JSON of ``bench-busy-<count>`` over ``busy_window`` (UTC
    dates), which holds all its ``count`` busy intervals (``seed_bench``)."""

    def path() -> str:
        from demo.management.commands.seed_bench import busy_window

        first, last = busy_window()
        return f"/mentors/bench-busy-{count}/slots/?type=intro-call&from={first}&to={last}&tz=UTC"

    return path


SESSIONS_40 = "bench-sessions-40@bench.example.com"
SESSIONS_4000 = "bench-sessions-4000@bench.example.com"


def _demo_mentor_slots() -> str:
    # seed_demo's Maya Mentor has weekday hours: a week of intro-call times.
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    last = today + timedelta(days=6)
    return f"/mentors/maya-mentor/slots/?type=intro-call&from={today}&to={last}&tz=Europe/Berlin"


ENDPOINTS: list[Endpoint] = [
    Endpoint("home", "/"),
    Endpoint("healthz", "/healthz"),
    Endpoint("directory p1", "/mentors/"),
    Endpoint("directory deep", _last_directory_page),
    Endpoint("directory tag", "/mentors/?tag=python"),
    Endpoint("directory q", "/mentors/?q=kubernetes"),
    Endpoint("mentor page", _a_listed_mentor),
    Endpoint("slots json (7 days)", _demo_mentor_slots),
    Endpoint("slot picker", "/mentors/maya-mentor/book/?tz=Europe/Berlin"),
    # The same pages with nothing cached: what a first visit, or the first
    # request after any profile change, costs.
    Endpoint("directory p1 cold", "/mentors/", cold=True),
    Endpoint("directory deep cold", _last_directory_page, cold=True),
    Endpoint("directory q cold", "/mentors/?q=kubernetes", cold=True),
    Endpoint("mentor page cold", _a_listed_mentor, cold=True),
    Endpoint("slots json cold", _demo_mentor_slots, cold=True),
    Endpoint("slot picker cold", "/mentors/maya-mentor/book/?tz=Europe/Berlin", cold=True),
    # Pages whose cost must not grow with the data behind them (seed_bench's
    # named fixtures): page 1 of /sessions/ for users with 40 and 4 000
    # sessions, mentor pages with 30 and 30 000 reviews, the slots JSON of
    # mentors with 100, 1 000 and 4 000 busy intervals in the range asked for.
    # The floor under any signed-in page: the bare view for a signed-in user
    # (the Django session, the user and the navbar's roles, three queries).
    Endpoint("bare template, signed in", BARE_PATH, user=SESSIONS_40),
    Endpoint("sessions (40)", "/sessions/", user=SESSIONS_40),
    Endpoint("sessions (4000)", "/sessions/", user=SESSIONS_4000),
    Endpoint("mentor page 30 reviews", "/mentors/bench-reviews-30/"),
    Endpoint("mentor page 30000 reviews", "/mentors/bench-reviews-30000/"),
    Endpoint("mentor page 30 reviews cold", "/mentors/bench-reviews-30/", cold=True),
    Endpoint("mentor page 30000 reviews cold", "/mentors/bench-reviews-30000/", cold=True),
    Endpoint("slots json busy 100 cold", _busy_slots(100), cold=True),
    Endpoint("slots json busy 1000 cold", _busy_slots(1000), cold=True),
    Endpoint("slots json busy 4000 cold", _busy_slots(4000), cold=True),
]

# The directory endpoints measured again at the larger size (--scale-mentors).
DIRECTORY_NAMES = (
    "directory p1",
    "directory deep",
    "directory q",
    "directory p1 cold",
    "directory deep cold",
    "directory q cold",
)


def directory_endpoints() -> list[Endpoint]:
    return [endpoint for endpoint in ENDPOINTS if endpoint.name in DIRECTORY_NAMES]
