"""`hotline calls callbacks`: after-hours callers who pressed the callback key (config.yaml: after_hours
1, a hangup with a category), found by that key rather than by reading menu paths, caller masked
(real SQLite, the real CLI)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from qa_calls import config_file
from typer.testing import CliRunner

import db
from app.callbacks import callback_keys
from cli import app
from ivr.tables import Call, MenuStep
from settings import load_config

NOW = datetime.now(UTC)


def _call(s: db.Session, n: int, caller: str, steps: list[tuple[str, str | None, str, str | None]],
          hours_ago: float) -> None:  # fmt: skip
    start = NOW - timedelta(hours=hours_ago)
    last = steps[-1]
    path = " > ".join(f"{m}:{d or '-'}" for m, d, _o, _a in steps)
    call = Call(uniqueid=f"1700000000.{n}", channel=f"SIP/{caller}-0000000{n}", caller_num=caller, did="4008001234",
                status="ended", started_at=start, ended_at=start + timedelta(seconds=20), route_action=last[3],
                category="其他问题" if last[0] == "after_hours" else None, menu_path=path)  # fmt: skip
    s.add(call)
    s.flush()
    for seq, (menu, digit, outcome, action) in enumerate(steps, 1):
        s.add(MenuStep(call_id=call.id, seq=seq, at=start + timedelta(seconds=5 * seq), menu=menu, digit=digit,
                       outcome=outcome, action=action))  # fmt: skip


def _setup(tmp_path: Path) -> Path:
    cfg = config_file(tmp_path)
    with db.transaction(load_config(cfg).database_url) as s:
        _call(s, 1, "13812348003", [("after_hours", "1", "chosen", "hangup")], hours_ago=2)
        _call(s, 2, "13900001111", [("after_hours", None, "timeout", None), ("after_hours", None, "timeout", None),
                                    ("after_hours", None, "fallback", "hangup")], hours_ago=3)  # gave up: no request
        _call(s, 3, "13700002222", [("main", "3", "chosen", "queue")], hours_ago=1)  # daytime: no request
        _call(s, 4, "13600003333", [("after_hours", "9", "chosen", "repeat"),
                                    ("after_hours", "1", "chosen", "hangup")], hours_ago=30)  # heard it twice, asked
    return cfg


def invoke(cfg: Path, *args: str) -> str:
    # wide enough that no cell is folded (a folded number would slip past the search)
    res = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["calls", "callbacks", *args, "-c", str(cfg)])
    assert res.exit_code == 0, res.output
    return res.stdout


def test_the_shipped_after_hours_menu_has_one_callback_key() -> None:
    assert callback_keys(load_config(Path(__file__).resolve().parent.parent / "config.yaml")) == [("after_hours", "1")]


def test_callback_requests_are_listed_with_the_caller_masked(tmp_path: Path) -> None:
    cfg = _setup(tmp_path)
    out = invoke(cfg)
    assert "2 callback request(s) (after_hours:1)" in out
    assert "*******8003" in out and "*******3333" in out
    assert "13812348003" not in out and "13900001111" not in out and "2222" not in out
    rows = json.loads(invoke(cfg, "--json"))
    assert [(r["caller"], r["key"], r["path"]) for r in rows] == [
        ("*******8003", "after_hours:1", "after_hours:1"),
        ("*******3333", "after_hours:1", "after_hours:9 > after_hours:1")]  # newest first
    assert rows[0]["category"] == "其他问题" and rows[0]["did"] == "4008001234"
    assert "13812348003" not in json.dumps(rows)


def test_since_keeps_the_recent_requests_only(tmp_path: Path) -> None:
    cfg = _setup(tmp_path)
    assert [r["id"] for r in json.loads(invoke(cfg, "--since", "1d", "--json"))] == [1]
    assert "no callback requests (after_hours:1) since 10m" in invoke(cfg, "--since", "10m")
