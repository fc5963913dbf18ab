"""`hotline qa eval-calls FILE`: scripted calls through the whole pipeline, scored (issue 11 part 6).

The calls of a script file (app/scripts.py) are placed through the simulator and the real
service, transcribed and scanned exactly as `hotline demo` does; then each call's flags
are compared with what it ``expect``s (rule ids or categories; a rule id stands for its
category). Per category, over calls: a call expected to get the category and flagged
with it is a hit, flagged without expecting it a false flag, expected and not flagged a
miss; precision = hits / (hits + false), recall = hits / (hits + misses). Calls that
expect nothing are the polite ones: the false-flag rate is the share of them with any flag.

Every figure is given twice: counting all flags, and counting only the flags QA is sure of
(``needs_listening`` false), since an unsure flag asks a reviewer to listen rather than
accusing the agent.

This module sits in ``app`` (it runs the demo pipeline, above ``qa``); cli.py registers
its command under ``hotline qa``, so like a commands module it imports the pipeline and the
script loader (the simulator, pypinyin's tables: seconds) inside the functions that use them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from cliutil import ConfigOpt, JsonOpt, err_console, fail, load
from settings import FLAG_CATEGORIES, REVIEW_CATEGORY, REVIEW_RULE, Config

if TYPE_CHECKING:
    from app.scripts import ScriptedCall

CATEGORIES = FLAG_CATEGORIES
SPEECH_POLICY = ("opening", "closing", "forbidden", "vague")  # what the polite-call floor counts
MODES = ("all", "sure")  # every flag / only flags that do not need listening


def rule_categories(config: Config) -> dict[str, str]:
    """Rule id -> category, for every rule of the config (what ``expect`` may name)."""
    qa = config.qa
    out = {qa.opening.id: "opening", qa.closing.id: "closing", qa.pii.id: "pii", qa.ask_secret.id: "pii",
           qa.agent_hangup.id: "hangup",
           qa.slow_answer.id: "slow-answer", qa.hold.id: "hold", REVIEW_RULE: REVIEW_CATEGORY}
    for rule in qa.phrases:
        out[rule.id] = rule.category
    talk = qa.conversation
    out.update({r.id: "conversation" for r in (talk.silence, talk.interruptions, talk.speech_rate)})
    return out


def known_names(config: Config) -> set[str]:
    return set(rule_categories(config)) | set(CATEGORIES)


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 3) if den else None


def score(results: list[dict[str, Any]], rules: dict[str, str]) -> dict[str, Any]:
    """The summary of per-call results ``{"name", "expect", "flags": [{"rule", "category", "status"}]}``."""
    out: dict[str, Any] = {"calls": len(results), "polite_calls": sum(1 for r in results if not r["expect"])}
    for mode in MODES:
        cats: dict[str, dict[str, int]] = {}
        polite_flagged = 0
        polite_policy = 0
        polite_by_cat: dict[str, int] = {}
        expected_rules: dict[str, dict[str, int]] = {}
        for r in results:
            flags = [f for f in r["flags"] if mode == "all" or f["status"] != "listen"]
            want = {e if e in CATEGORIES else rules.get(e, e) for e in r["expect"]}
            got = {str(f["category"]) for f in flags}
            got_rules = {f["rule"] for f in flags}
            for cat in want | got:
                c = cats.setdefault(cat, {"expected": 0, "flagged": 0, "hits": 0, "false": 0, "misses": 0})
                c["expected"] += cat in want
                c["flagged"] += cat in got
                c["hits"] += cat in want and cat in got
                c["false"] += cat in got and cat not in want
                c["misses"] += cat in want and cat not in got
            if not r["expect"]:
                polite_flagged += bool(flags)
                polite_policy += bool(got & set(SPEECH_POLICY))
                for cat in got:
                    polite_by_cat[cat] = polite_by_cat.get(cat, 0) + 1
            for e in r["expect"]:
                if e not in CATEGORIES:
                    er = expected_rules.setdefault(e, {"expected": 0, "found": 0})
                    er["expected"] += 1
                    er["found"] += e in got_rules
        for c in cats.values():
            c["precision"] = _ratio(c["hits"], c["hits"] + c["false"])  # type: ignore[assignment]
            c["recall"] = _ratio(c["hits"], c["hits"] + c["misses"])  # type: ignore[assignment]
        order = {name: i for i, name in enumerate(CATEGORIES)}
        out[mode] = {
            "categories": dict(sorted(cats.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))),
            "polite_false_flag_rate": _ratio(polite_flagged, out["polite_calls"]),
            "polite_calls_flagged": polite_flagged,
            # polite calls with a false opening/closing/forbidden/vague flag (issue 11: must be 0)
            "polite_calls_with_policy_flags": polite_policy,
            "polite_flagged_by_category": dict(sorted(polite_by_cat.items())),
            "rules": dict(sorted(expected_rules.items())),
        }
    return out


def mistakes(result: dict[str, Any], rules: dict[str, str], mode: str = "all") -> tuple[set[str], set[str]]:
    """(missed categories, false categories) of one call."""
    flags = [f for f in result["flags"] if mode == "all" or f["status"] != "listen"]
    want = {e if e in CATEGORIES else rules.get(e, e) for e in result["expect"]}
    got = {str(f["category"]) for f in flags}
    return want - got, got - want


def run(config: Config, calls: list[ScriptedCall], *, speed: float, workdir: Path | None,
        progress: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Place, transcribe and scan the calls; each call's flags as eval-calls prints them."""
    from sqlalchemy import select

    import db
    from app.demo import DemoError, run_demo
    from qa.tables import Flag
    from settings import load_config

    try:
        demo = run_demo(config, speed=speed, workdir=workdir, transcribe=True, scripted=calls,
                        progress=err_console if progress else None, gap_s=1.0)
    except DemoError as exc:
        fail(str(exc), code=1)
    pool = demo["transcription"]
    if not pool.get("ran"):
        fail(f"the calls were placed but not transcribed: {pool.get('reason', 'unknown reason')}", code=1)
    cfg = load_config(Path(demo["workdir"]) / "config.yaml")
    by_name = {c.name: c for c in calls}
    results = []
    with db.transaction(cfg.database_url) as s:
        for row in demo["calls"]:
            flags = [] if row["call"] is None else s.scalars(
                select(Flag).where(Flag.call_id == row["call"]).order_by(Flag.offset_s, Flag.id)).all()
            results.append({
                "name": row["script"], "call": row["call"], "expect": list(by_name[row["script"]].expect),
                "flags": [{"rule": f.rule_id, "category": f.category, "confidence": f.confidence,
                           "status": "listen" if f.needs_listening else f.status} for f in flags],
                "error": row.get("error") or (None if row["call"] else row["status"]),
            })
    return results, {"workdir": demo["workdir"], "transcription": pool, "seconds": demo["seconds"]}


def _saved(path: Path, names: set[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The per-call lines of an earlier ``--json`` run (its summary line is recomputed)."""
    try:
        lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"--rescore {path}: {exc}")
    results = [x for x in lines if "name" in x and x["name"] in names]
    old = next((x["summary"] for x in lines if "summary" in x), {})
    return results, {k: old[k] for k in ("workdir", "transcription", "seconds") if k in old}


def _table(summary: dict[str, Any], mode: str) -> Table:
    part = summary[mode]
    title = "all flags" if mode == "all" else "flags QA is sure of (needs-listening left out)"
    rate = part["polite_false_flag_rate"]
    table = Table(title=f"{title}: polite calls flagged {part['polite_calls_flagged']}/{summary['polite_calls']}"
                        f" (false-flag rate {'-' if rate is None else f'{rate:.2f}'}; with an opening/closing/"
                        f"forbidden/vague flag: {part['polite_calls_with_policy_flags']})")
    for col in ("category", "expected", "flagged", "hits", "false", "misses", "precision", "recall"):
        table.add_column(col, justify="left" if col == "category" else "right")
    for cat, c in part["categories"].items():
        table.add_row(cat, *(str(c[k]) for k in ("expected", "flagged", "hits", "false", "misses")),
                      *("-" if c[k] is None else f"{c[k]:.2f}" for k in ("precision", "recall")))
    return table


def eval_calls(
    file: Annotated[Path, typer.Argument(help="A YAML file of scripted calls (see app/scripts.py).")],
    only: Annotated[list[str] | None, typer.Option("--only", help="Only calls whose name contains this "
                                                   "(repeatable).")] = None,
    first: Annotated[int | None, typer.Option("--calls", "-n", min=1, help="Only the first N calls.")] = None,
    speed: Annotated[float, typer.Option(help="Simulated time runs this many times faster.")] = 4.0,
    workdir: Annotated[Path | None, typer.Option(help="Where the calls' files and database go [default: temp].")
                       ] = None,
    rescore: Annotated[Path | None, typer.Option("--rescore", help="Score the per-call lines of an earlier "
                                                 "--json run (a file) instead of placing the calls again.")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run scripted calls through the simulator, Whisper and QA; per-category precision and recall.

    --json prints one object per line per call {"name", "expect", "flags": [{"rule", "category",
    "confidence", "status"}]} (status "listen" = needs listening), then {"summary": {...}}.
    """
    from app.scripts import ScriptError, load_script
    from menus.prompts import prompt_texts

    cfg = load(config)
    rules = rule_categories(cfg)
    try:
        calls = load_script(file, known_names(cfg), set(prompt_texts(cfg)))
    except ScriptError as exc:
        fail(str(exc))
    if only:
        calls = [c for c in calls if any(o in c.name for o in only)]
    if first is not None:
        calls = calls[:first]
    if not calls:
        fail(f"{file}: no call matches --only {' '.join(only or [])}")
    if rescore is not None:
        results, run_info = _saved(rescore, {c.name for c in calls})
    else:
        results, run_info = run(cfg, calls, speed=speed, workdir=workdir, progress=True)
    summary = score(results, rules) | run_info
    if as_json:
        for r in results:
            sys.stdout.write(json.dumps({k: r[k] for k in ("name", "call", "expect", "flags")}, ensure_ascii=False)
                             + "\n")
        sys.stdout.write(json.dumps({"summary": summary}, ensure_ascii=False) + "\n")
        return
    from cliutil import console

    for r in results:
        missed, false = mistakes(r, rules)
        mark = "ok" if not (missed or false) else "MISS " * bool(missed) + "FALSE" * bool(false)
        flags = ", ".join(f"{f['rule']}{'?' if f['status'] == 'listen' else ''}" for f in r["flags"]) or "-"
        console.print(f"{mark:<10} {r['name']}: expect {', '.join(r['expect']) or '(polite)'}; got {flags}"
                      + (f"; missed {', '.join(sorted(missed))}" if missed else "")
                      + (f"; false {', '.join(sorted(false))}" if false else ""), highlight=False, markup=False)
    for mode in MODES:
        console.print(_table(summary, mode))
    console.print(f"{len(results)} calls in {summary.get('seconds')}s (transcription "
                  f"{summary.get('transcription')}); files in {summary.get('workdir')}", highlight=False, markup=False)
