"""Scripted calls as data: the YAML loader, its one-line errors, and eval-calls' arithmetic."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.evalcalls import known_names, rule_categories, score
from app.scripts import DEFAULT_SCRIPT, ScriptError, load_script, resolve
from cli import app
from menus.prompts import prompt_texts
from pbx.simulator import Agent, CallScript, Press, Say
from settings import load_config

ROOT = Path(__file__).resolve().parent.parent
ISSUE_FORM = """\
calls:
  - name: polite-order-query
    digits: [{at: 6.0, key: "1"}, {at: 7.0, key: "1"}]   # call seconds from the answer
    hangs_up_at: null            # caller hangs up at this second; null = after the conversation
    caller_says: [{at: 2.0, text: 你好，我想查一下订单。}]
    agent:                        # null = no agent answers
      says: [{at: 0.5, text: 您好，这里是海尔斯科技，请问有什么可以帮您？}]
      hangs_up_after: null       # the agent hangs up first, this many seconds after answering
    expect: []                    # rule ids or categories this call should be flagged with
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calls.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_issue_form_loads_exactly(tmp_path: Path) -> None:
    [call] = load_script(write(tmp_path, ISSUE_FORM))
    assert call.polite and call.expect == ()
    script = call.call_script({})
    assert script == CallScript(
        "polite-order-query", presses=(Press(6.0, "1"), Press(7.0, "1")), says=(Say(2.0, "你好，我想查一下订单。"),),
        hangs_up_at=None, agent=Agent("SIP/agent1001", answer_after=2.0, hangs_up_after=None,
                                      says=(Say(0.5, "您好，这里是海尔斯科技，请问有什么可以帮您？"),)))


def test_no_agent_and_prompt_relative_times(tmp_path: Path) -> None:
    calls = load_script(write(tmp_path, """\
calls:
  - name: gives up
    hangs_up_at: 0.5 * greeting
    agent: null
    expect: [opening]
  - name: after the invalid prompt
    digits: [{at: greeting + invalid + 2, key: 0}]
"""))
    a, b = resolve(calls, {"greeting": 4.0, "invalid": 2.5})
    assert a.agent is None and a.hangs_up_at == 2.0 and calls[0].expect == ("opening",)
    assert b.presses == (Press(8.5, "0"),) and b.agent is None  # agent left out = nobody answers
    with pytest.raises(ScriptError, match=r"calls.yaml:7: calls\[1\]\.digits\[0\]\.at: unknown prompt 'invalid'"):
        resolve(calls, {"greeting": 4.0})


@pytest.mark.parametrize(("text", "line", "field"), [
    (ISSUE_FORM.replace('key: "1"}, {at: 7.0', 'key: "x"}, {at: 7.0'), 3, r"calls\[0\]\.digits\[0\]\.key"),
    (ISSUE_FORM.replace("hangs_up_at: null", "hangs_up_at: soon"), 4, r"calls\[0\]\.hangs_up_at"),
    (ISSUE_FORM.replace("caller_says:", "caller_said:"), 5, r"calls\[0\]\.caller_said: unknown field"),
    (ISSUE_FORM.replace("says: [{at: 0.5,", "says: [{at: -1,"), 7, r"calls\[0\]\.agent\.says\[0\]\.at"),
    (ISSUE_FORM.replace("expect: []", "expect: [forbidden.nonsense]"), 9, r"calls\[0\]\.expect\[0\]"),
    (ISSUE_FORM.replace("  - name: polite-order-query\n", "  - note: unnamed\n"), 2, r"calls\[0\]\.name: required"),
    (ISSUE_FORM + ISSUE_FORM.split("calls:\n")[1], 10, r"calls\[1\]\.name: 'polite-order-query' is used twice"),
    ("calls: [\n", 2, "YAML syntax"),
])
def test_a_bad_file_is_one_line_naming_file_line_and_field(tmp_path: Path, text: str, line: int, field: str) -> None:
    cfg = load_config(ROOT / "config.yaml")
    with pytest.raises(ScriptError) as exc:
        load_script(write(tmp_path, text), known_names(cfg), set(prompt_texts(cfg)))
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith(f"{tmp_path / 'calls.yaml'}:{line}: ")
    assert re.search(field, msg), msg


def test_the_shipped_files_load_with_the_shipped_config() -> None:
    cfg = load_config(ROOT / "config.yaml")
    known, prompts = known_names(cfg), set(prompt_texts(cfg))
    demo = load_script(DEFAULT_SCRIPT, known, prompts)
    assert len(demo) == 8
    evals = load_script(ROOT / "app" / "qa_eval_calls.yaml", known, prompts)
    polite = [c for c in evals if c.polite]
    assert len(polite) >= 12
    assert len({c.agent["says"][0][1] for c in polite if c.agent}) >= 4  # varied openings
    routes = {tuple(k for _, k in c.digits) for c in polite}
    assert {("3",), ("2",), ("0",), ()} <= routes  # a queue, extensions, and the fallback queue
    assert sum("opening" in c.expect for c in evals) >= 5
    cats = rule_categories(cfg)
    assert {cats.get(e, e) for c in evals for e in c.expect} >= {"opening", "closing", "forbidden", "vague"}


def test_the_held_out_sets_load_with_the_shipped_config() -> None:
    cfg = load_config(ROOT / "config.yaml")
    known, prompts, cats = known_names(cfg), set(prompt_texts(cfg)), rule_categories(cfg)
    sets = sorted((ROOT / "bench" / "heldout").glob("set*.yaml"))
    assert len(sets) >= 4
    for path in sets:
        calls = load_script(path, known, prompts)
        assert any(c.polite for c in calls) and any(c.expect for c in calls), path
        assert {cats.get(e, e) for c in calls for e in c.expect} <= {"opening", "closing", "forbidden", "vague"}, path


def test_demo_script_errors_reach_the_cli_as_one_line(tmp_path: Path) -> None:
    bad = write(tmp_path, ISSUE_FORM.replace("text: 你好，我想查一下订单。", "text: ''"))
    r = CliRunner().invoke(app, ["qa", "eval-calls", str(bad), "-c", str(ROOT / "config.yaml")])
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "calls.yaml:5: calls[0].caller_says[0].text" in r.stderr
    r = CliRunner().invoke(app, ["demo", "--script", str(bad), "--no-transcribe", "-c", str(ROOT / "config.yaml")])
    assert r.exit_code == 1 and "calls[0].caller_says[0].text" in r.stderr


def _call(name: str, expect: list[str], *flags: tuple[str, str, str]) -> dict:
    return {"name": name, "expect": expect,
            "flags": [{"rule": r, "category": c, "confidence": 0.9, "status": s} for r, c, s in flags]}


def test_eval_summary_arithmetic() -> None:
    rules = {"forbidden.rude": "forbidden", "opening.mandated": "opening", "vague.ambiguous": "vague"}
    results = [
        _call("polite 1", []),
        _call("polite 2", [], ("closing.courtesy", "closing", "listen")),  # unsure false flag
        _call("polite 3", [], ("vague.ambiguous", "vague", "new")),  # a sure false flag
        _call("rude hit", ["forbidden.rude"], ("forbidden.rude", "forbidden", "new")),
        _call("rude miss", ["forbidden.rude"]),
        _call("rude other rule", ["forbidden.rude"], ("forbidden.but", "forbidden", "new")),
        _call("no opening, unsure", ["opening"], ("opening.mandated", "opening", "listen")),
    ]
    s = score(results, rules)
    assert (s["calls"], s["polite_calls"]) == (7, 3)
    everything, sure = s["all"], s["sure"]
    assert everything["categories"]["forbidden"] == {"expected": 3, "flagged": 2, "hits": 2, "false": 0,
                                                     "misses": 1, "precision": 1.0, "recall": 0.667}
    assert everything["rules"]["forbidden.rude"] == {"expected": 3, "found": 1}  # the rule itself, once
    assert everything["categories"]["opening"]["recall"] == 1.0
    assert sure["categories"]["opening"]["recall"] == 0.0  # the unsure flag is not counted as sure
    assert everything["categories"]["vague"] == {"expected": 0, "flagged": 1, "hits": 0, "false": 1, "misses": 0,
                                                 "precision": 0.0, "recall": None}
    assert everything["polite_false_flag_rate"] == round(2 / 3, 3)
    assert sure["polite_false_flag_rate"] == round(1 / 3, 3)
    assert sure["polite_flagged_by_category"] == {"vague": 1}
    assert (everything["polite_calls_with_policy_flags"], sure["polite_calls_with_policy_flags"]) == (2, 1)
    # "the transcript could not be checked" is counted apart, not as a missing opening
    review = score([_call("unreadable", [], ("transcript.needs-review", "review", "listen"))], rules)["all"]
    assert set(review["categories"]) == {"review"} and review["polite_calls_with_policy_flags"] == 0
    json.dumps(s)  # printable as the last --json line
