"""Zone rules come from the pinned ``tzdata`` package only (``mentorship/zone_data.py``).

The operating system's zone files are older or newer than the package on any
given server (Debian 12 ships 2025b here; tzdata 2026.6 is IANA 2026f, in
which Morocco keeps +00 all year from September 2026). What time a mentee is
offered must not depend on which of the two a process happens to read.
"""

import json
import sys
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from accounts.validators import known_timezones, timezone_names
from mentorship import zone_data
from scheduling.availability import replace_weekly_hours
from scheduling.slots import available_slots
from scheduling.tests.factories import mentor_without_hours

# Zones whose rules changed in recent IANA releases: Morocco (2026), Paraguay
# (permanent -03, 2024b), Kazakhstan (one zone, 2024a), Greenland (2023),
# Mexico (no more DST, 2022).
RECENTLY_CHANGED = [
    "Africa/Casablanca",
    "America/Asuncion",
    "Asia/Almaty",
    "America/Nuuk",
    "America/Mexico_City",
]
OS_ZONE_FILES = Path("/usr/share/zoneinfo")


def package_zone(name: str) -> ZoneInfo:
    """``name`` read straight from the tzdata package's own file."""
    with resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).open("rb") as file:
        return ZoneInfo.from_file(file, key=name)


def hourly_offsets(zone: ZoneInfo, years=(2026, 2027, 2028)) -> list:
    moment = datetime(years[0], 1, 1, tzinfo=UTC)
    end = datetime(years[-1] + 1, 1, 1, tzinfo=UTC)
    offsets = []
    while moment < end:
        offsets.append(moment.astimezone(zone).utcoffset())
        moment += timedelta(hours=1)
    return offsets


def test_the_search_path_holds_no_operating_system_folder():
    assert zoneinfo.TZPATH == ()


@pytest.mark.parametrize("name", RECENTLY_CHANGED)
def test_the_apps_rules_for_a_recently_changed_zone_are_the_packages(name):
    assert hourly_offsets(ZoneInfo(name)) == hourly_offsets(package_zone(name))


@pytest.mark.django_db
def test_a_casablanca_mentor_is_offered_by_the_packages_rules():
    mentor = mentor_without_hours(zone="Africa/Casablanca")
    replace_weekly_hours(
        mentor=mentor,
        timezone="Africa/Casablanca",
        weekly={1: [(time(9), time(10))]},  # Tuesdays 09:00-10:00
        starting=date(2027, 5, 31),
    )
    hour = mentor.session_types.get(duration_minutes=60)
    day = datetime(2027, 6, 1, tzinfo=UTC)

    slots = available_slots(mentor, hour, day, day + timedelta(days=1), now=day - timedelta(days=1))

    nine = datetime(2027, 6, 1, 9, tzinfo=package_zone("Africa/Casablanca"))
    assert [slot.start for slot in slots] == [nine.astimezone(UTC)]


def test_the_zone_names_offered_are_the_packages():
    listed = set(resources.files("tzdata").joinpath("zones").read_text().split())
    assert known_timezones() == listed
    assert set(timezone_names()) <= listed


@pytest.mark.skipif(not OS_ZONE_FILES.is_dir(), reason="this system has no zone files to avoid")
def test_a_process_told_to_read_the_system_zone_files_reads_the_package(run_django):
    """Every process (web, worker, manage.py) imports the project package
    first; PYTHONTZPATH, which zoneinfo reads at import, loses to it."""
    code = (
        "import json, zoneinfo\n"
        "from datetime import datetime, timedelta, UTC\n"
        "before = zoneinfo.TZPATH\n"
        "early = zoneinfo.ZoneInfo('Africa/Casablanca')\n"
        "import django\n"
        "django.setup()\n"
        "zone = zoneinfo.ZoneInfo('Africa/Casablanca')\n"
        "start = datetime(2027, 1, 1, tzinfo=UTC)\n"
        "hours = [start + timedelta(hours=h) for h in range(0, 365 * 24, 6)]\n"
        "print(json.dumps({'before': before, 'after': zoneinfo.TZPATH,\n"
        "  'offsets': [h.astimezone(zone).utcoffset().total_seconds() for h in hours],\n"
        "  'reloaded': zone is not early}))\n"
    )
    result = run_django(code, {"PYTHONTZPATH": str(OS_ZONE_FILES), "DJANGO_DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["before"] == [str(OS_ZONE_FILES)]  # the variable did take effect at first
    assert seen["after"] == []
    assert seen["reloaded"]
    expected_zone = package_zone("Africa/Casablanca")
    start = datetime(2027, 1, 1, tzinfo=UTC)
    assert seen["offsets"] == [
        (start + timedelta(hours=hour)).astimezone(expected_zone).utcoffset().total_seconds()
        for hour in range(0, 365 * 24, 6)
    ]


def test_the_system_check_reports_a_process_reading_the_system_zone_files():
    assert zone_data.check_zone_data() == []
    try:
        zoneinfo.reset_tzpath(to=[str(OS_ZONE_FILES)])
        [error] = zone_data.check_zone_data()
        assert error.id == "mentorship.E002"
        assert str(OS_ZONE_FILES) in error.msg
    finally:
        zone_data.use_packaged_zone_data()
    assert zoneinfo.TZPATH == ()
    call_command("check")  # no error with the package as the source


def test_start_up_refuses_without_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "tzdata", None)  # makes ``import tzdata`` fail
    with pytest.raises(ImproperlyConfigured, match="tzdata package is missing"):
        zone_data.use_packaged_zone_data()


def test_the_version_in_use_is_the_pinned_packages():
    import tzdata

    pins = (Path(__file__).resolve().parents[2] / "requirements.txt").read_text().splitlines()
    assert f"tzdata=={tzdata.__version__}" in pins
    assert zone_data.zone_data_version() == tzdata.IANA_VERSION
