"""The `hotline` command as a new user meets it: --config before the command, help texts whole."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from cli import app

ROOT = Path(__file__).resolve().parent.parent


def test_config_before_the_command_is_used(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shutil.copy(ROOT / "config.yaml", tmp_path / "mine.yaml")
    monkeypatch.chdir(tmp_path)  # no ./config.yaml here: only the option can find the file
    out = CliRunner().invoke(app, ["--config", str(tmp_path / "mine.yaml"), "config", "check", "--json"])
    assert out.exit_code == 0, out.output
    assert '"file": "' + str(tmp_path / "mine.yaml") in out.stdout
    out = CliRunner().invoke(app, ["config", "check"])
    assert out.exit_code == 2 and "config.yaml" in out.output  # the default again, and it is missing


def test_help_keeps_bracketed_defaults() -> None:
    out = CliRunner().invoke(app, ["demo", "--help"], terminal_width=200)
    assert out.exit_code == 0
    assert "[default: temp]" in out.stdout and "[default: $HOTLINE_CONFIG, else ./config.yaml]" in out.stdout
    out = CliRunner().invoke(app, ["menu", "set", "--help"], terminal_width=200)
    assert "[default: $USER]" in out.stdout
