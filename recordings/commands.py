"""`hotline recordings purge`: delete recordings older than the retention period."""

from __future__ import annotations

from typing import Annotated

import typer

from cliutil import ConfigOpt, JsonOpt, command_group, console, fail, load, print_json

recordings_app = command_group("Call recordings on disk: retention.")


@recordings_app.command("purge")
def purge(
    days: Annotated[int | None, typer.Option(help="Keep this many days [default: recording.retention_days].")]
    = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would go; delete nothing.")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete recording files older than the retention period; their rows stay, marked purged."""
    import db
    from recordings.store import purge as do_purge

    cfg = load(config)
    keep = days if days is not None else cfg.recording.retention_days
    if keep < 1:
        fail("--days must be at least 1")
    with db.transaction(cfg.database_url) as s:
        report = do_purge(s, cfg, keep, dry_run=dry_run)
        if dry_run:
            s.rollback()
    if as_json:
        print_json({"days": keep, "dry_run": dry_run, "files": report.files, "bytes": report.bytes,
                    "rows": report.rows, "errors": report.errors})
        return
    verb = "would delete" if dry_run else "deleted"
    console.print(f"{verb} {report.files} file(s), {report.bytes / 1e6:.1f} MB, older than {keep} days "
                  f"({report.rows} recording row(s) marked purged)")
    for line in report.errors:
        console.print(f"[red]error:[/] {line}", highlight=False)
    if report.errors:
        raise typer.Exit(1)
