"""Slow: `hotline qa eval-calls` on two scripted calls through the simulator, Whisper base and QA."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.evalcalls import rule_categories, score
from cli import app
from settings import load_config

ROOT = Path(__file__).resolve().parent.parent
CALLS = """\
calls:
  - name: polite
    digits: [{at: greeting + 2.0, key: "0"}]
    caller_says: [{at: 11.0, text: 我想开一张发票。}]
    agent:
      says:
        - {at: 0.5, text: 您好，这里是海尔斯科技，请问有什么可以帮您？}
        - {at: 16.0, text: 好的，发票三个工作日内寄给您，感谢您的来电，再见。}
    expect: []
  - name: cannot
    digits: [{at: greeting + 2.0, key: "3"}]
    caller_says: [{at: 11.0, text: 能不能帮我改一下地址？}]
    agent:
      interface: SIP/agent1001
      says:
        - {at: 0.5, text: 您好，这里是海尔斯科技，请问有什么可以帮您？}
        - {at: 16.0, text: 这个我不能改。}
        - {at: 22.0, text: 感谢您的来电，再见。}
    expect: [forbidden.negative-language]
"""


@pytest.mark.slow
def test_eval_calls_json_lines_and_summary(tmp_path: Path) -> None:
    script = tmp_path / "calls.yaml"
    script.write_text(CALLS, encoding="utf-8")
    r = CliRunner().invoke(app, ["qa", "eval-calls", str(script), "--json", "--workdir", str(tmp_path / "run"),
                                 "-c", str(ROOT / "config.yaml")])
    assert r.exit_code == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    calls, last = lines[:-1], lines[-1]
    assert [c["name"] for c in calls] == ["polite", "cannot"]
    assert [c["expect"] for c in calls] == [[], ["forbidden.negative-language"]]
    for c in calls:
        for f in c["flags"]:
            assert set(f) == {"rule", "category", "confidence", "status"}
            assert 0.0 <= f["confidence"] <= 1.0 and f["status"] in ("new", "listen")
    summary = last["summary"]
    assert summary["transcription"]["done"] == 2 and summary["polite_calls"] == 1
    rules = rule_categories(load_config(ROOT / "config.yaml"))
    again = score(calls, rules)
    assert summary["all"] == again["all"] and summary["sure"] == again["sure"]  # the printed figures add up
    # the forbidden call's expectation is scored either way (a hit or a miss, never dropped); whether
    # Whisper hears 我不能 in espeak's voice varies from run to run (it missed it once here), so recall
    # is measured over the shipped file by `qa eval-calls`, not asserted on one call
    forbidden = summary["all"]["categories"]["forbidden"]
    assert forbidden["expected"] == 1 and forbidden["hits"] + forbidden["misses"] == 1
    assert forbidden["hits"] == int("forbidden" in {f["category"] for f in calls[1]["flags"]})
