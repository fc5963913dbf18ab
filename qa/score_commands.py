"""`hotline qa score | scores | appeal | appeals`: scorecards and appeals (issue 15).

Registered on the `hotline qa` group by cli.py. Like every */commands.py, the work is imported
inside each command so `hotline --help` stays fast. Whoever answers, appeals or decides is an
account (accounts.identity.cli_identity: --reviewer / --as, else $HOTLINE_USER), never the OS user.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from cliutil import ConfigOpt, JsonOpt, console, fail, load, print_json
from qa.cliparts import clock, db_session

ReviewerOpt = Annotated[str | None, typer.Option("--reviewer", help="Your account [default: $HOTLINE_USER, "
                                                 "else qa.reviewer in config.yaml].")]


def _answers(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        item, sep, value = pair.partition("=")
        if not sep or not item.strip() or not value.strip():
            fail(f"--answer {pair!r}: give ITEM=VALUE, e.g. solved=yes or knowledge=8")
        out[item.strip()] = value.strip()
    return out


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _print_score(r: dict[str, Any]) -> None:
    verdict = "[bold red]FAILED (instant-fail item)[/]" if r["failed"] else f"[bold]{_score(r['score'])}[/]"
    console.print(f"call {r['call']}  agent {r['agent'] or '-'}  team {r['team'] or '-'}  score {verdict}  "
                  f"({r['earned']:g} of {r['possible']:g} points judged; flags count when {r['deduct_on']})",
                  highlight=False)
    table = Table(title="scorecard")
    for col in ("item", "label", "points", "earned", "why"):
        table.add_column(col, justify="right" if col in ("points", "earned") else "left", overflow="fold")
    for it in r["items"]:
        if it["kind"] == "answer":
            why = f"answered {it['answer']} by {it['reviewer']}" if it["answer"] else "waiting for a reviewer"
        elif it["lost_to"]:
            why = "lost to flag " + ", ".join(map(str, it["lost_to"]))
        elif it["earned"] is None:
            why = "not judged: no usable transcript"
        else:
            why = "no flag counts"
        if it["kind"] == "rules" and it["unreviewed"]:
            why += f" (unreviewed: flag {', '.join(map(str, it['unreviewed']))})"
        if it["instant_fail"]:
            why = ("INSTANT FAIL: " if it["failed"] else "instant fail when confirmed; ") + why
        earned = "-" if it["earned"] is None or not it["points"] else f"{it['earned']:g}"
        table.add_row(it["id"], it["label"], f"{it['points']:g}", earned, why)
    console.print(table)


def score_cmd(
    call: Annotated[int, typer.Argument(help="Call id.")],
    answer: Annotated[list[str] | None, typer.Option("--answer", help="ITEM=VALUE for a manual item (yes/no, or "
                                                     "points); repeat for several.")] = None,
    reviewer: ReviewerOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A call's score on the qa.scorecard form, item by item; --answer records a reviewer's answers first."""
    from accounts.identity import IdentityError, cli_identity
    from accounts.roles import REVIEW
    from accounts.users import record_access
    from qa.scorecard import ScoreError, record_answers, rescore

    cfg = load(config)
    answers = _answers(answer or [])
    try:
        with db_session(cfg) as session:
            if answers:
                who = cli_identity(session, reviewer, cfg.qa.reviewer, REVIEW)
                result = record_answers(session, cfg, call, who.name, answers)
                record_access(session, who.name, "score-answer", f"call {call} " + " ".join(
                    f"{k}={v}" for k, v in answers.items()), "cli")
            else:
                result = rescore(session, cfg, call)
    except (ScoreError, IdentityError) as exc:
        fail(str(exc))
    if as_json:
        print_json(result)
    else:
        _print_score(result)


def scores_cmd(
    period: Annotated[str, typer.Option("--period", help="week | month | quarter | year (the current one), "
                                        "last-month, 2026-W49, 2026-12, 2026-Q4, 2026, 2026-11-01..2026-11-15")
                      ] = "month",
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Average scores per agent and per team (qa.scorecard.teams) of the calls in a calendar period, best first."""
    from zoneinfo import ZoneInfo

    from qa.periods import PeriodError, parse_period, today_in
    from qa.scorecard import NO_FORM, ScoreError, score_averages

    cfg = load(config)
    if not cfg.qa.scorecard.items:
        fail(NO_FORM)
    tz = ZoneInfo(cfg.qa.web.timezone)  # a month is the month where the hotline is
    try:
        chosen = parse_period(period, today_in(tz))
        start, end = chosen.bounds(tz)
        with db_session(cfg) as session:
            agents = score_averages(session, start, end, "agent", config=cfg)
            teams = score_averages(session, start, end, "team")
    except (PeriodError, ScoreError) as exc:
        fail(str(exc))
    if as_json:
        print_json({"period": chosen.key, "from": start.isoformat(), "until": end.isoformat(), "agents": agents,
                    "teams": teams})
        return
    for by, rows in (("agent", agents), ("team", teams)):
        table = Table(title=f"scores by {by}, {chosen.key} ({chosen.start} .. {chosen.last_day})")
        for col in (by, "calls", "average", "lowest", "highest", "failed", "unscored"):
            table.add_column(col, justify="left" if col == by else "right")
        for r in rows:
            table.add_row(r[by] or "(no team)", str(r["calls"]), _score(r["average"]), _score(r["lowest"]),
                          _score(r["highest"]), str(r["failed"]), str(r["unscored"]))
        console.print(table)


def appeal_cmd(
    flag: Annotated[int | None, typer.Argument(help="The confirmed flag to appeal.", show_default=False)] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why the flag is wrong.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="Your calls, their scores and confirmed flags.")] = False,
    as_: Annotated[str | None, typer.Option("--as", help="Your agent account [default: $HOTLINE_USER].")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """An agent appeals a confirmed flag on one of its own calls (--list shows them)."""
    from accounts.identity import IdentityError, cli_identity
    from accounts.roles import APPEAL
    from accounts.users import record_access
    from qa.appeals import AppealError, agent_view, file_appeal

    if list_ == (flag is not None):
        fail("give a FLAG to appeal (with --reason), or --list")
    cfg = load(config)
    try:
        with db_session(cfg) as session:
            who = cli_identity(session, as_, None, APPEAL, option="--as")
            result: Any = agent_view(session, cfg, who) if list_ else file_appeal(session, who, flag or 0,
                                                                                  reason or "")
            if not list_:
                record_access(session, who.name, "appeal", f"flag {flag} appeal {result['id']}", "cli")
    except (AppealError, IdentityError) as exc:
        fail(str(exc))
    if as_json:
        print_json(result)
    elif not list_:
        console.print(f"appeal {result['id']} filed on flag {result['flag']} ({result['rule']}, call "
                      f"{result['call']}): open until a lead decides", highlight=False)
    else:
        for c in result:
            console.print(f"[bold]call {c['call']}[/]  {(c['started_at'] or '')[:16].replace('T', ' ')}  "
                          f"score {_score(c['score'])}", highlight=False)
            for f in c["flags"]:
                a = f["appeal"]
                state = f"appeal {a['id']} {a['status']}" if a else "not appealed"
                console.print(f"  flag {f['flag']:<5} {f['rule']:<28} {clock(f['offset_s']).strip():>7}  "
                              f"{f['matched'] or ''}  [{state}]", highlight=False, markup=False)


appeals_app = typer.Typer(help="Leads: the appeals queue; uphold or overturn an appeal.", invoke_without_command=True,
                          no_args_is_help=False, rich_markup_mode=None)


@appeals_app.callback()
def appeals_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="open | upheld | overturned")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The appeals, open ones first (with no sub-command)."""
    if ctx.invoked_subcommand is not None:
        return
    from qa.appeals import AppealError, list_appeals

    cfg = load(config)
    try:
        with db_session(cfg) as session:
            rows = list_appeals(session, status)
    except AppealError as exc:
        fail(str(exc))
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} appeal(s)")
    for col in ("appeal", "status", "flag", "call", "agent", "rule", "by", "reason", "decision"):
        # ids and the status whole; the words fold in a narrow terminal
        table.add_column(col, overflow="fold", no_wrap=col in ("appeal", "status", "flag", "call"))
    for a in rows:
        decision = f"{a['decided_by']}: {a['note']}" if a["decided_by"] else ""
        table.add_row(str(a["id"]), a["status"], str(a["flag"]), str(a["call"]), a["agent"] or "", a["rule"],
                      a["account"], a["reason"], decision)
    console.print(table)


def _decide(decision: str, appeal: int, note: str | None, reviewer: str | None, config: Any,
            as_json: bool) -> None:
    from accounts.identity import IdentityError, cli_identity
    from accounts.roles import DECIDE_APPEALS
    from accounts.users import record_access
    from qa.appeals import AppealError, decide

    cfg = load(config)
    try:
        with db_session(cfg) as session:
            who = cli_identity(session, reviewer, cfg.qa.reviewer, DECIDE_APPEALS)
            result = decide(session, cfg, appeal, decision, who, note)
            record_access(session, who.name, "appeal-decision", f"appeal {appeal} {result['status']}", "cli")
    except (AppealError, IdentityError) as exc:
        fail(str(exc))
    if as_json:
        print_json(result)
    else:
        console.print(f"appeal {appeal} [bold]{result['status']}[/] by {result['decided_by']}; flag {result['flag']} "
                      f"is {result['flag_status']}; call {result['call']} score {_score(result['score'])}",
                      highlight=False)


AppealArg = Annotated[int, typer.Argument(help="Appeal id.")]
NoteOpt = Annotated[str | None, typer.Option("--note", help="Why (the agent sees it).")]


@appeals_app.command("uphold")
def uphold_cmd(appeal: AppealArg, note: NoteOpt = None, reviewer: ReviewerOpt = None, config: ConfigOpt = None,
               as_json: JsonOpt = False) -> None:
    """The flag stands: the appeal is closed, the score stays."""
    _decide("uphold", appeal, note, reviewer, config, as_json)


@appeals_app.command("overturn")
def overturn_cmd(appeal: AppealArg, note: NoteOpt = None, reviewer: ReviewerOpt = None, config: ConfigOpt = None,
                 as_json: JsonOpt = False) -> None:
    """The flag was wrong: it is dismissed under your name and leaves the call's score."""
    _decide("overturn", appeal, note, reviewer, config, as_json)
