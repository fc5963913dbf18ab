"""The service when things go wrong: link loss, a wrong secret, garbage on the wire, config edits.

Real TCP to the Asterisk simulator, real SQLite; SPEED makes call seconds pass faster
than wall seconds (every time below is computed from the rendered prompt lengths).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from ivr_env import BASE_CONFIG, ROOT, call_row, prompts_heard, rendered_sounds, run_env
from sqlalchemy import select

import db
from app.demo import DemoEnv, demo_env, prompt_seconds, write_config
from ivr.service import IvrService, wait_for
from pbx.ami import AmiAuthError
from pbx.simulator import Agent, AsteriskSimulator, CallScript, Press, Say
from settings import load_config
from transcribe.tables import Job

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


@pytest.fixture(scope="session")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rendered_sounds(tmp_path_factory.mktemp("sounds"))


def _fast_reconnect(data: Any) -> None:
    data["ami"]["reconnect_max"] = 0.5  # retries every 0.25-0.5 s while Asterisk is away


def test_link_lost_mid_call_and_reconciled(tmp_path: Path, sounds: Path, caplog: pytest.LogCaptureFixture) -> None:
    speed = 10.0
    caplog.set_level(logging.INFO)

    async def body(env: DemoEnv) -> dict[str, Any]:
        g = prompt_seconds(env.config)["greeting"]
        sim = env.sim
        # A: talking to aftersales (EXEC Dial running) when the link drops; hangs up after it is back.
        a = sim.place_call(CallScript("a", caller_num="501", presses=(Press(g + 1, "2"),), hangs_up_at=60.0,
                                      agent=Agent("SIP/agent1002", answer_after=2.0,
                                                  says=(Say(1.0, "您好"), Say(30.0, "还在吗")))))
        # B: in the menu when the link drops; hangs up while it is down.
        b = sim.place_call(CallScript("b", caller_num="502", hangs_up_at=35.0, agent=None))
        await asyncio.sleep(2.5)
        assert env.service.sessions.keys() >= {a.uniqueid, b.uniqueid}
        sim._close_server()  # nobody can reconnect until start() below
        sim.drop_connections()
        await asyncio.sleep(0.5)
        # C: arrives while the link is down; its AsyncAGIStart is never seen.
        c = sim.place_call(CallScript("c", caller_num="503", presses=(Press(32.0, "3"),),
                                      agent=Agent("SIP/agent1001", answer_after=1.0)))
        await asyncio.sleep(1.0)
        await sim.start()
        for call in (a, b, c):
            await asyncio.wait_for(asyncio.shield(call.done), 60)
            await env.settled(call.uniqueid, 30)
        return {"a": a, "b": b, "c": c}

    calls = run_env(tmp_path, sounds, body, speed=speed, edit=_fast_reconnect)
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    a = call_row(url, calls["a"].uniqueid)
    assert a["status"] == "ended" and a["agent"] == "SIP/agent1002" and a["error"] is None
    restored = [d for k, d in a["events"] if k == "link_restored"]
    assert restored and restored[0]["application"] == "Dial"  # Dial still ran: its result was awaited, not re-sent
    assert calls["a"].commands.count("EXEC Dial SIP/agent1002,20") == 1
    assert a["hangup_by"] == "caller"
    b = call_row(url, calls["b"].uniqueid)
    assert b["status"] == "lost" and b["ended_at"] is not None
    assert b["recordings"]["caller"][0] == "ready"
    with db.transaction(url) as s:  # its recordings still go to transcription
        assert s.scalars(select(Job).where(Job.call_id == b["id"])).first() is not None
    c = call_row(url, calls["c"].uniqueid)
    # arrived during the gap, nothing played yet: adopted from the start
    assert ("adopted", {"plan": "fresh", "probe": "idle", "menu": "main"}) in c["events"]
    assert c["status"] == "ended" and c["route_target"] == "complaints" and c["agent"] == "SIP/agent1001"
    assert prompts_heard(calls["c"])[0] == "greeting"
    assert "reconciled after reconnect" in caplog.text and "1 lost" in caplog.text and "1 adopted" in caplog.text


def test_wrong_secret_is_one_clear_error(tmp_path: Path, sounds: Path) -> None:
    # In process: AmiAuthError from start(), one connection.
    async def main() -> tuple[int, str, str, int]:
        sim = AsteriskSimulator(sounds_dir=sounds, monitor_dir=tmp_path / "monitor", speed=10.0)
        accepted = 0
        real = sim._accept

        async def counting(reader: Any, writer: Any) -> None:
            nonlocal accepted
            accepted += 1
            await real(reader, writer)

        sim._accept = counting  # type: ignore[method-assign]
        port = await sim.start()
        path = write_config(BASE_CONFIG, tmp_path, port=port, secret="wrong-secret")
        service = IvrService(load_config(path), render_prompts=False)
        with pytest.raises(AmiAuthError, match="refused login"):
            await service.start()
        await service.stop()
        assert accepted == 1
        # The CLI: `hotline serve` exits 2 with one line, and does not try again.
        env = {**os.environ, "HOTLINE_AMI_SECRET": ""}
        t0 = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "cli.py"), "serve", "-c", str(path), "--no-prompts", "--no-transcribe",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=ROOT)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        took = time.monotonic() - t0
        await asyncio.sleep(0.5)  # a retry storm would show up here
        await sim.stop()
        assert took < 30
        return proc.returncode or 0, out.decode(), err.decode(), accepted

    code, out, err, accepted = asyncio.run(main())
    assert code == 2, (out, err)
    error_lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and "refused login of user 'hotline'" in error_lines[0]
    assert "Traceback" not in err
    assert accepted == 2  # one for the in-process check, one for the CLI


def test_malformed_and_unknown_frames_are_skipped(tmp_path: Path, sounds: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    async def body(env: DemoEnv) -> Any:
        g = prompt_seconds(env.config)["greeting"]
        call = env.sim.place_call(CallScript("x", presses=(Press(g + 1, "3"),), agent=Agent(answer_after=1.0)))
        await asyncio.sleep(0.3)
        for session in list(env.sim.sessions):
            session.send_bytes(
                b"this line has no colon\r\n\r\n"
                b"Event: SomethingNew\r\nPrivilege: call,all\r\nUniqueid: " + call.uniqueid.encode() + b"\r\n\r\n"
                b"Bogus: not an event or response\r\n\r\n"
                b"\xff\xfe: binary junk\r\n\r\n"
            )
        await asyncio.wait_for(asyncio.shield(call.done), 60)
        await env.settled(call.uniqueid)
        return call

    call = run_env(tmp_path, sounds, body)
    row = call_row(f"sqlite:///{tmp_path / 'hotline.db'}", call.uniqueid)
    assert row["status"] == "ended" and row["route_target"] == "complaints" and row["error"] is None
    text = caplog.text
    assert "skipped a malformed frame" in text and "neither Event nor Response" in text


def test_hot_reload_with_a_call_in_progress(tmp_path: Path, sounds: Path, caplog: pytest.LogCaptureFixture) -> None:
    speed = 10.0
    caplog.set_level(logging.INFO)

    async def body(env: DemoEnv) -> tuple[Any, Any, list[str]]:
        g = prompt_seconds(env.config)["greeting"]
        service = env.service
        # A presses 3 late in the main menu, after the edits below.
        a = env.sim.place_call(CallScript("a", caller_num="601", presses=(Press(g + 14, "3"),),
                                          agent=Agent(answer_after=1.0)))
        await asyncio.sleep((g + 1) / speed)
        assert a.uniqueid in service.sessions
        path = env.config_path
        original = path.read_text(encoding="utf-8")
        path.write_text(original.replace("menus:", "menus: [oops", 1), encoding="utf-8")
        await asyncio.sleep(0.5)
        assert service.reloads == 0  # the broken file was refused
        edited = original.replace("'3': {action: queue, target: complaints}", "'3': {action: queue, target: support}")
        assert edited != original
        path.write_text(edited, encoding="utf-8")
        assert await wait_for(lambda: service.reloads == 1, 5)
        b = env.sim.place_call(CallScript("b", caller_num="602", presses=(Press(g + 1, "3"),),
                                          agent=Agent(answer_after=1.0)))
        for call in (a, b):
            await asyncio.wait_for(asyncio.shield(call.done), 60)
            await env.settled(call.uniqueid)
        return a, b, [r.getMessage() for r in caplog.records if r.name == "ivr.service"]

    a, b, lines = run_env(tmp_path, sounds, body, speed=speed)
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    assert call_row(url, a.uniqueid)["route_target"] == "complaints"  # kept the menu it started with
    assert call_row(url, b.uniqueid)["route_target"] == "support"  # started after the edit
    refused = [line for line in lines if "config reload refused" in line]
    assert len(refused) == 1 and "config.yaml:" in refused[0]
    assert any("config reloaded" in line for line in lines)


def test_restart_adopts_calls_left_in_agi(tmp_path: Path, sounds: Path) -> None:
    """`serve` stopped mid-call: the next start finds the channel in AGI and drives it."""
    speed = 10.0

    async def main() -> tuple[Any, dict[str, Any]]:
        async with demo_env(tmp_path, base_config=BASE_CONFIG, speed=speed, sounds_dir=sounds) as env:
            g = prompt_seconds(env.config)["greeting"]
            call = env.sim.place_call(CallScript("r", caller_num="701", presses=(Press(g + 40, "2"),),
                                                 agent=Agent("SIP/agent1002", answer_after=1.0)))
            await asyncio.sleep((g + 3) / speed)
            await env.service.stop()  # the row stays active; the channel stays in AGI
            second = IvrService(load_config(env.config_path), render_prompts=False, time_scale=speed)
            await second.start()
            try:
                await asyncio.wait_for(asyncio.shield(call.done), 60)
                await wait_for(lambda: any(s.uniqueid == call.uniqueid for s in second.finished), 30)
                await asyncio.to_thread(second.store.flush)
            finally:
                await second.stop()
            return call, call_row(env.url, call.uniqueid)

    call, row = asyncio.run(main())
    assert row["status"] == "ended" and row["route_target"] == "aftersales"
    assert any(k == "adopted" and d["plan"] == "menu" for k, d in row["events"])
    assert call.commands.count("EXEC MixMonitor " + call.commands[1].split(" ", 2)[2]) == 1  # not restarted
    heard = prompts_heard(call)
    assert heard.count("greeting") == 1 and "retry" in heard  # no second greeting (issue 12)


def test_serve_logs_each_call_on_one_line(tmp_path: Path, sounds: Path) -> None:
    """`hotline serve` as users run it: a call in, one log line out, Ctrl-C ends it cleanly."""

    async def main() -> tuple[int, str, Any]:
        sim = AsteriskSimulator(sounds_dir=tmp_path / "sounds", monitor_dir=tmp_path / "monitor", speed=10.0)
        port = await sim.start()
        path = write_config(BASE_CONFIG, tmp_path, port=port)
        shutil.copytree(sounds, tmp_path / "sounds", dirs_exist_ok=True)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "cli.py"), "serve", "-c", str(path), "--no-transcribe", "--no-prompts",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
            env={**os.environ, "HOTLINE_AMI_SECRET": ""})
        try:
            assert await wait_for(lambda: bool(sim.sessions), 30)  # logged in
            g = prompt_seconds(load_config(path))["greeting"]
            call = sim.place_call(CallScript("s", caller_num="13912345678", presses=(Press(g + 1, "3"),),
                                             agent=Agent(answer_after=1.0)))
            await asyncio.wait_for(asyncio.shield(call.done), 60)
            await asyncio.sleep(1.0)
        finally:
            proc.send_signal(2)  # SIGINT
            _, err = await asyncio.wait_for(proc.communicate(), 30)
            await sim.stop()
        return proc.returncode or 0, err.decode(), call

    code, err, call = asyncio.run(main())
    assert code == 0, err
    lines = [line for line in err.splitlines() if f"call {call.uniqueid} " in line]
    assert len(lines) == 1, err
    assert "*******5678 -> 400" in lines[0] and "13912345678" not in err  # a log line shows no caller number
    assert "path [main:3]" in lines[0] and "route queue complaints" in lines[0]
    assert "agent SIP/agent1001" in lines[0] and "hung up by caller" in lines[0]
    assert "Traceback" not in err
