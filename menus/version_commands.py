"""`hotline menu history|diff`: the saved versions of config.yaml.

menus.versions is imported inside the commands, for start-up time: it loads the database
layer (1.1 s measured on top of menus.commands), which `hotline --help` never needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cliutil import ConfigOpt, JsonOpt, config_path, console, err_console, fail, print_json
from menus.configfile import EditError
from menus.show_commands import print_diff

if TYPE_CHECKING:
    from menus.versions import Store


def open_store(config: Path | None) -> Store:
    """The file's versions, also when a hand edit broke the file (said on stderr, with the cure)."""
    from menus.versions import BrokenFile, store_of

    try:
        store = store_of(config_path(config))
    except EditError as exc:
        fail(str(exc))
    if isinstance(store, BrokenFile):
        err_console.print(f"[yellow]warning:[/] {store.error}", highlight=False, soft_wrap=True)
        err_console.print("[yellow]warning:[/] the file does not load; `hotline menu rollback V` puts a saved "
                          "version back", highlight=False, soft_wrap=True)  # fmt: skip
    return store


def history_cmd(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Every saved version: number, when, who, why."""
    from menus.versions import history

    rows = history(open_store(config))
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

    store = open_store(config)
    try:
        text = diff_versions(store, v1, v2, full=full)
    except EditError as exc:
        fail(str(exc))
    if text:
        print_diff(text)
    else:
        console.print("no differences" + ("" if full else " in the menu sections (try --full)"))
