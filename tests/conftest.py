"""Fixtures shared by test modules, and the PostgreSQL pass of the suite (tests/on_postgres.py)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import db

ROOT = Path(__file__).resolve().parent.parent

# Set by tests/on_postgres.py: db.py then opens every SQLite file a test names as a database on this server.
ON_POSTGRES = bool(os.environ.get("HOTLINE_TEST_DATABASE_URL"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only(reason): checks the SQLite file itself; skipped on PostgreSQL")
    config.addinivalue_line("markers", "covered_on_postgres_by(*modules, reason): its database work is what the named "
                            "test modules run on PostgreSQL; not rerun there (its own cost is wall-clock calls)")
    config.addinivalue_line("markers", "own_postgres: runs on a PostgreSQL server of its own, the same in either "
                            "pass; the PostgreSQL pass does not run it a second time")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        covered = item.get_closest_marker("covered_on_postgres_by")
        if covered is not None:
            # A module renamed or removed: the pointer no longer holds, so the test runs on PostgreSQL again
            # (nothing goes uncovered) and both passes warn.
            gone = [m for m in covered.args if not (ROOT / m).is_file()] if covered.args else ["(no module named)"]
            if gone:
                item.warn(pytest.PytestWarning(f"covered_on_postgres_by names no test module {gone}: rerun there"))
                covered = None
        if not ON_POSTGRES:
            continue
        mark = item.get_closest_marker("sqlite_only")
        if mark is not None:
            reason = mark.kwargs.get("reason") or (mark.args[0] if mark.args else "SQLite only")
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))
        elif covered is not None:
            why = covered.kwargs.get("reason", "")
            item.add_marker(pytest.mark.skip(reason=f"on PostgreSQL in {', '.join(covered.args)}: {why}"))
        elif item.get_closest_marker("own_postgres") is not None:
            item.add_marker(pytest.mark.skip(reason="ran on its own PostgreSQL server in the SQLite pass"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield  # after the test's fixtures are gone
    if ON_POSTGRES:
        db.close_idle()


@pytest.fixture()
def cfg(tmp_path: Path) -> Path:
    """A copy of the shipped config.yaml, free to edit (a module may define its own `cfg`)."""
    dest = tmp_path / "config.yaml"
    shutil.copyfile(ROOT / "config.yaml", dest)
    return dest
