"""The same calls on the real Asterisk and on the simulator, each side with its own ``hotline serve``.

Each call is described once (``TwinCall``): it becomes a SIPp caller and the SIPp agents'
answers on the real PBX, and a ``CallScript`` on the simulator. The simulator runs (at speed 2)
on its own asyncio loop in a thread of the test process, with its own ``hotline serve``, AMI
tap, database and recordings, while the real calls run.
Every frame each PBX sent is in that side's tap log; ``Side.frames`` gives one call's.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pbx_batch import AGENT_SECRETS, Lab, _register
from pbx_hotline import Hotline, Serve, write_config
from pbx_lab import AMI_SECRET, AmiTap
from pbx_sipp import Agent, Answer, Caller, agent_scenario, caller_scenario, start_sipp

from pbx.simulator import Agent as SimAgent
from pbx.simulator import AsteriskSimulator, CallScript, Press

AGENTS = ("agent1001", "agent1002")  # the lab's registered peers (sip.conf)


@dataclass(frozen=True)
class TwinCall:
    """One call, as both sides play it. Times are seconds from the caller's answer."""

    name: str
    number: str  # caller ID: the last four digits find the call in serve's log
    presses: tuple[tuple[str, float], ...] = ()
    bye_at: float | None = None  # the caller hangs up then; None: waits for the PBX's BYE
    start_s: float = 0.0  # real side only: when SIPp places it (the simulator's calls never meet)
    # agent -> (ring seconds before answering or None: never, seconds until it hangs up or None:
    # waits for BYE). An agent who does not answer rings until cancelled (or the Dial times
    # out); the one listed is the simulator's agent (its queue member and default Dial peer).
    answers: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)

    def caller(self) -> Caller:
        return Caller(self.number, dtmf=self.presses, bye_at=self.bye_at, start_s=self.start_s, wait_max_s=45.0)

    def script(self) -> CallScript:
        """The simulator's script: the listed agent is its queue member and default Dial peer; the
        other peers a Dial may reach ring unanswered, as the SIPp agents do for this caller."""
        assert len(self.answers) <= 1, f"{self.name}: the simulator has one agent per call"
        agent = others = None
        for name, (ring, bye) in self.answers.items():
            agent = SimAgent(f"SIP/{name}", answer_after=ring, hangs_up_after=bye)
            others = tuple(SimAgent(f"SIP/{a}", answer_after=None) for a in AGENTS if a != name)
        return CallScript(self.name, caller_num=self.number, presses=tuple(Press(at, d) for d, at in self.presses),
                          hangs_up_at=self.bye_at, agent=agent, others=others or ())


@dataclass
class Side:
    """One PBX (real or simulated) with the ``hotline serve`` driving it and its AMI tap."""

    name: str
    serve: Serve
    tap: AmiTap

    def frames(self, number: str) -> list[dict[str, str]]:
        """Every frame of the call from ``number`` (its channels and the legs linked to it)."""
        uniqueid = self.serve.ended().get(number[-4:])
        assert uniqueid, f"{self.name}: serve never logged the end of the call from {number}"
        return self.tap.events_for(uniqueid)

    def wait_ended(self, numbers: list[str], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while {n[-4:] for n in numbers} - set(self.serve.ended()) and time.monotonic() < deadline:
            time.sleep(0.5)


def run_real(lab: Lab, serve: Serve, calls: list[TwinCall], folder: Path, mkpcap: Path) -> dict[str, int]:
    """Register the agents, place every call at once on the real PBX; the SIPp exit statuses."""
    folder.mkdir(parents=True, exist_ok=True)
    ports = lab.asterisk.ports
    sip = f"127.0.0.1:{ports.sip}"
    agents = [Agent("agent1001", AGENT_SECRETS["agent1001"], ports.agent1001, ports.media + 4),
              Agent("agent1002", AGENT_SECRETS["agent1002"], ports.agent1002, ports.media + 8)]
    for call in calls:
        for a in agents:
            ring, bye = call.answers.get(a.name, (None, None))
            if ring is not None:
                a.answers[call.number] = Answer(ring, bye_after_s=bye)
    _register(agents, folder, sip)
    scenario, inf = caller_scenario([c.caller() for c in calls], folder, mkpcap)
    procs = [start_sipp(a.name, agent_scenario(a, folder, mkpcap), folder, port=a.port, media_port=a.media_port,
                        remote=sip) for a in agents]
    n = str(len(calls))
    try:
        callers = start_sipp("callers", scenario, folder, port=ports.caller, media_port=ports.media, remote=sip,
                             extra=["-inf", str(inf), "-m", n, "-l", n, "-r", "50", "-rp", "1000",
                                    "-timeout", "120s", "-timeout_error"])
        procs.append(callers)
        status = {"callers": callers.finish(150)}
        status |= {a.name: p.finish(30, stop=True) for a, p in zip(agents, procs, strict=False)}
    finally:
        for proc in procs:
            proc.kill()
    Side("real", serve, lab.tap).wait_ended([c.number for c in calls])
    return status


class SimSide:
    """The simulator on its own loop in a thread, with its own ``hotline serve`` and AMI tap."""

    def __init__(self, shipped: Path, folder: Path, sounds: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        recordings = folder / "recordings"
        recordings.mkdir()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="simulator", daemon=True)
        self._thread.start()
        # The lab's dialplan: AGI(agi:async) without Answer(), the service answers.
        # At twice the speed: its calls, placed once its serve is up (~10-17 s on a busy machine), end
        # with the real ones; the events and their order do not depend on the speed.
        self.sim = AsteriskSimulator(sounds_dir=sounds, monitor_dir=recordings, answer_first=False, speed=2.0)
        port = self._run(self.sim.start())
        cfg = write_config(shipped, folder / "config.yaml", ami_port=port, sounds=sounds, recordings=recordings,
                           database=folder / "hotline.db")
        self.tap = AmiTap(port, folder / "ami.log")
        self.serve = Serve(Hotline(cfg, AMI_SECRET), folder / "serve.log")
        self.side = Side("simulator", self.serve, self.tap)

    def _run(self, coro: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def place(self, calls: list[TwinCall]) -> Future[None]:
        """Start every call; the future is done when all have ended."""
        async def run() -> None:
            placed = [self.sim.place_call(c.script()) for c in calls]
            await asyncio.gather(*(p.done for p in placed))

        return asyncio.run_coroutine_threadsafe(run(), self.loop)

    def close(self) -> int:
        rc = self.serve.stop()
        self.tap.close()
        self._run(self.sim.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        return rc
