"""The bottom of the house: settings/, db.py and cliutil.py import no package of ours.

import-linter (`lint-imports`, run by `./dev.sh test`) keeps the packages' layers; it cannot take
plain modules as roots, so this test reads the three bottom modules' imports itself (each file of
the settings package).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"accounts", "app", "web", "qa", "dial", "transcribe", "ivr", "menus", "pbx", "recordings", "migrations", "cli"}
# Within the bottom: cliutil may use settings; settings and db use neither each other nor cliutil.
BOTTOM = {"settings": set(), "db.py": set(), "cliutil.py": {"settings"}}
BOTTOM_NAMES = {name.removesuffix(".py") for name in BOTTOM}


def files_of(module: str) -> list[Path]:
    """A bottom module's source: the file, or every file of the package."""
    path = ROOT / module
    return sorted(path.glob("*.py")) if path.is_dir() else [path]


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("module", sorted(BOTTOM))
def test_bottom_modules_import_no_feature_package(module: str) -> None:
    files = files_of(module)
    assert files, f"{module}: no source found"
    for path in files:
        ours = imported_roots(path) & (OURS | BOTTOM_NAMES - {module})  # a package's files import each other
        assert ours <= BOTTOM[module], (f"{path.relative_to(ROOT)} imports {sorted(ours - BOTTOM[module])}:"
                                        " the bottom imports upward")


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "settings.py"
    bad.write_text("from __future__ import annotations\nimport os\n\ndef f():\n    from transcribe.options import X\n")
    assert imported_roots(bad) & OURS == {"transcribe"}
