"""The app order (README "Code map"): core < accounts < mentorship <
scheduling < reviews < demo. Domain code imports downward only; a lower app
that must trigger something in a higher one declares a hook (core/hooks.py)
that the higher app registers. ``.importlinter`` holds the contract."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from accounts.services import user_deactivated
from mentorship.services import close_bookings_of, mentor_created
from scheduling.availability import create_default_session_types

PROJECT = Path(settings.BASE_DIR)
PACKAGES = ["core", "accounts", "mentorship", "scheduling", "reviews", "demo"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=folder,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(folder)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_domain_code_imports_downward():
    result = lint_imports(PROJECT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    """The contract is not vacuous: accounts reaching up to mentorship
    (as it once did to close a deactivated mentor's bookings) fails it."""
    for package in PACKAGES:
        shutil.copytree(
            PROJECT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(PROJECT / ".importlinter", tmp_path / ".importlinter")
    services = tmp_path / "accounts" / "services.py"
    services.write_text(
        services.read_text()
        + "\n\ndef close_mentor(user):\n"
        + "    from mentorship.models import MentorProfile\n\n"
        + "    MentorProfile.objects.filter(user=user).update(is_accepting_bookings=False)\n"
    )
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "accounts.services -> mentorship.models" in result.stdout


def test_no_app_reaches_another_by_model_name():
    """``apps.get_model("reviews", …)`` would hide an upward dependency from
    the contract; only migrations use historical models that way."""
    found = [
        f"{path.relative_to(PROJECT)}:{number}"
        for package in PACKAGES
        for path in (PROJECT / package).rglob("*.py")
        if "migrations" not in path.parts and "tests" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\bget_model\(", line)
    ]
    assert found == []


def test_the_higher_apps_register_their_hooks():
    assert close_bookings_of in user_deactivated.functions
    assert create_default_session_types in mentor_created.functions
