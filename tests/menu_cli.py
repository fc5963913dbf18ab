"""The `hotline menu` / `hotline greeting` commands driven in-process (on the `cfg` fixture's copy)."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from menus.commands import greeting_app, menu_app

ROOT = Path(__file__).resolve().parent.parent
app = typer.Typer()
app.add_typer(menu_app, name="menu")
app.add_typer(greeting_app, name="greeting")


def run(cfg: Path, *args: str, user: str | None = None) -> tuple[int, str, str]:
    """(exit code, stdout, stderr); a crash inside the command fails the test with its traceback."""
    result = CliRunner(env={"USER": user} if user else None).invoke(app, [*args, "--config", str(cfg)])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr
