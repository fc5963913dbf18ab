"""Retention that keeps what is still needed: `hotline recordings purge` and `hotline recordings hold`.

recordings/store.purge deletes by age; this module tells it which calls' recordings must
stay, reading tables that sit above the recordings package (so the check lives here, in app,
which may import every layer):

- a flag nobody has reviewed yet (``new``): the reviewer must be able to listen;
- a confirmed flag: the recording is the evidence;
- a transcription job not done (queued, running, or failed and so retryable);
- a legal hold.

Legal holds are CallEvent rows (``legal_hold`` / ``legal_hold_released``), the latest of
which decides. No schema change: the calls table already carries the event log, and the
rows are an audit trail of who held and released what, and when, which a flag column would
not be.
"""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from cliutil import ConfigOpt, JsonOpt, console, fail, load, print_json
from ivr.tables import CallEvent
from qa.tables import Flag
from transcribe.tables import Job

HOLD = "legal_hold"
RELEASE = "legal_hold_released"
_UNFINISHED = ("queued", "running", "failed")


def keep_reasons(s: Session, call_ids: set[int]) -> dict[int, str]:
    """call id -> why its recordings stay, for the calls among ``call_ids`` that must keep them."""
    if not call_ids:
        return {}
    out: dict[int, str] = {}
    ids = sorted(call_ids)
    for call_id, status in s.execute(select(Flag.call_id, Flag.status).where(Flag.call_id.in_(ids))):
        if status == "new":
            out.setdefault(call_id, "unreviewed flag")
        elif status == "confirmed":
            out[call_id] = out.get(call_id) or "confirmed flag (evidence)"
    for call_id, status in s.execute(select(Job.call_id, Job.status).where(Job.call_id.in_(ids),
                                                                          Job.status.in_(_UNFINISHED))):
        out.setdefault(call_id, f"transcription {status}")
    for call_id in held(s, ids):
        out[call_id] = "legal hold"  # the strongest reason: shown over the others
    return out


def held(s: Session, call_ids: list[int] | None = None) -> set[int]:
    """Calls whose latest hold event is a hold, not a release."""
    stmt = select(CallEvent.call_id, CallEvent.kind).where(CallEvent.kind.in_((HOLD, RELEASE)))
    if call_ids is not None:
        stmt = stmt.where(CallEvent.call_id.in_(call_ids))
    latest: dict[int, str] = {}
    for call_id, kind in s.execute(stmt.order_by(CallEvent.at, CallEvent.id)):
        latest[call_id] = kind
    return {c for c, k in latest.items() if k == HOLD}


# ----- commands (cli.py puts them on the `recordings` group) -----------------------------


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
    confirmed flags, an unfinished transcription, or a legal hold."""
    import db
    from recordings.store import purge as do_purge

    cfg = load(config)
    keep = days if days is not None else cfg.recording.retention_days
    if keep < 1:
        fail("--days must be at least 1")
    if yes and dry_run:
        fail("--yes and --dry-run contradict each other")
    delete = yes
    with db.transaction(cfg.database_url) as s:
        report = do_purge(s, cfg, keep, dry_run=not delete, keep=keep_reasons)
        if not delete:
            s.rollback()
    items = [{"recording": i.recording_id, "call": i.call_id, "kind": i.kind, "path": i.path,
              "created_at": i.created_at.isoformat(), "size_bytes": i.size_bytes, "kept": i.kept}
             for i in report.items]
    if as_json:
        print_json({"days": keep, "dry_run": not delete, "files": report.files, "bytes": report.bytes,
                    "rows": report.rows, "kept": len(report.kept), "errors": report.errors, "items": items})
    else:
        _print(report, items, keep, delete)
    if report.errors:
        raise typer.Exit(1)


def _print(report: Any, items: list[dict[str, Any]], keep: int, delete: bool) -> None:
    if items:
        table = Table(title=f"recordings older than {keep} days")
        for col in ("call", "kind", "created", "size", "action", "path"):
            table.add_column(col, overflow="fold")
        for i in items:
            size = f"{i['size_bytes'] / 1e3:.0f} kB" if i["size_bytes"] is not None else "-"
            action = f"[green]keep[/]: {i['kept']}" if i["kept"] else ("[red]deleted[/]" if delete else "delete")
            table.add_row(str(i["call"] or "-"), i["kind"], i["created_at"][:16], size, action, i["path"])
        console.print(table)
    verb = "deleted" if delete else "would delete"
    console.print(f"{verb} {report.files} file(s), {report.bytes / 1e6:.1f} MB, older than {keep} days "
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
