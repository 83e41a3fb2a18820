"""What the harness measures. Adding an endpoint is one line in ``ENDPOINTS``.

``Endpoint(name, path, user=None, status=200)``:

* ``path`` is a URL path, or a zero-argument callable returning one; callables
  are resolved after seeding, so they may look rows up (e.g. a mentor's slug).
* ``user`` is the email of a seeded account to sign in as (see ``seed_demo``);
  ``None`` measures an anonymous visitor.
* ``status`` is the status every measured response must have.
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

    def resolve_path(self) -> str:
        return self.path() if callable(self.path) else self.path


# The baseline: base.html with 20 list items, no database queries.
BARE = Endpoint("bare template", BARE_PATH)

ENDPOINTS: list[Endpoint] = [
    Endpoint("home", "/"),
    Endpoint("healthz", "/healthz"),
]
