"""What every `hotline` command shares: the --config option, loading it, output helpers.

Each package keeps its commands in ``<package>/commands.py`` as a Typer app; ``cli.py``
only puts them together. Errors end a command with one line on stderr and exit status 2
(bad input) or 1 (something failed), never a traceback.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from settings import DEFAULT_CONFIG_ENV, Config, ConfigError, default_config_path, load_config

console = Console()
err_console = Console(stderr=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help=f"Config file [default: ${DEFAULT_CONFIG_ENV}, else ./config.yaml].",
        show_default=False,
    ),
]
def command_group(help: str) -> typer.Typer:
    """A `hotline` sub-command group. Help texts are plain text: Rich markup would swallow the
    brackets of "[default: ...]", so it is off."""
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one error line and exit; 2 = bad input, 1 = it failed."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


_chosen: Path | None = None  # `hotline --config PATH <command>`: the default for every command


def use_config(path: Path | None) -> None:
    """Remember the top-level --config, so it works before the command as well as after it."""
    global _chosen
    _chosen = path


def config_path(path: Path | None) -> Path:
    return path or _chosen or default_config_path()


def load(path: Path | None) -> Config:
    try:
        return load_config(config_path(path))
    except ConfigError as exc:
        fail(str(exc))


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


_SPAN = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``--since``: ``30s``, ``30m``, ``2h``, ``7d``, ``1w`` (ago) or an ISO date/time (UTC when no zone
    is given). ValueError with a one-line hint otherwise."""
    now = now or datetime.now(UTC)
    m = _SPAN.match(text.strip().lower())
    if m:
        return now - timedelta(seconds=float(m[1]) * _UNIT[m[2]])
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since {text!r}: use 30m, 2h, 7d, 1w or an ISO date like 2026-11-22T09:00") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
