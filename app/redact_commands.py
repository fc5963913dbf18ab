"""`hotline recordings redact`: write the redacted copies again, or for the first time, from stored
transcripts (transcribe/redact_audio.py); no model is loaded.

The worker writes them after every transcription; this is for calls transcribed before copies
existed, a copy whose writing failed (the worker logged one warning), or after the mask kinds
changed. cli.py puts it on the `recordings` group.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cliutil import ConfigOpt, JsonOpt, console, fail, load, print_json


def redact_cmd(
    calls: Annotated[list[str] | None, typer.Argument(help="Call ids (or Asterisk Uniqueids).")] = None,
    missing: Annotated[bool, typer.Option("--missing", help="Every transcribed call lacking a copy.")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Redacted copies of calls' recordings: personal data in the transcript under a 1 kHz tone."""
    import db
    from app.calllog import find_call
    from transcribe.redact_audio import calls_missing_copies, redact_call

    cfg = load(config)
    if bool(calls) == missing:
        fail("name the calls, or --missing (not both)")
    out: list[dict[str, object]] = []
    errors = []
    with db.transaction(cfg.database_url) as s:
        ids = calls_missing_copies(s) if missing else []
        for ref in calls or []:
            row = find_call(s, ref)
            if row is None:
                fail(f"no call {ref!r} in {cfg.database.url}")
            ids.append(row.id)
    for call_id in ids:
        try:
            with db.transaction(cfg.database_url) as s:
                done = redact_call(s, cfg, call_id)
        except (ValueError, OSError) as exc:  # one call's trouble: the others still get their copies
            errors.append(f"call {call_id}: {str(exc).splitlines()[0]}")
            continue
        out += [{"call": call_id, "kind": t.kind, "path": t.path, "spans": len(t.spans),
                 "covered_s": round(t.seconds, 2)} for t in done]
    if as_json:
        print_json({"copies": out, "errors": errors})
    elif not ids:
        console.print("every transcribed call has its redacted copies")
    else:
        table = Table(title=f"{len(out)} redacted cop{'y' if len(out) == 1 else 'ies'} written")
        for col in ("call", "kind", "spans", "covered", "path"):
            table.add_column(col, overflow="fold")
        for r in out:
            table.add_row(str(r["call"]), str(r["kind"]), str(r["spans"]), f"{r['covered_s']:.1f} s", str(r["path"]))
        console.print(table)
        for line in errors:
            console.print(f"[red]error:[/] {line}", highlight=False)
    if errors:
        raise typer.Exit(1)
