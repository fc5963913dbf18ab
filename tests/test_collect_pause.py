"""A collect menu (settings.Collect, ivr/collect.py): the caller keys in a card number with the recording
paused (AMI MixMonitorMute, both directions), on the simulator (real TCP) with the real service.

The digits are nowhere afterwards (database, journal, logs, `calls show`), the call goes on to the
menu's ``next``, a caller hanging up mid-entry leaves the recording closed cleanly, and the pause is a
``paused`` stretch of the call's timeline."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
from pathlib import Path
from typing import Any

import backends
import numpy as np
import pytest
from ivr_env import BASE_CONFIG, call_row, rendered_sounds, run_env
from ruamel.yaml import YAML
from sqlalchemy import select
from typer.testing import CliRunner

import db
from app.demo import DemoEnv, prompt_seconds
from cli import app
from ivr.collect import luhn_ok
from ivr.tables import PROMPT_END, PROMPT_START, Call
from ivr.timeline import call_timeline
from menus.lint import lint_data
from pbx.ami import AmiClient
from pbx.simulator import Agent, CallScript, Press, Say
from pbx.simulator import actions as sim_actions
from pbx.simulator.manager import error
from recordings.audio import read_pcm16
from settings import ConfigError, read_yaml, validate

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
RATE = 8000
CARD = "6222021234567894"  # passes Luhn
ACCOUNT_PROMPT = "请输入您的银行卡号，以井号键结束。"


def _account_menu(data: Any) -> None:
    """The shipped config plus orders' 3: a collect menu reading a card number, then the support queue."""
    data["menus"]["orders"]["options"]["3"] = {"action": "submenu", "target": "account"}
    data["menus"]["account"] = {
        "prompt": ACCOUNT_PROMPT, "timeout": 4, "retries": 1, "fallback": {"action": "queue", "target": "support"},
        "collect": {"name": "card", "min_digits": 12, "max_digits": 19,
                    "next": {"action": "queue", "target": "support"}},
    }  # fmt: skip


@pytest.fixture(scope="session")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rendered_sounds(tmp_path_factory.mktemp("sounds"))


def _keys(start: float, digits: str) -> tuple[Press, ...]:
    return tuple(Press(start + 0.3 * i, d) for i, d in enumerate(digits))


async def _watched(env: DemoEnv, script: CallScript) -> tuple[Any, list[tuple[Any, ...]]]:
    """Place the call with an AMI watcher collecting MixMonitorMute events; wait until it is settled."""
    a = env.config.ami
    async with AmiClient(a.host, a.port, a.username, a.password, name="watcher") as watcher:
        mutes: list[Any] = []
        watcher.on_event(lambda m: mutes.append(m) if m.event == "MixMonitorMute" else None)
        call = env.sim.place_call(script)
        await asyncio.wait_for(asyncio.shield(call.done), 120)
        await env.settled(call.uniqueid)
    return call, [(m.get("Channel"), m.get("Direction"), m.get("State")) for m in mutes]


def _everything_written(workdir: Path) -> str:
    """The database's full dump and every text file the service wrote (the store's journal, the config)."""
    dump = backends.dump(f"sqlite:///{workdir / 'hotline.db'}")
    texts = [p.read_text(errors="replace") for p in workdir.rglob("*")
             if p.is_file() and p.suffix not in (".wav", ".db", ".sha256") and "-journal" not in p.name]
    return dump + "\n".join(texts)


def _cut(track: np.ndarray, start: float, a: float, b: float) -> np.ndarray:
    return track[round((a - start) * RATE):round((b - start) * RATE)]


def test_card_number_keyed_in_while_paused_then_the_call_goes_on(
        tmp_path: Path, sounds: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    async def body(env: DemoEnv) -> tuple[Any, list[tuple[Any, ...]], dict[str, Any]]:
        g = prompt_seconds(env.config)["greeting"]
        first = g + 3.5  # the account prompt starts about g + 2.3
        script = CallScript("card", caller_num="13812348003",
                            presses=(Press(g + 1.0, "1"), Press(g + 2.0, "3"), *_keys(first, CARD),
                                     Press(first + 0.3 * len(CARD), "#")),
                            says=(Say(1.5, "好的，谢谢。"),),
                            agent=Agent("SIP/agent1001", answer_after=1.0, says=(Say(0.2, "您好，这里是客服中心。"),)))
        call, mutes = await _watched(env, script)
        with db.transaction(env.url) as s:
            row = s.scalars(select(Call).where(Call.uniqueid == call.uniqueid)).one()
            timeline = call_timeline(s, row)
        assert timeline is not None
        return call, mutes, {"first": first, "timeline": timeline}

    call, mutes, t = run_env(tmp_path, sounds, body, speed=4.0, edit=_account_menu)
    assert mutes == [(call.channel, "both", "1"), (call.channel, "both", "0")]

    # the recording was silent on both sides from before the first key to after the '#'
    mon = call.monitors[0]
    (rx_from, rx_to), (tx_from, tx_to) = mon.muted["rx"][0], mon.muted["tx"][0]
    assert len(mon.muted["rx"]) == len(mon.muted["tx"]) == 1 and (rx_from, rx_to) == (tx_from, tx_to)
    assert rx_to is not None and rx_from < t["first"] and rx_to > t["first"] + 0.3 * len(CARD) + 0.2
    rx, tx = read_pcm16(mon.rx), read_pcm16(mon.tx)
    assert not _cut(rx, mon.start, rx_from, rx_to).any() and not _cut(tx, mon.start, tx_from, tx_to).any()
    assert any(rx_from < s.start < rx_to for s in call.tx)  # the account prompt played, unrecorded
    assert float(np.abs(_cut(tx, mon.start, rx_to + 0.3, rx_to + 1.5)).mean()) > 300  # recorded again: transfer

    # the call went on to the collect menu's next (the support queue) and an agent
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    row = call_row(url, call.uniqueid)
    assert row["steps"] == [("main", "1", "chosen", "submenu", "orders", False),
                            ("orders", "3", "chosen", "submenu", "account", False),
                            ("account", None, "collected", "queue", "support", False)]
    assert row["menu_path"] == "main:1 > orders:3 > account:-"
    assert (row["route_action"], row["route_target"], row["agent"]) == ("queue", "support", "SIP/agent1001")
    kinds = [k for k, d in row["events"] if k.startswith("recording_") or d.get("name") == "menu-account"
             or k == "collected"]
    assert kinds == ["recording_paused", PROMPT_START, PROMPT_END, "recording_resumed", "collected"]
    ev = dict(row["events"])
    assert ev["collected"] == {"menu": "account", "name": "card", "digits": 16, "luhn": True}
    assert ev["recording_paused"] == {"by": "ivr", "via": "collect account"}

    # the number is nowhere: database, journal, logs (the simulator stands for Asterisk, not us)
    assert CARD not in _everything_written(tmp_path) and CARD[:8] not in _everything_written(tmp_path)
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("pbx.simulator")]
    assert ours and not any(CARD[:6] in line for line in ours)

    # the timeline and `calls show` have the pause; the prompt said inside it is not taken as heard
    paused = t["timeline"].of("paused")
    assert len(paused) == 1 and paused[0].name == "collect account"
    assert "menu-account" not in [s.name for s in t["timeline"].prompts()]
    assert not any(s.start < paused[0].end and s.end > paused[0].start
                   for s in t["timeline"].stretches if s.kind != "paused")
    shown = CliRunner().invoke(app, ["--config", str(tmp_path / "config.yaml"), "calls", "show", str(row["id"])],
                               terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert re.search(r"recording paused \d+\.\ds-\d+\.\ds \(collect account\)", shown.output)
    assert "account: (none) collected -> queue support" in shown.output and CARD[:6] not in shown.output


def test_caller_hanging_up_mid_entry_leaves_the_recording_closed(tmp_path: Path, sounds: Path) -> None:
    async def body(env: DemoEnv) -> tuple[Any, list[tuple[Any, ...]], Any, float]:
        g = prompt_seconds(env.config)["greeting"]
        # no agent: the caller's lines count from the answer; it reads the number aloud while keying it
        script = CallScript("gone", presses=(Press(g + 1.0, "1"), Press(g + 2.0, "3"), *_keys(g + 3.5, CARD[:5])),
                            says=(Say(g + 3.5, "我的卡号是六二二二零二。"),), hangs_up_at=g + 6.0, agent=None)
        call, mutes = await _watched(env, script)
        with db.transaction(env.url) as s:
            row = s.scalars(select(Call).where(Call.uniqueid == call.uniqueid)).one()
            timeline, ended = call_timeline(s, row), (row.ended_at - (row.recording_started_at or row.started_at))
        return call, mutes, timeline, ended.total_seconds()

    call, mutes, timeline, end_s = run_env(tmp_path, sounds, body, speed=4.0, edit=_account_menu)
    assert mutes[0] == (call.channel, "both", "1")
    mon = call.monitors[0]
    (start, until), stop = mon.muted["rx"][0], mon.stop
    assert stop is not None and (until is None or until >= stop)  # never recording again before the end
    rx = read_pcm16(mon.rx)
    assert rx.size > 0 and not _cut(rx, mon.start, start, stop).any()  # the number said aloud: not kept
    assert any(start < s.start for s in call.rx)

    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    row = call_row(url, call.uniqueid)
    assert (row["status"], row["hangup_by"], row["error"]) == ("ended", "caller", None)
    assert row["steps"][-1] == ("account", None, "hangup", None, None, False)
    kinds = [k for k, _ in row["events"]]
    assert "recording_paused" in kinds and "collected" not in kinds and "recording_resume_failed" not in kinds
    assert {status for status, _ in row["recordings"].values()} == {"ready"}
    paused = timeline.of("paused")
    assert len(paused) == 1 and paused[0].end == pytest.approx(end_s, abs=0.5)  # to the call's end
    # the five keyed digits as a run of their own: a dump glues fields (…:02.085622 + 2026-12-04 holds 62220)
    assert not re.search(rf"(?<!\d){CARD[:5]}(?!\d)", _everything_written(tmp_path))


def test_a_recording_that_cannot_be_paused_means_the_number_is_not_asked_for(
        tmp_path: Path, sounds: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    async def refuse(sim: Any, session: Any, msg: Any, aid: str) -> None:  # an Asterisk that will not mute
        error(session, aid, "Permission denied")

    monkeypatch.setitem(sim_actions._HANDLERS, "mixmonitormute", refuse)

    async def body(env: DemoEnv) -> Any:
        g = prompt_seconds(env.config)["greeting"]
        script = CallScript("refused", presses=(Press(g + 1.0, "1"), Press(g + 2.0, "3"), *_keys(g + 3.5, CARD)),
                            agent=Agent("SIP/agent1001", answer_after=1.0))
        return await env.call(script)

    call = run_env(tmp_path, sounds, body, speed=4.0, edit=_account_menu)
    row = call_row(f"sqlite:///{tmp_path / 'hotline.db'}", call.uniqueid)
    assert row["steps"][-1] == ("account", None, "fallback", "queue", "support", False)  # to a person instead
    assert "menu-account" not in [name.rsplit("/", 1)[-1] for _, name in call.heard]
    ev = dict(row["events"])
    assert ev["recording_pause_failed"] == {"via": "collect account",
                                            "error": "MixMonitorMute refused: Permission denied"}
    assert "recording_paused" not in ev and "collected" not in ev
    assert any("could not pause the recording for collect account" in r.getMessage() for r in caplog.records)


def _reread(data: Any, path: Path) -> Any:
    """The tree written and read back, so lint can name the line of what the test added."""
    with path.open("w", encoding="utf-8") as fh:
        YAML(typ="rt").dump(data, fh)
    return read_yaml(path)


def test_collect_menu_schema_and_lint(tmp_path: Path) -> None:
    data = read_yaml(BASE_CONFIG)
    _account_menu(data)
    data = _reread(data, tmp_path / "config.yaml")
    cfg = validate(data, tmp_path / "config.yaml")
    spec = cfg.menus["account"].collect
    assert spec is not None and (spec.name, spec.min_digits, spec.max_digits, spec.next.target) == (
        "card", 12, 19, "support")
    found = {(p.rule, p.menu) for p in lint_data(data, tmp_path / "config.yaml")}
    assert not any(menu == "account" for _, menu in found)  # no 'no-options', reachable, a way out
    # the way on is checked like any route, and a collect menu takes no keys
    data["menus"]["account"]["collect"]["next"]["target"] = "nosuch"
    problems = [p for p in lint_data(data, tmp_path / "config.yaml") if p.severity == "error"]
    assert [(p.rule, p.menu, p.digit) for p in problems] == [("unknown-queue", "account", "collect.next")]
    data["menus"]["account"]["collect"]["next"]["target"] = "support"
    data["menus"]["account"]["options"] = {"1": {"action": "hangup"}}
    with pytest.raises(ConfigError, match="a collect menu reads a number, not keys"):
        validate(data, tmp_path / "config.yaml")
    del data["menus"]["account"]["options"]
    data["menus"]["account"]["collect"]["min_digits"] = 20
    with pytest.raises(ConfigError, match="min_digits 20 is above max_digits 19"):
        validate(data, tmp_path / "config.yaml")


def test_luhn() -> None:
    assert luhn_ok(CARD) and luhn_ok("4111111111111111") and luhn_ok("79927398713")
    assert not luhn_ok("6222021234567895") and not luhn_ok("") and not luhn_ok("12a4")
