"""What the scorecard and appeal tests share: accounts, and `hotline` run in-process on one config.

Import as ``from scorecard_cli import ...``. Typer builds its whole command tree on every
``CliRunner.invoke`` (about a second here, more than the command itself); these tests run
`hotline` dozens of times on one unchanging app, so the tree is built once.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any
from unittest import mock

import typer.testing
from argon2 import PasswordHasher
from backends import copy_database
from qa_calls import config_file
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from accounts.tables import Account
from cli import app

runner = CliRunner()
_command = functools.cache(typer.testing._get_command)


def copy_db(template: Path, tmp_path: Path) -> Path:
    """A config in tmp_path whose database is a copy of ``template`` (seeded once per module: migrating
    and seeding a fresh file per test cost more than the tests)."""
    path = config_file(tmp_path)
    copy_database(template, tmp_path / "qa.db")
    return path


def add_accounts(session: Session, *accounts: tuple[str, str, str | None]) -> None:
    """(name, role, agent_id) accounts; cheap hashes: nobody signs in with them here."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    session.add_all(Account(name=n, role=r, agent_id=a, password_hash=cheap.hash("unused")) for n, r, a in accounts)
    session.flush()


def invoke(*args: str) -> tuple[int, str, str]:
    """`hotline ARGS`: (exit code, stdout, stderr)."""
    with mock.patch.object(typer.testing, "_get_command", _command):
        r = runner.invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


class Hotline:
    """`hotline --config PATH ...` for one test's config."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, *args: str, code: int = 0) -> str:
        """The exit code must be ``code``; returns stdout, or stderr when ``code`` is not 0."""
        got, out, err = invoke("--config", str(self.path), *args)
        assert got == code, (args, out, err)
        return out if code == 0 else err

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json"))
