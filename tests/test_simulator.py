"""The Asterisk simulator over real TCP with the real frame parser: behaviours the IVR relies on.

(Trace-for-trace fidelity is tests/test_sim_vs_trace.py; these cover what the traces
imply but do not replay: MixMonitor WAV facts, many calls at once, link loss, restart,
missing prompts, GET DATA details, Originate, and the control surface.)
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from pbx.protocol import FrameParser, Message, agi_decode, encode_frame
from pbx.simulator import Agent, AsteriskSimulator, CallScript, Press, Say
from recordings.audio import probe_wav, read_pcm16, write_wav

T = TypeVar("T")
GREETING = 29525  # samples, as in the lab


def run(coro: Awaitable[T], timeout: float = 60.0) -> T:
    async def guarded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(guarded())


@pytest.fixture
def sounds(tmp_path: Path) -> Path:
    d = tmp_path / "sounds"
    d.mkdir()
    for i, (name, n) in enumerate({"greeting": GREETING, "menu": 11680, "goodbye": 6591}.items()):
        t = np.arange(n) / 8000
        write_wav(d / f"{name}.wav", (6000 * np.sin(2 * np.pi * (300 + 50 * i) * t)).astype(np.int16))
    return d


class Ami:
    """A bare AMI client: TCP, the project's FrameParser, every frame kept.

    Responses and AsyncAGIExec results resolve futures as they arrive, so hundreds of
    concurrent calls driven through one client cost no rescans of the frame list.
    """

    _ids = itertools.count(1)

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.parser = FrameParser()
        self.frames: list[Message] = []
        self.raw = bytearray()
        loop = asyncio.get_running_loop()
        self.eof = loop.create_future()
        self._responses: dict[str, asyncio.Future[Message]] = {}
        self._results: dict[str, asyncio.Future[Message]] = {}
        self.task = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, port: int, *, login: bool = True, **login_fields: str) -> Ami:
        ami = cls(*await asyncio.open_connection("127.0.0.1", port))
        if login:
            resp = await ami.action("Login", Username="hotline", Secret="hotline-secret", **login_fields)
            assert resp.get("Message") == "Authentication accepted"
        return ami

    def _future(self, table: dict[str, asyncio.Future[Message]], key: str) -> asyncio.Future[Message]:
        fut = table.get(key)
        if fut is None:
            fut = table[key] = asyncio.get_running_loop().create_future()
        return fut

    async def _read(self) -> None:
        try:
            while data := await self.reader.read(65536):
                self.raw += data
                for msg in self.parser.feed(data):
                    self.frames.append(msg)
                    if msg.kind == "response":
                        fut = self._future(self._responses, msg.get("ActionID") or "")
                    elif msg.event == "AsyncAGIExec":
                        fut = self._future(self._results, msg.get("CommandId") or "")
                    else:
                        continue
                    if not fut.done():
                        fut.set_result(msg)
        except ConnectionError:
            pass
        if not self.eof.done():
            self.eof.set_result(None)

    def send(self, action: str, **fields: str) -> str:
        aid = f"t-{next(self._ids)}"
        self.writer.write(encode_frame([("Action", action), ("ActionID", aid), *fields.items()]))
        return aid

    async def wait(self, pred: Callable[[Message], bool], timeout: float = 10.0) -> Message:
        deadline = time.monotonic() + timeout
        i = 0
        while True:
            while i < len(self.frames):
                if pred(self.frames[i]):
                    return self.frames[i]
                i += 1
            if time.monotonic() > deadline or self.eof.done():
                raise AssertionError("expected frame never arrived")
            await asyncio.sleep(0.002)

    async def action(self, action: str, **fields: str) -> Message:
        aid = self.send(action, **fields)
        return await asyncio.wait_for(asyncio.shield(self._future(self._responses, aid)), 10)

    async def agi(self, channel: str, command: str, timeout: float = 20.0) -> str:
        cid = f"c-{next(self._ids)}"
        resp = await self.action("AGI", Channel=channel, Command=command, CommandID=cid)
        assert resp.get("Message") == "Added AGI command to queue", resp
        msg = await asyncio.wait_for(asyncio.shield(self._future(self._results, cid)), timeout)
        return agi_decode(msg["Result"])

    def events(self, name: str, channel: str | None = None) -> list[Message]:
        return [m for m in self.frames if m.event == name and (channel is None or m.get("Channel") == channel)]

    def sequence(self, channel: str) -> list[str]:
        """The channel's events in order, without VarSets and the (movable) Cdr."""
        return [m.name for m in self.frames
                if m.kind == "event" and m.get("Channel") == channel and m.name not in ("VarSet", "Cdr")]  # fmt: skip

    async def close(self) -> None:
        self.task.cancel()
        self.writer.close()


async def started(call: Any) -> None:
    """Until the call's AsyncAGIStart has been sent (its AGI queue exists)."""
    while call.chan.agi_queue is None:
        await asyncio.sleep(0.001)


def sim_for(sounds: Path, tmp_path: Path, speed: float = 20.0) -> AsteriskSimulator:
    return AsteriskSimulator(sounds_dir=sounds, monitor_dir=tmp_path / "monitor", speed=speed)


# -- MixMonitor ------------------------------------------------------------------------------------------
def test_mixmonitor_writes_three_aligned_tracks(sounds: Path, tmp_path: Path) -> None:
    async def main() -> tuple[Any, Ami]:
        async with sim_for(sounds, tmp_path) as sim:
            ami = await Ami.connect(sim.port)
            call = sim.place_call(CallScript("mm", says=(Say(6.0, "你好，我想查询一下我的订单。"),), hangs_up_at=10.0,
                                             agent=None))  # fmt: skip
            await started(call)
            ch = call.channel
            assert await ami.agi(ch, "ANSWER") == "200 result=0\n"
            spool = "/var/spool/asterisk/monitor"
            mm = f"{spool}/mt.wav,r({spool}/mt-rx.wav)t({spool}/mt-tx.wav)"
            assert await ami.agi(ch, f"EXEC MixMonitor {mm}") == "200 result=0\n"
            assert await ami.agi(ch, 'STREAM FILE custom/greeting ""') == f"200 result=0 endpos={GREETING}\n"
            await ami.wait(lambda m: m.event == "Hangup" and m.get("Channel") == ch)
            # The files are complete when Hangup is sent.
            infos = [probe_wav(tmp_path / "monitor" / n) for n in ("mt.wav", "mt-rx.wav", "mt-tx.wav")]
            assert all(i.is_phone_format for i in infos)
            await call.done
            return call, ami

    call, ami = run(main())
    mon = tmp_path / "monitor"
    mix, rx, tx = (read_pcm16(mon / n) for n in ("mt.wav", "mt-rx.wav", "mt-tx.wav"))
    assert mix.size == rx.size == tx.size
    assert abs(mix.size / 8000 - 10.0) < 0.3  # from MixMonitor (just after answer) to the hangup, in call time
    assert np.array_equal(mix.astype(np.int32), np.clip(rx.astype(np.int32) + tx.astype(np.int32), -32768, 32767))
    # tx: the greeting from the start, then digital zero; rx: silent until the caller speaks at 6 s.
    greeting_len = GREETING / 8000
    assert np.abs(tx[: int(3.0 * 8000)]).mean() > 1000
    assert not tx[int((greeting_len + 0.5) * 8000) :].any()
    assert not rx[: int(5.5 * 8000)].any()
    assert np.abs(rx[int(6.2 * 8000) : int(7.5 * 8000)]).mean() > 300
    assert sorted(p.name for p in call.recordings) == ["mt-rx.wav", "mt-tx.wav", "mt.wav"]
    assert [name for _, name in call.heard] == ["custom/greeting"]
    # VarSet MIXMONITOR_FILENAME names the main file only; MixMonitorStart has no file field; no Stop event.
    names = [m.get("Value") for m in ami.events("VarSet") if m.get("Variable") == "MIXMONITOR_FILENAME"]
    assert names == ["/var/spool/asterisk/monitor/mt.wav"]
    assert not any("File" in k for k, _ in ami.events("MixMonitorStart")[0].fields)
    assert not ami.events("MixMonitorStop")


def test_agent_voice_and_ringback_are_on_the_transmit_track(sounds: Path, tmp_path: Path) -> None:
    async def main() -> Any:
        async with sim_for(sounds, tmp_path) as sim:
            ami = await Ami.connect(sim.port)
            script = CallScript("talk", says=(Say(3.0, "我的洗衣机坏了。"),),
                                agent=Agent(answer_after=2.0, says=(Say(0.5, "您好，这里是客服中心。"),)))  # fmt: skip
            call = sim.place_call(script)
            await started(call)
            ch = call.channel
            await ami.agi(ch, "EXEC MixMonitor call.wav,r(call-rx.wav)t(call-tx.wav)")
            assert await ami.agi(ch, "EXEC Dial SIP/agent1001,20") == "200 result=-1\n"
            await call.done
            assert call.hangup_by == "caller" and not call.agent_hung_up_first
            return call

    run(main())
    rx, tx = read_pcm16(tmp_path / "monitor" / "call-rx.wav"), read_pcm16(tmp_path / "monitor" / "call-tx.wav")
    assert rx.size == tx.size
    # Ringback (440+480 Hz) for the 2 s the agent's phone rang, then the agent's line at +0.5 s.
    ring = tx[int(0.3 * 8000) : int(1.8 * 8000)].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(ring))
    peaks = np.fft.rfftfreq(ring.size, 1 / 8000)[np.argsort(spectrum)[-2:]]
    assert sorted(round(p / 10) * 10 for p in peaks) == [440, 480]
    assert np.abs(tx[int(2.6 * 8000) : int(3.5 * 8000)]).mean() > 300  # the agent speaking
    assert not rx[: int(4.8 * 8000)].any()  # the caller speaks 3 s after the answer (at ~5 s)
    assert np.abs(rx[int(5.2 * 8000) : int(6.0 * 8000)]).mean() > 300
    # The caller hangs up 2 s after the last line ends: the recording ends there too.
    assert 6.5 < rx.size / 8000 < 12


# -- many calls at once --------------------------------------------------------------------------------------
def test_200_concurrent_scripted_calls_complete(sounds: Path, tmp_path: Path) -> None:
    n = 200

    async def drive(ami: Ami, call: Any, digit: str) -> str:
        await started(call)
        ch = call.channel
        assert await ami.agi(ch, "ANSWER") == "200 result=0\n"
        assert await ami.agi(ch, 'STREAM FILE custom/greeting ""') == f"200 result=0 endpos={GREETING}\n"
        got = await ami.agi(ch, "GET DATA custom/menu 20000 1")
        assert await ami.agi(ch, "HANGUP") == "200 result=1\n"
        await call.done
        return got

    async def main() -> tuple[list[str], list[Any], float]:
        # Speed 5: the client shares the loop with 200 calls, and every wall millisecond it
        # takes is 5 call milliseconds; the digit must land while GET DATA runs (at 10 a full
        # test run once let a key land before it).
        async with sim_for(sounds, tmp_path, speed=5) as sim:
            ami = await Ami.connect(sim.port)
            t0 = time.monotonic()
            calls = [sim.place_call(CallScript(f"c{i}", caller_num=f"555{i:07d}", presses=(Press(10.0, str(i % 10)),),
                                               agent=None)) for i in range(n)]  # fmt: skip
            results = await asyncio.gather(*(drive(ami, c, str(i % 10)) for i, c in enumerate(calls)))
            elapsed = time.monotonic() - t0
            assert not sim.channels and not sim.live_calls
            hangups = ami.events("Hangup")
            assert len(hangups) == n and {m["Channel"] for m in hangups} == {c.channel for c in calls}
            return results, calls, elapsed

    results, calls, elapsed = run(main(), timeout=120)
    assert results == [f"200 result={i % 10}\n" for i in range(n)]
    assert len({c.channel for c in calls}) == n and len({c.uniqueid for c in calls}) == n
    assert all(c.hangup_by == "asterisk" for c in calls)
    assert elapsed < 30, f"{n} calls took {elapsed:.1f}s"


# -- digits ----------------------------------------------------------------------------------------------------
def test_get_data_digits_terminator_and_partial_timeout(sounds: Path, tmp_path: Path) -> None:
    async def main() -> tuple[list[str], Ami, Any]:
        async with sim_for(sounds, tmp_path, speed=10) as sim:
            ami = await Ami.connect(sim.port)
            presses = (Press(0.5, "1"), Press(0.9, "2"), Press(1.3, "#"),  # into GET DATA 1: "12" then #
                       Press(3.0, "7"),  # pressed while nothing runs: dropped by the AGI, events still sent
                       Press(5.0, "4"), Press(5.4, "5"))  # fmt: skip
            call = sim.place_call(CallScript("d", presses=presses, hangs_up_at=12.0, agent=None))
            await started(call)
            ch = call.channel
            out = [await ami.agi(ch, "GET DATA custom/nothing-here 3000 5")]  # missing prompt: result=-1, AGI goes on
            out.append(await ami.agi(ch, 'GET DATA "" 3000 5'))  # empty prompt argument: just collects
            await asyncio.sleep(2.5 / sim.speed)
            out.append(await ami.agi(ch, 'GET DATA "" 2000 5'))  # 4, 5, then 2 s of silence
            out.append(await ami.agi(ch, "WAIT FOR DIGIT 500"))
            await call.done
            return out, ami, call

    out, ami, _ = run(main())
    assert out == ["200 result=-1\n", "200 result=12\n", "200 result=45 (timeout)\n", "200 result=0\n"]
    assert [m["Digit"] for m in ami.events("DTMFEnd")] == ["1", "2", "#", "7", "4", "5"]
    assert all(m["DurationMs"] == "200" and m["Direction"] == "Received" for m in ami.events("DTMFEnd"))


def test_escape_digit_stops_prompt_with_ascii_code_and_endpos(sounds: Path, tmp_path: Path) -> None:
    async def main() -> list[str]:
        async with sim_for(sounds, tmp_path, speed=10) as sim:
            ami = await Ami.connect(sim.port)
            call = sim.place_call(CallScript("e", presses=(Press(1.0, "5"), Press(5.0, "*")), agent=None))
            await started(call)
            ch = call.channel
            out = [await ami.agi(ch, 'STREAM FILE custom/greeting "#"')]  # 5 is no escape digit: plays on
            out.append(await ami.agi(ch, 'STREAM FILE custom/greeting "0123456789*#"'))
            out.append(await ami.agi(ch, "HANGUP"))
            await call.done
            return out

    first, second, hangup = run(main())
    assert first == f"200 result=0 endpos={GREETING}\n"
    code, endpos = second.split()[1:]
    assert code == "result=42"  # ord("*")
    assert 0 < int(endpos.split("=")[1]) < GREETING
    assert hangup == "200 result=1\n"


# -- failures and the end of a call ----------------------------------------------------------------------------
def test_missing_prompt_ends_async_agi_like_asterisk(sounds: Path, tmp_path: Path) -> None:
    async def main() -> tuple[Ami, Any, Message]:
        async with sim_for(sounds, tmp_path) as sim:
            ami = await Ami.connect(sim.port)
            call = sim.place_call(CallScript("m", agent=None))
            await started(call)
            result = await ami.agi(call.channel, 'STREAM FILE custom/no-such-prompt ""')
            assert result == "200 result=-1 endpos=0\n"
            await call.done
            late = await ami.action("AGI", Channel=call.channel, Command="ANSWER", CommandID="late")
            return ami, call, late

    ami, call, late = run(main())
    end = ami.events("AGIExecEnd")[-1]
    assert (end["ResultCode"], end["Result"]) == ("-1", "Failure")
    seq = ami.sequence(call.channel)
    assert seq[seq.index("AsyncAGIExec") :] == ["AsyncAGIExec", "AsyncAGIEnd", "Newexten", "SoftHangupRequest",
                                                  "Hangup"]  # fmt: skip
    assert [m["Value"] for m in ami.events("VarSet") if m["Variable"] == "AGISTATUS"] == ["FAILURE"]
    assert ami.events("Newexten")[-1]["Application"] == "Hangup"
    assert ami.events("Hangup")[-1]["Cause"] == "16"
    assert (late.name, late["Message"]) == ("Error", f"Channel {call.channel} does not exist.")


def test_dial_agent_hangs_up_first_caller_stays_in_agi(sounds: Path, tmp_path: Path) -> None:
    async def main() -> tuple[Ami, Any, list[str]]:
        async with sim_for(sounds, tmp_path) as sim:
            ami = await Ami.connect(sim.port)
            call = sim.place_call(CallScript("a", agent=Agent(answer_after=1.0, hangs_up_after=3.0)))
            await started(call)
            ch = call.channel
            out = [await ami.agi(ch, "EXEC Dial SIP/agent1001,20")]
            out.append(await ami.agi(ch, "GET VARIABLE DIALSTATUS"))
            out.append(await ami.agi(ch, 'STREAM FILE custom/goodbye ""'))
            out.append(await ami.agi(ch, "HANGUP"))
            await call.done
            return ami, call, out

    ami, call, out = run(main())
    assert out == ["200 result=-1\n", "200 result=1 (ANSWER)\n", "200 result=0 endpos=6591\n", "200 result=1\n"]
    assert call.agent_hung_up_first and call.hangup_by == "asterisk"
    agent = call.agent_channel
    first = next(m for m in ami.frames if m.event == "HangupRequest")
    assert first["Channel"] == agent and first["Cause"] == "16"
    assert len(ami.events("AsyncAGIEnd")) == 1  # only at the very end
    assert ami.events("Hangup", ch := call.channel)[0]["Cause"] == "16"  # the caller had been bridged
    assert ami.events("Newchannel", agent)[0]["Linkedid"] == ami.events("Newchannel", ch)[0]["Uniqueid"]


def test_dial_no_answer_and_unregistered_peer(sounds: Path, tmp_path: Path) -> None:
    async def main() -> list[str]:
        async with sim_for(sounds, tmp_path) as sim:
            ami = await Ami.connect(sim.port)
            call = sim.place_call(CallScript("n", agent=Agent(answer_after=None)))
            await started(call)
            out = [await ami.agi(call.channel, "EXEC Dial SIP/agent1002,5"),
                   await ami.agi(call.channel, "GET VARIABLE DIALSTATUS")]  # fmt: skip
            assert ami.events("DialEnd")[-1]["DialStatus"] == "NOANSWER"
            lone = sim.place_call(CallScript("u", agent=None))
            await started(lone)
            out += [await ami.agi(lone.channel, "EXEC Dial SIP/agent1001,20"),
                    await ami.agi(lone.channel, "GET VARIABLE DIALSTATUS")]  # fmt: skip
            assert len(ami.events("DialBegin")) == 1
            return out

    assert run(main()) == ["200 result=0\n", "200 result=1 (NOANSWER)\n", "200 result=0\n",
                           "200 result=1 (CHANUNAVAIL)\n"]  # fmt: skip


def test_queue_caller_gives_up_while_agent_rings(sounds: Path, tmp_path: Path) -> None:
    async def main() -> tuple[Ami, Any, str]:
        async with sim_for(sounds, tmp_path) as sim:
            ami = await Ami.connect(sim.port)
            call = sim.place_call(CallScript("q", hangs_up_at=5.0, agent=Agent(answer_after=None)))
            await started(call)
            result = await ami.agi(call.channel, "EXEC Queue support")
            await call.done
            return ami, call, result

    ami, call, result = run(main())
    assert result == "200 result=-1\n"
    assert ami.events("QueueCallerAbandon")[0]["Queue"] == "support"
    # As the real Asterisk 20 sends them (tests/pbx/test_pbx_stream.py): the member's leg ends
    # with two DialEnd CANCEL, and QueueCallerLeave follows QueueCallerAbandon.
    ends = [(m.event, m.get("DialStatus")) for m in ami.frames
            if m.event in ("DialEnd", "QueueCallerAbandon", "QueueCallerLeave")]
    assert ends == [("DialEnd", "CANCEL"), ("DialEnd", "CANCEL"), ("QueueCallerAbandon", None),
                    ("QueueCallerLeave", None)]  # fmt: skip
    assert not ami.events("AgentConnect") and call.hangup_by == "caller"


def test_dial_reaches_the_scripted_agent_of_its_interface(sounds: Path, tmp_path: Path) -> None:
    """``CallScript.others``: a Dial to agent1002 rings out unanswered, then the queue's member answers."""
    async def main() -> tuple[Ami, list[str]]:
        async with sim_for(sounds, tmp_path) as sim:
            ami = await Ami.connect(sim.port)
            script = CallScript("o", hangs_up_at=60.0, agent=Agent("SIP/agent1001", answer_after=2.0),
                                others=(Agent("SIP/agent1002", answer_after=None),))
            call = sim.place_call(script)
            await started(call)
            out = [await ami.agi(call.channel, "EXEC Dial SIP/agent1002,5"),
                   await ami.agi(call.channel, "GET VARIABLE DIALSTATUS"),
                   await ami.agi(call.channel, "EXEC Queue support")]  # fmt: skip
            await call.done
            return ami, out

    ami, out = run(main())
    assert out[:2] == ["200 result=0\n", "200 result=1 (NOANSWER)\n"]
    assert [(m["DestChannel"].rsplit("-", 1)[0], m["DialStatus"]) for m in ami.events("DialEnd")] == [
        ("SIP/agent1002", "NOANSWER"), ("SIP/agent1001", "ANSWER")]
    with pytest.raises(ValueError, match=r"CallScript\.others"):
        CallScript("x", agent=None, others=(Agent("SIP/agent1002"),))


def test_queue_timeout_when_no_agent_answers(sounds: Path, tmp_path: Path) -> None:
    async def main() -> tuple[Ami, list[str]]:
        async with sim_for(sounds, tmp_path) as sim:
            ami = await Ami.connect(sim.port)
            call = sim.place_call(CallScript("qt", agent=Agent(answer_after=None)))
            await started(call)
            out = [await ami.agi(call.channel, "EXEC Queue support,,,,25"),
                   await ami.agi(call.channel, "GET VARIABLE QUEUESTATUS"),
                   await ami.agi(call.channel, "HANGUP")]  # fmt: skip
            await call.done
            return ami, out

    ami, out = run(main())
    assert out == ["200 result=0\n", "200 result=1 (TIMEOUT)\n", "200 result=1\n"]
    # Rung 15 s, 5 s pause, rung again until the queue's own 25 s ran out.
    assert [m["DialStatus"] for m in ami.events("DialEnd")] == ["NOANSWER", "CANCEL"]
    assert len(ami.events("AgentCalled")) == 2 and ami.events("AgentRingNoAnswer")[0]["RingTime"] == "15"
    assert [m.name for m in ami.frames if m.name in ("QueueCallerJoin", "QueueCallerLeave")] == [
        "QueueCallerJoin", "QueueCallerLeave"]  # fmt: skip


def test_bad_frames_are_skipped_and_the_session_goes_on(sounds: Path, tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    async def main() -> Message:
        async with sim_for(sounds, tmp_path) as sim:
            ami = await Ami.connect(sim.port)
            ami.writer.write(b"this is not AMI\r\n\r\nResponse: Success\r\n\r\n")
            missing = await ami.wait(lambda m: m.get("Message") == "Missing action in request")
            assert missing.name == "Error"
            return await ami.action("Ping")

    assert run(main())["Ping"] == "Pong"
    assert "bad frame" in caplog.text


# -- the AMI link ----------------------------------------------------------------------------------------------
def test_link_drop_then_reconnect_finds_the_call(sounds: Path, tmp_path: Path) -> None:
    async def main() -> None:
        async with sim_for(sounds, tmp_path) as sim:
            ami = await Ami.connect(sim.port)
            call = sim.place_call(CallScript("l", agent=None))
            await started(call)
            await ami.agi(call.channel, "ANSWER")
            sim.drop_connections()
            await asyncio.wait_for(asyncio.shield(ami.eof), 5)
            again = await Ami.connect(sim.port)
            listed = await again.action("CoreShowChannels")
            assert listed["EventList"] == "start"
            done = await again.wait(lambda m: m.event == "CoreShowChannelsComplete")
            items = again.events("CoreShowChannel")
            assert done["ListItems"] == "1" and items[0]["Channel"] == call.channel
            assert (items[0]["Application"], items[0]["ApplicationData"]) == ("AGI", "agi:async")
            assert await again.agi(call.channel, "HANGUP") == "200 result=1\n"
            await call.done
            assert call.commands == ["ANSWER", "HANGUP"]

    run(main())


def test_shutdown_sends_what_core_stop_now_sends_and_restarts(sounds: Path, tmp_path: Path) -> None:
    async def main() -> tuple[Ami, str]:
        sim = sim_for(sounds, tmp_path)
        port = await sim.start()
        ami = await Ami.connect(port)
        call = sim.place_call(CallScript("s", agent=None))
        await started(call)
        await ami.agi(call.channel, "ANSWER")
        await sim.shutdown()
        await asyncio.wait_for(asyncio.shield(ami.eof), 5)
        assert call.hangup_by == "shutdown"
        # Restarted on the same port: channel numbers start from 0 again.
        assert await sim.start() == port
        again = await Ami.connect(port)
        second = sim.place_call(CallScript("s2", agent=None))
        await sim.stop()
        await again.close()
        return ami, second.channel

    ami, second = run(main())
    names = [m.name for m in ami.frames if m.kind == "event" and m.name in
             ("Cdr", "SoftHangupRequest", "AsyncAGIEnd", "Hangup", "Shutdown")]  # fmt: skip
    assert names == ["Cdr", "SoftHangupRequest", "AsyncAGIEnd", "SoftHangupRequest", "Hangup", "Shutdown"]
    soft = [m["Cause"] for m in ami.events("SoftHangupRequest")]
    assert soft == ["4", "16"] and ami.events("Hangup")[0]["Cause"] == "0"
    shutdown = ami.events("Shutdown")[0]
    assert shutdown.fields[1:] == (("Privilege", "system,all"), ("Shutdown", "Cleanly"), ("Restart", "False"))
    assert second.endswith("-00000000")


def test_kill_is_plain_eof(sounds: Path, tmp_path: Path) -> None:
    async def main() -> tuple[int, bytes, Any]:
        sim = sim_for(sounds, tmp_path)
        await sim.start()
        ami = await Ami.connect(sim.port)
        call = sim.place_call(CallScript("k", agent=None))
        await ami.wait(lambda m: m.event == "AsyncAGIStart")
        await asyncio.sleep(0.05)
        before = len(ami.raw)
        sim.kill()
        await asyncio.wait_for(asyncio.shield(ami.eof), 5)
        await call.done
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", sim.port)
        await sim.stop()
        return before, bytes(ami.raw[before:]), call

    _, after, call = run(main())
    assert after == b"" and call.hangup_by == "killed"


def test_login_rules(sounds: Path, tmp_path: Path) -> None:
    async def main() -> None:
        async with sim_for(sounds, tmp_path, speed=5) as sim:
            anon = await Ami.connect(sim.port, login=False)
            denied = await anon.action("CoreShowChannels")
            assert (denied.name, denied["Message"]) == ("Error", "Permission denied")
            t0 = time.monotonic()
            bad = await anon.action("Login", Username="hotline", Secret="wrong-secret")
            waited = time.monotonic() - t0
            assert (bad.name, bad["Message"]) == ("Error", "Authentication failed")
            assert waited >= 0.9 / sim.speed
            await asyncio.wait_for(asyncio.shield(anon.eof), 5)

            ami = await Ami.connect(sim.port)
            assert [m.name for m in ami.frames[:3]] == ["Success", "FullyBooted", "SuccessfulAuth"]
            unknown = await ami.action("NoSuchAction")
            assert unknown["Message"] == ("Invalid/unknown command: NoSuchAction. "
                                          "Use Action: ListCommands to show available commands.")  # fmt: skip
            ping = await ami.action("Ping")
            assert [k for k, _ in ping.fields] == ["Response", "ActionID", "Ping", "Timestamp"]
            off = await ami.action("Events", EventMask="off")
            assert off["Events"] == "Off"
            n = len(ami.frames)
            call = sim.place_call(CallScript("quiet", hangs_up_at=0.5, agent=None))
            await call.done
            await asyncio.sleep(0.05)
            assert len(ami.frames) == n  # no events with the mask off
            bye = await ami.action("Logoff")
            assert (bye.name, bye["Message"]) == ("Goodbye", "Thanks for all the fish.")
            await asyncio.wait_for(asyncio.shield(ami.eof), 5)

    run(main())


def test_variables_hangup_action_and_status(sounds: Path, tmp_path: Path) -> None:
    async def main() -> None:
        async with sim_for(sounds, tmp_path) as sim:
            ami = await Ami.connect(sim.port)
            call = sim.place_call(CallScript("v", caller_name="张三", agent=None))
            await started(call)
            ch = call.channel
            setvar = await ami.action("Setvar", Channel=ch, Variable="ROUTE", Value="sales")
            assert setvar["Message"] == "Variable Set"
            got = await ami.action("Getvar", Channel=ch, Variable="ROUTE")
            assert [(k, v) for k, v in got.fields[2:]] == [("Variable", "ROUTE"), ("Value", "sales")]
            assert await ami.agi(ch, "GET VARIABLE ROUTE") == "200 result=1 (sales)\n"
            assert await ami.agi(ch, "GET VARIABLE CALLERID(name)") == "200 result=1 (张三)\n"
            assert await ami.agi(ch, "GET VARIABLE NOT_SET") == "200 result=0\n"
            assert await ami.agi(ch, "FOO BAR") == "510 Invalid or unknown command\n"
            status = await ami.action("Status", Channel=ch)
            assert status["Message"] == "Channel status will follow"
            item = await ami.wait(lambda m: m.event == "Status")
            assert item.fields[-1] == ("ActionID", status["ActionID"]) and item["Privilege"] == "Call"
            missing = await ami.action("Status", Channel="SIP/nobody-00000099")
            assert missing["Message"] == "No such channel"
            hung = await ami.action("Hangup", Channel=ch, Cause="21")
            assert hung["Message"] == "Channel Hungup"
            await call.done
            assert ami.events("SoftHangupRequest", ch)[0]["Cause"] == "32"
            assert (ami.events("Hangup", ch)[0]["Cause"], ami.events("Hangup", ch)[0]["Cause-txt"]) == (
                "21", "Call Rejected")  # fmt: skip

    run(main())


def test_originate_into_the_hotline(sounds: Path, tmp_path: Path) -> None:
    async def main() -> None:
        async with sim_for(sounds, tmp_path) as sim:
            sim.register_script(CallScript("walker", presses=(Press(1.0, "3"),), agent=None))
            ami = await Ami.connect(sim.port)
            resp = await ami.action("Originate", Channel="SIP/caller", Context="hotline", Exten="400", Priority="1",
                                    CallerID='"Menu Walk" <5550000001>', Variable="SIM_SCRIPT=walker",
                                    Async="true")  # fmt: skip
            assert resp["Message"] == "Originate successfully queued"
            orig = await ami.wait(lambda m: m.event == "OriginateResponse")
            assert (orig["Response"], orig["Reason"], orig["ActionID"]) == ("Success", "4", resp["ActionID"])
            start = await ami.wait(lambda m: m.event == "AsyncAGIStart")
            ch = start["Channel"]
            assert ch == orig["Channel"] and ch.startswith("SIP/caller-")
            assert start["CallerIDName"] == "Menu Walk"
            assert await ami.agi(ch, "GET DATA custom/menu 3000 1") == "200 result=3\n"
            await ami.agi(ch, "HANGUP")
            await sim.calls[-1].done

    run(main())


def test_script_validation() -> None:
    with pytest.raises(ValueError, match=r"Press\.digit"):
        Press(1.0, "x")
    with pytest.raises(ValueError, match="time must be"):
        Say(-1.0, "你好")
    with pytest.raises(ValueError, match="TECH/peer"):
        Agent(interface="agent1001")
    script = CallScript("s", presses=[Press(2.0, "2"), Press(1.0, "1")])  # type: ignore[arg-type]
    assert [p.digit for p in script.presses] == ["1", "2"] and isinstance(script.presses, tuple)


# -- what a channel shows: Application, and whether it takes AGI commands -------------------------------------
def test_application_is_the_last_one_started_and_the_agi_action_tells_who_is_in_async_agi(
    sounds: Path, tmp_path: Path
) -> None:
    """CoreShowChannel shows the channel's last published snapshot: after ``EXEC Dial`` returned, still Dial;
    Status shows what runs now, AGI. The AGI action queues a command only on a channel that ran
    AGI(agi:async) (res_agi.c action_add_agi_cmd); a NOOP queued behind a running Dial runs when Dial ends."""

    async def main() -> dict[str, Any]:
        async with sim_for(sounds, tmp_path) as sim:
            ami = await Ami.connect(sim.port)
            call = sim.place_call(CallScript("p", agent=Agent("SIP/agent1001", answer_after=1.0, hangs_up_after=600)))
            await started(call)
            assert await ami.agi(call.channel, "ANSWER") == "200 result=0\n"

            async def listed() -> dict[str, tuple[str, str]]:
                aid = ami.send("CoreShowChannels")
                await ami.wait(lambda m: m.event == "CoreShowChannelsComplete" and m.get("ActionID") == aid)
                return {m["Channel"]: (m["Application"], m["ApplicationData"]) for m in ami.frames
                        if m.event == "CoreShowChannel" and m.get("ActionID") == aid}  # fmt: skip

            async def status() -> tuple[str, str]:
                aid = ami.send("Status", Channel=call.channel)
                item = await ami.wait(lambda m: m.event == "Status" and m.get("ActionID") == aid)
                return item["Application"], item["Data"]

            out: dict[str, Any] = {"before": (await listed())[call.channel], "status_before": await status()}
            ami.send("AGI", Channel=call.channel, Command="EXEC Dial SIP/agent1001,20", CommandID="dial")
            await ami.wait(lambda m: m.event == "BridgeEnter" and m.get("Channel") == call.channel)
            out["during"] = await listed()
            out["status_during"] = await status()
            out["queued"] = await ami.action("AGI", Channel=call.channel, Command="NOOP", CommandID="noop")
            agent = call.agent_channel or ""
            out["agent"] = agent
            out["agent_probe"] = await ami.action("AGI", Channel=agent, Command="NOOP", CommandID="noop-agent")
            out["gone"] = await ami.action("AGI", Channel="SIP/nobody-000000ff", Command="NOOP")
            assert (await ami.action("Hangup", Channel=agent))["Message"] == "Channel Hungup"
            noop = await ami.wait(lambda m: m.event == "AsyncAGIExec" and m.get("CommandId") == "noop")
            dial = await ami.wait(lambda m: m.event == "AsyncAGIExec" and m.get("CommandId") == "dial")
            out["order"] = ami.frames.index(dial) < ami.frames.index(noop)
            out["noop"] = agi_decode(noop["Result"])
            out["after"] = (await listed())[call.channel]
            out["status_after"] = await status()
            assert await ami.agi(call.channel, "HANGUP") == "200 result=1\n"
            await call.done
            return out

    out = run(main())
    assert out["before"] == out["status_before"] == ("AGI", "agi:async")
    assert out["during"][out["agent"]] == ("AppDial", "(Outgoing Line)")
    assert out["during"][next(c for c in out["during"] if "/caller-" in c)] == ("Dial", "SIP/agent1001,20")
    assert out["status_during"] == ("Dial", "SIP/agent1001,20")
    # Dial has returned and the caller is back in Async AGI: the snapshot still names Dial, Status says AGI.
    assert out["after"] == ("Dial", "SIP/agent1001,20") and out["status_after"] == ("AGI", "agi:async")
    # In Async AGI (busy with Dial): queued; it ran once Dial returned, after Dial's own result.
    assert (out["queued"].name, out["queued"]["Message"]) == ("Success", "Added AGI command to queue")
    assert out["order"] and out["noop"] == "200 result=0\n"
    # Never in Async AGI (the agent leg) and gone: Asterisk's own texts.
    probe = out["agent_probe"]
    assert (probe.name, probe["Message"]) == ("Error", f"Failed to add AGI command to channel {out['agent']} queue")
    assert (out["gone"].name, out["gone"]["Message"]) == ("Error", "Channel SIP/nobody-000000ff does not exist.")


# -- the package itself ----------------------------------------------------------------------------------------
def test_simulator_imports_run_one_way() -> None:
    """No import inside a function to dodge a cycle: every runtime import of a simulator module sits at its
    top (type-only ones under TYPE_CHECKING), and the modules import each other without a cycle."""
    import ast

    package = Path(__file__).resolve().parent.parent / "pbx" / "simulator"
    graph: dict[str, set[str]] = {}
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nested = [f"{path.name}:{node.lineno}" for fn in ast.walk(tree)
                  if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
                  for node in ast.walk(fn) if isinstance(node, ast.Import | ast.ImportFrom)]  # fmt: skip
        assert nested == [], f"imports inside functions: {nested}"
        deps = graph.setdefault(path.stem, set())
        for node in tree.body:  # module level only: an `if TYPE_CHECKING:` block is not an import node
            if isinstance(node, ast.ImportFrom) and node.module == "pbx.simulator":
                deps.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pbx.simulator."):
                deps.add((node.module or "").split(".")[2])
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module not in done:
            for dep in graph.get(module, ()):
                visit(dep, (*path, module))
            done.add(module)

    for module in graph:
        visit(module, ())
