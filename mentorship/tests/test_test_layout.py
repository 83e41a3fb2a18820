"""The test suite's own layout: no test module imports another test module.

Shared test data lives in each app's ``tests/factories.py`` (or a conftest
fixture), where everyone looks for it: a helper borrowed from another
``test_*.py`` changes whenever that module's own tests need it to, and its
copies multiply (issue 15 found six ``make_mentor``). Checked statically with
``ast`` over every test module of the project (the apps, ``benchmarks/``,
``demo/``) and the helper modules beside them in ``tests/`` folders.
"""

import ast
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
# Folders that hold no test code of ours.
NOT_SOURCE = {"node_modules", "static", "templates", "test-artifacts", "var", "__pycache__"}


def checked_modules() -> list[Path]:
    """Every ``test_*.py`` of the project, and every module in a ``tests`` folder."""
    found = []
    for path in PROJECT_DIR.rglob("*.py"):
        folders = path.relative_to(PROJECT_DIR).parts[:-1]
        if any(folder.startswith(".") or folder in NOT_SOURCE for folder in folders):
            continue
        if path.name.startswith("test_") or "tests" in folders:
            found.append(path)
    return sorted(found)


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PROJECT_DIR).with_suffix("").parts)


def imported_modules(source: str, *, module: str):
    """(line, dotted name) for each import in ``source``, the text of ``module``,
    relative imports resolved; ``from package import name`` also yields
    ``package.name``, which may be a module."""
    package = module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            imported = ".".join([*base, *([node.module] if node.module else [])])
            yield node.lineno, imported
            for alias in node.names:
                yield node.lineno, f"{imported}.{alias.name}"


def is_test_module(dotted: str) -> bool:
    return any(part.startswith("test_") for part in dotted.split("."))


def test_no_test_module_imports_another_test_module():
    modules = checked_modules()
    # Guard against a walk that silently finds nothing (a moved project root).
    assert PROJECT_DIR / "mentorship" / "tests" / "test_test_layout.py" in modules
    assert len([path for path in modules if path.name.startswith("test_")]) > 50

    offenders: dict[str, str] = {}  # "path:line" -> the first test module named there
    for path in modules:
        for line, dotted in imported_modules(path.read_text(), module=module_name(path)):
            if is_test_module(dotted):
                offenders.setdefault(f"{path.relative_to(PROJECT_DIR)}:{line}", dotted)

    assert not offenders, (
        "Test modules import other test modules; move what they share into "
        "<app>/tests/factories.py or a conftest fixture:\n"
        + "\n".join(f"{where} imports {dotted}" for where, dotted in sorted(offenders.items()))
    )


def test_the_check_resolves_relative_and_package_imports():
    """The forms it must catch, resolved as Python would for a module in scheduling/tests/."""
    source = (
        "from .test_booking import NOW\n"
        "from . import test_booking\n"
        "from scheduling.tests.test_booking import book\n"
        "from mentorship.tests import test_settings\n"
        "import scheduling.tests.test_booking\n"
        "from .factories import NOW\n"
        "from ..models import Session\n"
    )

    found = list(imported_modules(source, module="scheduling.tests.test_sample"))

    assert sorted({line for line, dotted in found if is_test_module(dotted)}) == [1, 2, 3, 4, 5]
    assert (1, "scheduling.tests.test_booking.NOW") in found
    assert (2, "scheduling.tests.test_booking") in found
    assert (4, "mentorship.tests.test_settings") in found
    assert (6, "scheduling.tests.factories") in found
    assert (7, "scheduling.models") in found
