"""Meeting links behind a small provider interface.

Jitsi Meet by default (``MEETING_BASE_URL``): a room with an unguessable name
needs no account and no API call. Another provider implements ``create`` and
is named in ``MEETING_PROVIDER``.
"""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Meeting:
    meeting_id: str
    url: str


class JitsiMeetProvider:
    def create(self, *, session) -> Meeting:
        room = f"mentorship-{secrets.token_urlsafe(18)}"
        return Meeting(meeting_id=room, url=f"{settings.MEETING_BASE_URL.rstrip('/')}/{room}")


def meeting_provider():
    return import_string(settings.MEETING_PROVIDER)()
