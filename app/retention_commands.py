"""`hotline recordings purge` and `hotline recordings hold` (cli.py puts them on the `recordings`
group). The rules of what stays are in app/retention.py; like every commands module this one
imports its work inside the commands, so `hotline --help` does not load SQLAlchemy.
"""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer
from rich.table import Table

from cliutil import ConfigOpt, JsonOpt, console, fail, load, print_json


def purge(
    days: Annotated[int | None, typer.Option(help="Keep this many days [default: recording.retention_days].")]
    = None,
    yes: Annotated[bool, typer.Option("--yes", help="Really delete; without it nothing is deleted.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would go (the default).")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the recording files past the retention period, and delete them with --yes.

    Rows stay, marked purged. Kept whatever their age: recordings with unreviewed or
    confirmed flags, an unfinished transcription, or a legal hold. With
    recording.original_retention_days, originals with a redacted copy go after that many days."""
    import db
    from app.retention import keep_reasons
    from recordings.redacted import originals_past
    from recordings.store import purge as do_purge

    cfg = load(config)
    keep = days if days is not None else cfg.recording.retention_days
    if keep < 1:
        fail("--days must be at least 1")
    if yes and dry_run:
        fail("--yes and --dry-run contradict each other")
    delete = yes
    originals = cfg.recording.original_retention_days
    age = f"{keep} days" + (f" (originals with a redacted copy: {originals} days)" if originals else "")
    with db.transaction(cfg.database_url) as s:
        early = originals_past(s, originals) if originals else []
        report = do_purge(s, cfg, keep, dry_run=not delete, keep=keep_reasons, extra=early)
        if not delete:
            s.rollback()
    items = [{"recording": i.recording_id, "call": i.call_id, "kind": i.kind, "path": i.path,
              "created_at": i.created_at.isoformat(), "size_bytes": i.size_bytes, "kept": i.kept}
             for i in report.items]
    if as_json:
        print_json({"days": keep, "original_days": originals, "dry_run": not delete, "files": report.files,
                    "bytes": report.bytes, "rows": report.rows, "kept": len(report.kept), "errors": report.errors,
                    "items": items})
    else:
        _print(report, items, age, delete)
    if report.errors:
        raise typer.Exit(1)


def _print(report: Any, items: list[dict[str, Any]], age: str, delete: bool) -> None:
    if items:
        table = Table(title=f"recordings older than {age}")
        for col in ("call", "kind", "created", "size", "action", "path"):
            table.add_column(col, overflow="fold")
        for i in items:
            size = f"{i['size_bytes'] / 1e3:.0f} kB" if i["size_bytes"] is not None else "-"
            action = f"[green]keep[/]: {i['kept']}" if i["kept"] else ("[red]deleted[/]" if delete else "delete")
            table.add_row(str(i["call"] or "-"), i["kind"], i["created_at"][:16], size, action, i["path"])
        console.print(table)
    verb = "deleted" if delete else "would delete"
    console.print(f"{verb} {report.files} file(s), {report.bytes / 1e6:.1f} MB, older than {age} "
                  f"({report.rows} recording row(s) marked purged); kept {len(report.kept)}")
    if not delete and report.files:
        console.print("nothing deleted: run again with --yes to delete")
    for line in report.errors:
        console.print(f"[red]error:[/] {line}", highlight=False)


def hold(
    call: Annotated[str, typer.Argument(help="Call id (or Asterisk Uniqueid).")],
    release: Annotated[bool, typer.Option("--release", help="End the hold; retention applies again.")] = False,
    reason: Annotated[str, typer.Option(help="Why (a case number); kept with the hold.")] = "",
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Put a call's recordings on legal hold (purge never deletes them), or release the hold."""
    import db
    from app.calllog import find_call
    from app.retention import HOLD, RELEASE, held
    from ivr.tables import CallEvent

    cfg = load(config)
    with db.transaction(cfg.database_url) as s:
        row = find_call(s, call)
        if row is None:
            fail(f"no call {call!r} in {cfg.database.url}")
        was = row.id in held(s, [row.id])
        if release and not was:
            fail(f"call {row.id} is not on legal hold")
        if not release and not was:
            s.add(CallEvent(call_id=row.id, kind=HOLD, at=db.now(), data={"by": _who(), "reason": reason}))
        elif release:
            s.add(CallEvent(call_id=row.id, kind=RELEASE, at=db.now(), data={"by": _who(), "reason": reason}))
        call_id = row.id
    state = "released" if release else ("already on hold" if was else "on hold")
    if as_json:
        print_json({"call": call_id, "held": not release, "state": state})
    else:
        console.print(f"call {call_id}: recordings {state}")


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "?"
