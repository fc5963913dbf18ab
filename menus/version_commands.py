"""`hotline menu history|diff`: the saved versions of config.yaml.

menus.versions is imported inside the commands, for start-up time: it loads the database
layer (1.1 s measured on top of menus.commands), which `hotline --help` never needs.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cliutil import ConfigOpt, JsonOpt, console, fail, load, print_json
from menus.configfile import EditError
from menus.show_commands import print_diff


def history_cmd(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Every saved version: number, when, who, why."""
    from menus.versions import history

    cfg = load(config)
    rows = history(cfg)
    if as_json:
        print_json([r.as_dict() for r in rows])
        return
    if not rows:
        console.print("no versions yet: the first saved edit records the current file as version 1")
        return
    table = Table("version", "at (UTC)", "author", "message", "sha256")
    for r in rows:
        table.add_row(str(r.number), r.at.strftime("%Y-%m-%d %H:%M:%S"), r.author, r.message, r.sha256[:12])
    console.print(table)


def diff_cmd(
    v1: Annotated[int, typer.Argument(help="Older version.")],
    v2: Annotated[int | None, typer.Argument(help="Newer version [default: the file as it is now].")] = None,
    full: Annotated[bool, typer.Option("--full", help="The whole file, not only the menu sections.")] = False,
    config: ConfigOpt = None,
) -> None:
    """What changed between two versions (the menu sections, or --full for the whole file)."""
    from menus.versions import diff_versions

    cfg = load(config)
    try:
        text = diff_versions(cfg, v1, v2, full=full)
    except EditError as exc:
        fail(str(exc))
    if text:
        print_diff(text)
    else:
        console.print("no differences" + ("" if full else " in the menu sections (try --full)"))
