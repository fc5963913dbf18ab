"""`hotline calls callbacks`: the after-hours callers who asked to be called back (app/callbacks.py).

Its work is imported when it runs, so `hotline --help` stays fast."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cliutil import ConfigOpt, JsonOpt, console, fail, load, parse_since, print_json


def callbacks_cmd(
    since: Annotated[str | None, typer.Option(help="Only calls since: 30m, 2h, 7d or an ISO date.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many requests (newest first).")] = 200,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Callback requests: calls that pressed an after-hours menu's callback key; caller masked (last 4 digits)."""
    from app.callbacks import callback_keys, list_callbacks

    cfg = load(config)
    try:
        when = parse_since(since) if since else None
    except ValueError as exc:
        fail(str(exc))
    rows = list_callbacks(cfg.database_url, cfg, when, limit)
    if as_json:
        print_json(rows)
        return
    keys = ", ".join(f"{m}:{d}" for m, d in callback_keys(cfg))
    if not keys:
        console.print("no callback key: no after-hours menu (schedules.*.entry.closed) has a hangup option")
        return
    if not rows:
        console.print(f"no callback requests ({keys})" + (f" since {since}" if since else ""))
        return
    table = Table(title=f"{len(rows)} callback request(s) ({keys})")
    for col in ("id", "asked", "caller", "dialled", "path", "category", "status"):
        table.add_column(col, overflow="fold")
    for r in rows:
        asked = r["asked_at"].astimezone().strftime("%m-%d %H:%M:%S")
        table.add_row(str(r["id"]), asked, r["caller"] or "?", r["did"] or "-", r["path"] or "-",
                      r["category"] or "-", r["status"])  # fmt: skip
    console.print(table)
