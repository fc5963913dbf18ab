"""Pausing the recording for card data: `hotline calls pause/resume` over AMI MixMonitorMute, on the
simulator (real TCP) with the real service recording the call; the tracks hold silence while paused."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ivr_env import call_row, rendered_sounds, run_env
from sqlalchemy import select
from typer.testing import CliRunner

import db
from app.demo import DemoEnv, prompt_seconds
from app.pause_commands import set_recording
from cli import app
from ivr.recpause import PauseError, mute_recording
from ivr.tables import Call
from pbx.ami import AmiClient
from pbx.simulator import Agent, AsteriskSimulator, CallScript, Press, Say
from recordings.audio import read_pcm16

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
RATE = 8000


@pytest.fixture(scope="session")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rendered_sounds(tmp_path_factory.mktemp("sounds"))


async def _call_id(url: str, uniqueid: str) -> int:
    """The call's row id, once the service has written the row."""
    for _ in range(500):
        with db.transaction(url) as s:
            found = s.scalar(select(Call.id).where(Call.uniqueid == uniqueid))
        if found is not None:
            return found
        await asyncio.sleep(0.02)
    raise TimeoutError(f"no row for call {uniqueid}")


async def _until(call: Any, t: float) -> None:
    while call.now() < t:
        await asyncio.sleep(0.005)


def test_pause_and_resume_silence_both_tracks_and_are_on_the_call(tmp_path: Path, sounds: Path) -> None:
    async def body(env: DemoEnv) -> tuple[Any, dict[str, float], list[dict[str, Any]], list[tuple[Any, ...]]]:
        g = prompt_seconds(env.config)["greeting"]
        # Says count from the agent's answer: both sides speak before, during and after the pause (5 s .. 14 s);
        # 2 s and more between a command and the speech it must catch (an AMI login takes wall time x speed).
        script = CallScript("pci", caller_num="13812348003", presses=(Press(g + 1, "0"),),
                            says=(Say(1.5, "我想查询一下我的订单。"), Say(8.0, "我的卡号是六二二二零二一二。"),
                                  Say(16.5, "好的，谢谢。")),
                            agent=Agent("SIP/agent1001", answer_after=1.0,
                                        says=(Say(0.2, "您好，这里是客服中心。"), Say(7.0, "请说您的卡号。"),
                                              Say(16.0, "好的，已经为您登记。"))))
        a = env.config.ami
        async with AmiClient(a.host, a.port, a.username, a.password, name="watcher") as watcher:
            mutes: list[Any] = []
            watcher.on_event(lambda m: mutes.append(m) if m.event == "MixMonitorMute" else None)
            call = env.sim.place_call(script)
            call_id = await _call_id(env.url, call.uniqueid)
            while call.leg is None or not call.leg.bridged:
                await asyncio.sleep(0.005)
            t = {"answer": call.now()}
            await _until(call, t["answer"] + 5.0)
            replies = [await set_recording(env.config, str(call_id), True, "calls pause")]
            t["paused"] = call.now()
            replies.append(await set_recording(env.config, call.uniqueid, True, "calls pause"))  # again: no event
            await _until(call, t["answer"] + 14.0)
            t["resuming"] = call.now()
            replies.append(await set_recording(env.config, str(call_id), False, "calls resume"))
            await asyncio.wait_for(asyncio.shield(call.done), 120)
            await env.settled(call.uniqueid)
        t["start"] = call.monitors[0].start
        return call, t, replies, [(m.get("Channel"), m.get("Direction"), m.get("State")) for m in mutes]

    call, t, replies, mutes = run_env(tmp_path, sounds, body, speed=4.0)
    assert [(r["paused"], r["changed"]) for r in replies] == [(True, True), (True, False), (False, True)]
    mon = call.monitors[0]
    rx, tx, mix = read_pcm16(mon.rx), read_pcm16(mon.tx), read_pcm16(mon.mix)

    def level(a: float, b: float, track: np.ndarray) -> float:  # seconds after the agent's answer
        return float(np.abs(track[round((t["answer"] + a - t["start"]) * RATE):
                                  round((t["answer"] + b - t["start"]) * RATE)]).mean())

    paused = slice(round((t["paused"] - t["start"]) * RATE), round((t["resuming"] - t["start"]) * RATE))
    assert not rx[paused].any() and not tx[paused].any() and not mix[paused].any()
    for spoken in (call.rx, call.tx):  # what was said while paused: the card number, the agent asking for it
        assert any(t["paused"] < seg.start < t["resuming"] for seg in spoken)
    assert level(2.0, 4.0, rx) > 300 and level(16.8, 17.5, rx) > 300  # the caller before and after the pause
    assert level(0.5, 2.0, tx) > 300 and level(16.3, 17.5, tx) > 300  # the agent too
    assert mutes == [(call.channel, "both", "1"), (call.channel, "both", "1"), (call.channel, "both", "0")]

    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    row = call_row(url, call.uniqueid)
    marks = [(k, d) for k, d in row["events"] if k.startswith("recording_")]
    assert [k for k, _ in marks] == ["recording_paused", "recording_resumed"]
    assert [d["via"] for _, d in marks] == ["calls pause", "calls resume"]
    cfg = ["--config", str(tmp_path / "config.yaml")]
    shown = CliRunner().invoke(app, [*cfg, "calls", "show", str(row["id"])], terminal_width=200)
    assert shown.exit_code == 0 and re.search(r"recording paused \d+\.\ds-\d+\.\ds \(calls pause\)", shown.output)
    late = CliRunner().invoke(app, [*cfg, "calls", "pause", str(row["id"])], terminal_width=200)
    assert late.exit_code == 2 and f"call {row['id']} has ended: nothing is recording it" in late.output


def test_mixmonitormute_answers_as_asterisk_does(sounds: Path, tmp_path: Path) -> None:
    async def main() -> list[tuple[str | None, str | None]]:
        async with AsteriskSimulator(sounds_dir=sounds, monitor_dir=tmp_path / "monitor", speed=20.0) as sim:
            call = sim.place_call(CallScript("mute", hangs_up_at=30.0, agent=None))
            while call.chan.agi_queue is None:
                await asyncio.sleep(0.001)
            async with AmiClient("127.0.0.1", sim.port, sim.username, sim.secret) as ami:
                ch = call.channel
                asks = [{"Channel": ch, "State": "1"}, {"Channel": ch, "Direction": "sideways", "State": "1"},
                        {"Direction": "both", "State": "1"}, {"Channel": ch, "Direction": "both"},
                        {"Channel": "SIP/nobody-00000099", "Direction": "both", "State": "1"},
                        {"Channel": ch, "Direction": "both", "State": "1"}]  # nothing records the channel yet
                out = [((r := await ami.action("MixMonitorMute", **a)).get("Response"), r.get("Message"))
                       for a in asks]
                with pytest.raises(PauseError, match="MixMonitorMute refused: Cannot set mute flag"):
                    await mute_recording(ami, ch, True)
                sim.hangup_channel(call.chan, None)
                return out

    assert asyncio.run(main()) == [
        ("Error", "No direction specified. Must be read, write or both"),
        ("Error", "Invalid direction specified. Must be read, write or both"),
        ("Error", "No channel specified"),
        ("Error", "No state specified"),
        ("Error", "No such channel"),
        ("Error", "Cannot set mute flag"),
    ]
