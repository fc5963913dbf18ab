"""`hotline qa report | health | rescan`: flag reports, rule health, and the rules run again on stored calls.

Registered on the `hotline qa` group by qa/commands.py (in the order `--help` lists them). Like
every */commands.py, the work is imported inside each command so `hotline --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cliutil import ConfigOpt, JsonOpt, console, fail, load, parse_since, print_json
from qa.cliparts import clock, db_session
from qa.periods import Period, PeriodError
from settings import Config

PeriodOpt = Annotated[str, typer.Option(
    "--period", help="week | month | quarter | year (the calendar one holding --at), this-/last-<unit>, "
    "2026-W49, 2026-12, 2026-Q4, 2026, or 2026-11-01..2026-11-15")]
AtOpt = Annotated[str | None, typer.Option("--at", help="A day (YYYY-MM-DD) in the period [default: today, in "
                                           "qa.web.timezone].")]


def _period(cfg: Config, period: str, at: str | None) -> Period:
    """The calendar period the options name, or one error line (exit 2)."""
    from datetime import date

    from qa.report import resolve_period

    try:
        day = date.fromisoformat(at) if at else None
    except ValueError:
        fail(f"--at {at!r}: a date, YYYY-MM-DD")
    try:
        return resolve_period(cfg, period, day)
    except PeriodError as exc:
        fail(f"--period: {exc}")


def report_cmd(
    period: PeriodOpt = "week",
    at: AtOpt = None,
    png: Annotated[Path | None, typer.Option("--png", help="Write the charts (PNG, Chinese labels) to this folder."
                                             )] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Write the figures as CSV (UTF-8 with BOM, for "
                                                  "Excel) to this file.")] = None,
    rescore: Annotated[bool, typer.Option("--rescore", help="Rescore every call of the period first (after a "
                                          "rescan or a changed scorecard form); otherwise stored scores.")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Flags of the calls in a calendar week/month/quarter/year: by agent, rule, route and category.

    Confirmed, dismissed and unreviewed are counted apart; only confirmed flags are breaches.
    """
    from qa.report import csv_bytes, report_for
    from qa.report_charts import write_charts

    cfg = load(config)
    span = _period(cfg, period, at)
    with db_session(cfg) as session:
        rep = report_for(session, cfg, span, rescore=rescore)
    try:
        if png is not None:
            rep["charts"] = [str(p) for p in write_charts(rep, png)]
        if csv_file is not None:
            csv_file.write_bytes(csv_bytes(rep))
            rep["csv"] = str(csv_file)
    except OSError as exc:
        fail(f"{exc.filename or png or csv_file}: {exc.strerror or exc}", code=1)
    if as_json:
        print_json(rep)
        return
    console.print(f"[bold]QA {rep['label']}[/] {rep['first_day']} .. {rep['last_day']} ({rep['timezone']}): "
                  f"{rep['calls']} calls; flags: [bold]{rep['confirmed']} confirmed[/] on "
                  f"{rep['calls_with_confirmed']} call(s), {rep['dismissed']} dismissed, {rep['unreviewed']} "
                  f"unreviewed ({rep['unreviewed_needs_listening']} need listening)", highlight=False)
    names = {"by_rule": rep["rule_labels"], "by_category": rep["category_labels"]}
    for key in ("by_agent", "by_rule", "by_route", "by_category"):
        table = Table(title=key.replace("_", " "))
        table.add_column(key.removeprefix("by_"))
        if key in names:
            table.add_column("name")
        for col in ("confirmed", "dismissed", "unreviewed"):
            table.add_column(col, justify="right")
        for name, n in rep[key].items():
            label = [names[key].get(name, "")] if key in names else []
            table.add_row(name, *label, str(n["confirmed"]), str(n["dismissed"]), str(n["unreviewed"]))
        console.print(table)
    console.print(_health_table(rep["rules"], f"rule health, {rep['label']}"))
    for by, rows in rep["scores"].items():
        if rows:
            console.print(_score_table(by, rows))
    for p in [*rep.get("charts", []), *([rep["csv"]] if "csv" in rep else [])]:
        console.print(f"wrote {p}", highlight=False)


def _score_table(by: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"scorecard average by {by}")
    table.add_column(by)
    for col in ("calls", "average", "lowest", "highest", "instant fails"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(r[by] or "(no team)", *("-" if r[k] is None else str(r[k]) for k in
                                             ("calls", "average", "lowest", "highest", "failed")))
    return table


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _health_table(rules: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=f"{title}: precision = confirmed / (confirmed + dismissed)")
    for col in ("rule", "name", "category", "precision", "confirmed", "dismissed", "unreviewed", "listen",
                "prec. sure", "prec. listen", "appeals", "overturned"):
        table.add_column(col, justify="left" if col in ("rule", "name", "category") else "right")
    for r in rules:
        p = r["precision"]
        style = "" if p is None else ("red" if p < 0.5 else "yellow" if p < 0.8 else "green")
        table.add_row(r["rule"], r.get("label", ""), r["category"], Text(_pct(p), style=style), str(r["confirmed"]),
                      str(r["dismissed"]), str(r["unreviewed"]), str(r["needs_listening"]), _pct(r["precision_sure"]),
                      _pct(r["precision_listen"]), str(r["appeals"]), str(r["overturned"]))
    return table


def health_cmd(
    period: PeriodOpt = "month",
    at: AtOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Each rule's precision from reviewers' verdicts on calls of the period: the table to tune rules by.

    'listen' counts unreviewed flags QA was unsure of; 'prec. sure' / 'prec. listen' split the verdicts by it.
    """
    from qa.health import rule_health
    from qa.report import rule_labels, timezone_of

    cfg = load(config)
    span = _period(cfg, period, at)
    start, end = span.bounds(timezone_of(cfg))
    with db_session(cfg) as session:
        rules = rule_health(session, start, end)
    labels = rule_labels(cfg)
    for r in rules:
        r["label"] = labels.get(r["rule"], r["rule"])
    if as_json:
        print_json({"period": span.key, "label": span.label_zh, "from": start.isoformat(), "until": end.isoformat(),
                    "rules": rules})
        return
    console.print(_health_table(rules, f"rule health, {span.label_zh} {span.start} .. {span.last_day}"))
    if not rules:
        console.print("[dim]no flags on calls of this period[/]")


def rescan_cmd(
    calls: Annotated[list[int] | None, typer.Argument(help="Call ids [default: every call with a transcript].")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only calls started since: 7d, 2026-03-01, ...")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be added / removed; write nothing.")
                       ] = False,
    rules: Annotated[Path | None, typer.Option("--rules", help="Take the QA rules from this config file (a draft "
                                               "edit); the database stays the one of --config.")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the rules again on stored calls (after a rule change); reviewed flags keep their verdict.

    With --dry-run: per call, the flags the rules would add and remove (by fingerprint) and how many stay.
    """
    from settings import ConfigError, load_config

    cfg = load(config)
    rule_cfg = cfg
    if rules is not None:
        try:
            rule_cfg = load_config(rules)
        except ConfigError as exc:
            fail(str(exc))
    try:
        since_dt = parse_since(since) if since else None
    except ValueError as exc:
        fail(str(exc))
    from qa.rescan import calls_to_scan, summary
    from qa.rescan import dry_run as preview

    try:
        ids = calls_to_scan(cfg.database_url, since_dt, calls)
    except Exception as exc:
        if type(exc).__module__.startswith("sqlalchemy") or isinstance(exc, OSError):
            fail(f"database {cfg.database.url}: {str(exc).splitlines()[0]}", code=2)
        raise
    if dry_run:
        diffs = preview(cfg.database_url, rule_cfg, ids)
        bad = [d.error for d in diffs if d.error]
        if bad and calls:
            fail(bad[0])
        result = {"dry_run": True, "calls": [d.as_json() for d in diffs], "summary": summary(diffs)}
        if as_json:
            print_json(result)
            return
        _print_diff(result)
        return
    from qa.scan import scan_call

    out: dict[str, Any] = {}
    with db_session(cfg) as session:
        for cid in ids:
            try:
                out[str(cid)] = len(scan_call(session, rule_cfg, cid))
            except LookupError as exc:
                fail(str(exc))
    if as_json:
        print_json(out)
    else:
        console.print(f"rescanned {len(out)} call(s), {sum(out.values())} flag(s)", highlight=False)


def _print_diff(result: dict[str, Any]) -> None:
    for d in result["calls"]:
        if d["error"]:
            console.print(f"call {d['call']}: [red]{d['error']}[/]", highlight=False)
            continue
        if not (d["added"] or d["removed"]):
            continue
        console.print(f"[bold]call {d['call']}[/]: +{len(d['added'])} -{len(d['removed'])} ={d['kept']}",
                      highlight=False)
        for f in d["added"]:
            console.print(Text(f"  + {f['rule']:<28} {clock(f['offset_s']).strip():>7}  {f['matched'] or ''}",
                               style="green"))
        for f in d["removed"]:
            note = f"  (flag {f['flag']}, {f['status']}: kept for the audit trail)" if f["reviewed"] else \
                f"  (flag {f['flag']})"
            console.print(Text(f"  - {f['rule']:<28} {clock(f['offset_s']).strip():>7}  {f['matched'] or ''}{note}",
                               style="red"))
    s = result["summary"]
    console.print(f"dry run, nothing written: {s['calls']} call(s), {s['changed_calls']} would change; "
                  f"+{s['added']} added, -{s['removed']} removed, {s['kept']} kept", highlight=False)
    for rule, n in s["by_rule"].items():
        console.print(f"  {rule}: +{n['added']} -{n['removed']}", highlight=False)
