"""Times as people read them: in the current time zone, with the zone named.

The zone's abbreviation comes from the datetime itself, not from Django's
``T`` format character, which is blank for a wall time that a clock change
makes ambiguous (01:30 on the night New York falls back happens twice) —
just when the reader needs it.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import dateformat, timezone

from core.timeformat import clock_pattern, format_time_of_day


def local_time(moment, pattern: str, *, with_zone: bool = True) -> str:
    """``moment`` in the current time zone, formatted with ``pattern`` and
    followed by the zone's abbreviation (“09:00 EST”)."""
    local = timezone.localtime(moment)
    if pattern == "H:i":  # the same text, without Django's general formatter
        text = format_time_of_day(local.time())
    else:
        text = dateformat.format(local, clock_pattern(pattern))
    return f"{text} {local.tzname()}" if with_zone else text


def session_times(start, end) -> str:
    """“09:00–09:30 EST” in the current time zone.

    The zone's abbreviation follows the end; when a clock change falls inside
    the session the start names its own too (“01:30 EDT–01:30 EST”), or the
    range would read as an empty one."""
    crosses_change = timezone.localtime(start).utcoffset() != timezone.localtime(end).utcoffset()
    return f"{local_time(start, 'H:i', with_zone=crosses_change)}–{local_time(end, 'H:i')}"


def session_day_and_times(start, end) -> tuple[str, str]:
    """(“Monday 30 November 2026”, “09:00–09:30 EST”) in the current time zone
    (``session_times``)."""
    return local_time(start, "l j F Y", with_zone=False), session_times(start, end)


def utc_range(zone_name: str, first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC for the dates ``first``..``last`` (inclusive) in ``zone_name``."""
    zone = ZoneInfo(zone_name)
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def utc_iso(moment: datetime) -> str:
    """``moment`` as an ISO 8601 UTC timestamp: ``2026-03-31T08:00:00Z``."""
    # isoformat, not strftime: a few times faster, and a month of slots is
    # thousands of them (the slots JSON). In UTC it ends in "+00:00".
    return moment.astimezone(UTC).isoformat(timespec="seconds")[:-6] + "Z"


def utc_offset_label(zone: ZoneInfo, day: date) -> str:
    """``zone``'s offset at noon on ``day``: “UTC-05:00”, “UTC+05:30”."""
    offset = datetime.combine(day, time(12), tzinfo=zone).strftime("%z")  # "+0530"
    return f"UTC{offset[:3]}:{offset[3:]}"


def zone_label(zone_name: str, moment: datetime) -> str:
    """A zone as people read it, with its offset at ``moment``:
    “New York (UTC-05:00)” for America/New_York."""
    zone = ZoneInfo(zone_name)
    place = zone_name.rsplit("/", 1)[-1].replace("_", " ")
    return f"{place} ({utc_offset_label(zone, moment.astimezone(zone).date())})"


def wall_clock(zone_name: str, moment: datetime) -> str:
    """What a clock in ``zone_name`` reads at ``moment``: “14:05” (“2:05 PM”
    on the reader's 12-hour clock)."""
    return format_time_of_day(moment.astimezone(ZoneInfo(zone_name)).time())
