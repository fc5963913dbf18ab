"""`hotline qa ...`: the flag queue, one call, reviews, reports, rule checks (the web app: web/commands.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cliutil import ConfigOpt, JsonOpt, command_group, console, fail, load, parse_since, print_json
from qa.cliparts import clock, db_session
from qa.report_commands import health_cmd, report_cmd, rescan_cmd

app = command_group("Service-policy QA: flags, review, reports, rule checks.")

STYLE = {"forbidden": "bold white on red", "vague": "black on yellow", "pii": "bold white on blue",
         "opening": "bold magenta", "closing": "magenta", "hangup": "bold red", "slow-answer": "red",
         "hold": "red", "review": "dim"}


def _conf(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _sev(f: dict[str, Any]) -> Text:
    """The severity a reviewer sees: 'listen' (dim) when QA is unsure of the flag."""
    shown = f["shown_severity"]
    return Text(shown, style="dim italic" if f["needs_listening"] else "")


def _highlighted(text: str, marks: list[tuple[int, int, str]]) -> Text:
    out = Text(text)
    for start, end, category in marks:
        out.stylize(STYLE.get(category, "reverse"), start, end)
    return out


@app.command("list")
def list_cmd(
    status: Annotated[str | None, typer.Option("--status", help="new | confirmed | dismissed")] = None,
    category: Annotated[str | None, typer.Option("--category", help="opening, forbidden, vague, closing, pii, "
                                                 "hangup, slow-answer, hold, conversation")] = None,
    agent: Annotated[str | None, typer.Option("--agent", help="Agent interface, or part of it.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="2026-03-01, 2026-03-01T08:00, or 7d / 12h.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many flags.")] = 200,
    min_confidence: Annotated[float | None, typer.Option("--min-confidence", help="Only flags at least this sure "
                                                         "(0..1); flags without a score are left out.")] = None,
    listening: Annotated[bool | None, typer.Option("--needs-listening/--sure", help="Only flags that need "
                                                   "listening / only flags sure enough to be breaches.",
                                                   show_default=False)] = None,
    sort: Annotated[str, typer.Option("--sort", help="confidence (surest first) | newest")] = "confidence",
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The flag queue, surest flags first; 'listen' in the sev column marks a flag QA is unsure of."""
    from qa.views import list_flags

    cfg = load(config)
    try:
        since_dt = parse_since(since) if since else None
        with db_session(cfg) as session:
            flags = list_flags(session, status=status, category=category, agent=agent, since=since_dt, limit=limit,
                               min_confidence=min_confidence, needs_listening=listening, sort=sort)
    except ValueError as exc:  # ViewError is one
        fail(str(exc))
    if as_json:
        print_json(flags)
        return
    if console.width < WIDE_TABLE:
        _print_flag_lines(flags)
        return
    # The rule id is coloured by its category (which it names); every column but what was matched keeps to one
    # line, so the evidence wraps, not forbidden.bad-answer|s.
    table = Table(title=f"{len(flags)} flag(s)", show_lines=False)
    for col in ("flag", "call", "when", "agent", "status", "rule", "sev", "conf", "at"):
        table.add_column(col, no_wrap=True)
    table.add_column("matched", overflow="fold")
    for f in flags:
        table.add_row(str(f["id"]), str(f["call"]), _when(f), _agent(f), f["status"],
                      Text(f["rule"], style=STYLE.get(f["category"], "")), _sev(f), _conf(f["confidence"]),
                      clock(f["offset_s"]).strip(), f["matched"] or "")
    console.print(table)


WIDE_TABLE = 120  # columns the flag table needs to leave what was matched room to read


def _when(f: dict[str, Any]) -> str:
    return (f.get("call_started_at") or "")[:16].replace("T", " ")


def _agent(f: dict[str, Any]) -> str:
    return (f.get("agent") or "").split("/")[-1]  # SIP/agent1002: the technology says nothing here


def _print_flag_lines(flags: list[dict[str, Any]]) -> None:
    """The flag queue for a narrow terminal: each flag on a line of its own, what was matched indented below."""
    console.print(f"[bold]{len(flags)} flag(s)[/]", highlight=False)
    for f in flags:
        head = Text.assemble(f"#{f['id']}  call {f['call']}  ", Text(f["rule"], style=STYLE.get(f["category"], "")),
                             "  ", _sev(f), f" {_conf(f['confidence'])}  at {clock(f['offset_s']).strip()}  "
                             f"{f['status']}  {_agent(f)}  {_when(f)[5:]}")  # (no year: the line fits 80 columns)
        console.print(head, highlight=False)
        if f["matched"]:
            console.print(Text("    " + f["matched"]), highlight=False)


@app.command("show")
def show_cmd(
    call: Annotated[int, typer.Argument(help="Call id.")],
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One call: the transcript by speaker and time with flags highlighted (PII masked), then its flags."""
    from qa.views import ViewError, call_view

    cfg = load(config)
    try:
        with db_session(cfg) as session:
            view = call_view(session, cfg, call)
    except ViewError as exc:
        fail(str(exc))
    if as_json:
        print_json(view)
        return
    c = view["call"]
    console.print(f"[bold]call {c['id']}[/]  caller {c['caller'] or '-'}  agent {c['agent'] or '-'}  "
                  f"route {c['route'] or '-'}  started {(c['started_at'] or '-')[:19]}  "
                  f"hangup by {c['hangup_by'] or '-'}", highlight=False)
    t = view["transcript"]
    if t is None:
        console.print("[dim]no transcript yet[/]")
    elif t["needs_review"]:
        console.print(f"[bold yellow]transcript needs manual review:[/] {t['review_reason'] or ''}", highlight=False)
    for s in view["segments"]:
        ivr = s["speaker"] == "ivr"  # the IVR's prompts: greyed, never shown as the agent's words
        line = Text(f"{clock(s['start'])}  {'IVR' if ivr else s['speaker']:<7} ",
                    style="dim" if s["speaker"] in ("caller", "ivr") else "")
        text = _highlighted(s["text"], [(m["start"], m["end"], m["category"]) for m in s["marks"]])
        if ivr:
            text.stylize("dim")
        line.append_text(text)
        if s["flags"]:
            line.append(f"  ⚑{','.join(str(i) for i in s['flags'])}", style="bold")
        console.print(line, highlight=False)
    table = Table(title="flags")
    for col in ("flag", "status", "category", "rule", "sev", "conf", "at", "matched", "suggestion", "source"):
        table.add_column(col, overflow="fold")
    for f in view["flags"]:
        table.add_row(str(f["id"]), f["status"], Text(f["category"], style=STYLE.get(f["category"], "")), f["rule"],
                      _sev(f), _conf(f["confidence"]), clock(f["offset_s"]).strip(), f["matched"] or "",
                      f["suggestion"] or "", f["source"] or "")
    console.print(table)


@app.command("review")
def review_cmd(
    flag: Annotated[int, typer.Argument(help="Flag id.")],
    confirm: Annotated[bool, typer.Option("--confirm", help="The flag is a real breach.")] = False,
    dismiss: Annotated[bool, typer.Option("--dismiss", help="The flag is a false alarm.")] = False,
    note: Annotated[str | None, typer.Option("--note", help="Why (kept with the review).")] = None,
    reviewer: Annotated[str | None, typer.Option("--reviewer", help="Your account (`hotline users add`) "
                                                 "[default: $HOTLINE_USER, else qa.reviewer in the config].")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Confirm or dismiss a flag as your account (never the OS user); every review is kept, a later one wins."""
    from accounts.identity import IdentityError, cli_identity
    from accounts.roles import REVIEW
    from accounts.users import record_access
    from qa.review import ReviewError, review

    if confirm == dismiss:
        fail("give exactly one of --confirm or --dismiss")
    cfg = load(config)
    try:
        with db_session(cfg) as session:
            who = cli_identity(session, reviewer, cfg.qa.reviewer, REVIEW).name
            row = review(session, flag, who, "confirmed" if confirm else "dismissed", note, config=cfg)
            record_access(session, who, "review", f"flag {flag} {row.decision}", "cli")
            result = {"flag": flag, "status": row.decision, "reviewer": row.reviewer, "note": row.note,
                      "reviews": len(row.flag.reviews)}
    except (ReviewError, IdentityError) as exc:
        fail(str(exc))
    if as_json:
        print_json(result)
    else:
        console.print(f"flag {flag}: [bold]{result['status']}[/] by {who} (review {result['reviews']})",
                      highlight=False)


# report, health and rescan live in qa/report_commands.py; registered here so --help keeps its order
app.command("report")(report_cmd)
app.command("health")(health_cmd)


@app.command("scan")
def scan_cmd(
    text: Annotated[str, typer.Argument(help="Text to check; each line is one utterance. '-' reads stdin.")],
    speaker: Annotated[str, typer.Option("--speaker", help="agent | caller | unknown")] = "agent",
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Apply the text rules (phrases, vague words, PII) to each line, as one utterance of SPEAKER.

    --json prints one object per line: {"line", "text", "masked", "flags": [{"rule", "category", "match", "start",
    "end"}]}, start/end being offsets into the original line; "masked" is the line with its personal data hidden
    (qa.pii.mask_kinds) and each "match" is cut from it. The plain output prints the masked line.
    """
    from qa.scan import scan_text
    from transcribe.pii import mask_segments

    if speaker not in ("agent", "caller", "unknown"):
        fail(f"--speaker {speaker!r}: one of agent, caller, unknown")
    cfg = load(config)
    source = sys.stdin.read() if text == "-" else text
    for n, line in enumerate(source.splitlines() or [""], 1):
        hits = scan_text(cfg, line, speaker)
        (masked,) = mask_segments([line], cfg.qa.pii.mask_kinds, [speaker])  # same length: spans hold
        if as_json:
            flags = [h.as_json() | {"match": masked[h.start:h.end]} for h in hits]
            sys.stdout.write(json.dumps({"line": n, "text": line, "masked": masked, "flags": flags},
                                        ensure_ascii=False) + "\n")
            continue
        out = Text(f"{n:>4}  ")
        out.append_text(_highlighted(masked, [(h.start, h.end, h.category) for h in hits]))
        if hits:
            out.append("  " + ", ".join(f"{h.rule} ({h.severity})" for h in hits), style="bold")
        console.print(out, highlight=False)


app.command("rescan")(rescan_cmd)


@app.command("eval")
def eval_cmd(
    labelled: Annotated[Path | None, typer.Option("--labelled", help="Labelled TSV [default: tests/qa_labelled.tsv].")
                        ] = None,
    pinyin_study: Annotated[Path | None, typer.Option("--pinyin-study", help="Seed rulebooks folder: also measure "
                                                      "homophone (pinyin) matching.")] = None,
    by_category: Annotated[bool, typer.Option("--by-category", help="Count a flag right when its category is "
                                              "expected (labels by category, or by other rule ids).")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Precision and recall per category on the labelled set (the table for the closing note)."""
    from qa import evaluate as ev

    cfg = load(config)
    try:
        items = ev.load_labelled(labelled or ev.DEFAULT_LABELLED)
    except (OSError, ev.LabelError) as exc:
        fail(str(exc))
    result = ev.evaluate(cfg, items, by_category=by_category)
    rows = ev.pinyin_study(cfg, pinyin_study, items) if pinyin_study else []
    if as_json:
        data = result.as_json()
        if rows:
            data["pinyin_study"] = [{"matching": r.name, "variants_found": r.variants_found, "variants": r.variants,
                                     "false_alarms": r.false_alarms, "sentences": r.sentences,
                                     "labelled": r.labelled.as_json()["categories"]} for r in rows]
        print_json(data)
        return
    console.print(f"{result.lines} labelled lines", highlight=False)
    console.print(ev.table(result), highlight=False, markup=False)
    for item, got in result.mistakes:
        console.print(f"  line {item.line} {item.kind}: {item.text}  expected {sorted(item.expected) or '-'}, "
                      f"got {sorted(got) or '-'}", highlight=False, markup=False)
    if rows:
        console.print(ev.pinyin_table(rows), highlight=False, markup=False)
        for r in rows:
            for example in r.examples:
                console.print(f"  {r.name}: {example}", highlight=False, markup=False)
