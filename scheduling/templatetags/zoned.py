"""``{{ moment|zoned:"H:i" }}`` → “09:00 EST”; ``{% time_range start end "D j M Y" %}``
→ “Mon 30 Nov 2026, 09:00–09:30 EST”. See ``scheduling/timefmt.py``."""

from django import template
from django.utils import timezone

from core.timeformat import clock_pattern, format_time_of_day
from scheduling.timefmt import local_time, session_times
from scheduling.timefmt import zone_label as readable_zone

register = template.Library()


@register.filter
def zoned(moment, pattern: str = "j F Y, H:i") -> str:
    """``moment`` formatted with ``pattern`` and its zone; an empty pattern
    gives the zone's abbreviation alone."""
    if not moment:
        return ""
    if not pattern:
        return timezone.localtime(moment).tzname()
    return local_time(moment, pattern)


@register.filter
def zone_label(zone_name: str) -> str:
    """``"America/New_York"|zone_label`` → “New York (UTC-05:00)”, the offset now."""
    return readable_zone(zone_name, timezone.now()) if zone_name else ""


@register.simple_tag
def time_range(start, end, day_pattern: str = "l j F Y") -> str:
    """The day of ``start`` and the range's times, with the zone named."""
    return f"{local_time(start, day_pattern, with_zone=False)}, {session_times(start, end)}"


@register.filter
def clock(moment, pattern: str = "H:i") -> str:
    """``moment`` with ``pattern`` on the reader's clock (12- or 24-hour),
    without the zone: ``{{ slot.start|clock }}`` → “17:00” or “5:00 PM”."""
    if not moment:
        return ""
    return local_time(moment, pattern, with_zone=False)


@register.filter
def time_of_day(value) -> str:
    """A ``datetime.time`` (weekly hours) on the reader's clock."""
    return format_time_of_day(value)


@register.simple_tag
def clock_format(pattern: str) -> str:
    """A date format for Django's ``date`` filter on the reader's clock."""
    return clock_pattern(pattern)
