"""The back office for session types, availability, busy times, sessions and
calendar connections.

Sessions are created and changed only through services (DESIGN §4, §7): their
admin pages are for looking, and the one way staff change a session here is
the "Cancel selected sessions" action, which calls ``cancel_session`` for each
one. The other models are plain rows; every edit marks the cached public
pages stale (``InvalidatesProfileFragments``). Calendar connections are for
looking, and for "Sync now": their secrets never reach an admin page.
"""

from . import calendars, notifications, sessions

__all__ = ["calendars", "notifications", "sessions"]
