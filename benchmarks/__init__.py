"""Performance harness: ``python -m benchmarks`` (or ``make bench``).

Measures each endpoint in :mod:`benchmarks.endpoints` in-process and over HTTP
against gunicorn, and reports it as a ratio to a bare template view measured in
the same run. See ``benchmarks/README.md``.
"""

from pathlib import Path

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

# The bare template view, served by benchmarks.urls only (never by the product).
BARE_PATH = "/__bench__/bare/"
# Reference POSTs for the booking measurement (benchmarks.views), also bench-only.
SIGNED_IN_POST_PATH = "/__bench__/signed-in-post/"
LOCKED_WRITE_PATH = "/__bench__/locked-write/"
