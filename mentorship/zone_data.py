"""Time-zone rules come from the pinned ``tzdata`` package, in every process.

Python's ``zoneinfo`` reads the operating system's zone files first and the
``tzdata`` package only for zones it does not find there, so the times a
mentee is offered would depend on which OS packages a server has (Debian's
2025b and tzdata 2026f put 470 of a Casablanca mentor's weekday slots in
2027 an hour apart). ``use_packaged_zone_data`` empties zoneinfo's search
path, which leaves the package as the only source; the project package
calls it before anything else of ours is imported (``mentorship/__init__.py``,
the first module the web process, the workers and manage.py load), and the
system check below reports a process where something set the path again.

To update the rules: raise the ``tzdata`` pin in requirements.txt (README,
"Time zones").
"""

import zoneinfo

from django.core.exceptions import ImproperlyConfigured


def use_packaged_zone_data() -> None:
    """Make the ``tzdata`` package the only source of zone rules (and of the
    zone names ``zoneinfo.available_timezones`` lists) for this process."""
    try:
        import tzdata  # noqa: F401 (only its presence is checked here)
    except ImportError as error:
        raise ImproperlyConfigured(
            "The tzdata package is missing: install requirements.txt, which pins it."
        ) from error
    zoneinfo.reset_tzpath(to=())
    # Zones loaded before this (by an import of a library, say) came from the
    # old path; load them again from the package when next asked for.
    zoneinfo.ZoneInfo.clear_cache()


def zone_data_version() -> str:
    """The IANA release of the zone rules in use, e.g. "2026f"."""
    import tzdata

    return tzdata.IANA_VERSION


def check_zone_data(app_configs=None, **kwargs) -> list:
    """System check (registered in ``MentorshipConfig.ready``): zone rules
    still come from the package only."""
    from django.core import checks

    if zoneinfo.TZPATH:
        return [
            checks.Error(
                "Time-zone rules would be read from the operating system "
                f"({', '.join(zoneinfo.TZPATH)}), not from the pinned tzdata package.",
                hint="Something reset zoneinfo's search path after "
                "mentorship.zone_data.use_packaged_zone_data() ran; remove that.",
                id="mentorship.E002",
            )
        ]
    return []
