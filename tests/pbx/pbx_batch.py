"""Running the batch: agents register and answer, every planned call is placed at once.

The result keeps, by scenario name and by caller number, what ``hotline calls`` recorded,
plus each SIPp process's exit status and error logs, and can explain a failing test
with the call's record, its AMI events (from the session's AMI tap) and serve's log.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pbx_hotline import Hotline, Serve, by_number
from pbx_lab import AmiTap, Asterisk
from pbx_media import Speech, make_speech
from pbx_plan import AGENT_SAYS, CALLER_SAYS, LOAD_SAYS, Planned, load_calls, scenarios
from pbx_sipp import Agent, Caller, Sipp, agent_scenario, caller_scenario, register_scenario, start_sipp

PHASES: dict[str, float] = {}  # wall seconds per set-up phase, printed at the end of the session
AGENT_SECRETS = {"agent1001": "agent1001-secret", "agent1002": "agent1002-secret"}  # sip.conf of the lab
AMI_KEEP = ("AsyncAGIStart", "AsyncAGIExec", "AsyncAGIEnd", "DTMFEnd", "DialBegin", "DialEnd", "QueueCallerJoin",
            "QueueCallerLeave", "AgentCalled", "AgentConnect", "AgentComplete", "HangupRequest", "SoftHangupRequest",
            "Hangup", "MixMonitorStart")
AMI_FIELDS = ("t", "Event", "Channel", "DestChannel", "CommandId", "Result", "Digit", "DialStatus", "Reason", "Cause",
              "Interface", "RingTime")


@dataclass
class Lab:
    asterisk: Asterisk
    tap: AmiTap
    folder: Path
    recordings: Path


@dataclass
class Service:
    hotline: Hotline
    serve: Serve
    sounds: Path  # the rendered prompts (Asterisk's SOUNDS_CUSTOM)


@dataclass
class Batch:
    """Everything the calls left behind, by scenario name (``pbx_plan``) and caller number."""

    lab: Lab
    service: Service
    plans: dict[str, Planned]
    load: dict[str, tuple[Caller, str]]  # caller number -> (script, expected menu path)
    say: dict[str, Speech]  # the phrases sent, by speaker
    calls: list[dict[str, Any]] = field(default_factory=list)  # `calls list --json` after the batch
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # caller number -> its row there
    details: dict[str, dict[str, Any]] = field(default_factory=dict)  # scenario name -> `calls show` JSON
    sipp: dict[str, tuple[int, str]] = field(default_factory=dict)  # SIPp process -> (exit status, error logs)
    seconds: float = 0.0  # how long the callers' SIPp ran
    unlogged: set[str] = field(default_factory=set)  # caller numbers whose end serve never logged
    log: str = ""  # serve's log right after the batch (later modules place calls through the same serve)
    unread: dict[str, str] = field(default_factory=dict)  # scenario name -> why `calls show` failed

    def detail(self, name: str) -> dict[str, Any]:
        d = self.details.get(name)
        why = self.unread.get(name) or "serve never logged its end"
        assert d is not None, f"no record of the call from {self.plans[name].caller.number} ({name}): {why}\n" + (
            self.context())
        return d

    def context(self, name: str | None = None) -> str:
        """What to read when a test fails: the call's record, its AMI events, serve's log, SIPp errors."""
        out = []
        if name is not None and name in self.details:
            d = self.details[name]
            out.append("calls show --json:\n" + json.dumps(d, ensure_ascii=False, indent=1, default=str)[:6000])
            lines = [" ".join(f"{k}={e[k]}" for k in AMI_FIELDS if k in e)
                     for e in self.lab.tap.events_for(d["uniqueid"], AMI_KEEP)]
            out.append("AMI events of the call:\n" + "\n".join(lines)[-5000:])
        out.append("serve log (tail):\n" + self.service.serve.text()[-3000:])
        out += [f"SIPp {proc} exited {rc}:\n{errors[-2000:]}" for proc, (rc, errors) in self.sipp.items() if rc]
        return "\n\n".join(out)


def _register(agents: list[Agent], folder: Path, sip: str) -> None:
    for a in agents:
        reg = start_sipp(f"register-{a.name}", register_scenario(a, folder), folder, port=a.port,
                         media_port=a.media_port, remote=sip, extra=["-m", "1", "-timeout", "15s", "-timeout_error"])
        rc = reg.finish(30)
        assert rc == 0, f"{a.name} did not register (SIPp exit {rc}):\n{reg.errors()}"


def _place_calls(result: Batch, procs: list[Sipp], run: Sipp) -> float:
    """Wait for the callers' SIPp to finish, reading each scenario call (``calls show``) as soon
    as serve logs its end, while the longer calls still run: the CLI's start-up costs seconds
    of CPU, the calls wait on the clock. Then stop the agents. Returns when the calls ended."""
    procs.append(run)
    service = result.service
    wanted = {p.caller.number[-4:]: name for name, p in result.plans.items()}
    shows: dict[str, Future[dict[str, Any]]] = {}
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        def read_ended() -> None:
            for tail, uniqueid in service.serve.ended().items():
                if tail in wanted and wanted[tail] not in shows:
                    shows[wanted[tail]] = pool.submit(service.hotline.closed_call, uniqueid)

        while run.proc.poll() is None and time.monotonic() - t0 < 240:
            read_ended()
            time.sleep(0.5)
        result.sipp["callers"] = (run.finish(10), run.errors())
        result.seconds = PHASES["calls (SIPp callers, first INVITE to last BYE)"] = time.monotonic() - t0
        ended = time.monotonic()
        for agent in procs[:-1]:
            result.sipp[agent.name] = (agent.finish(30, stop=True), agent.errors())
        while len(shows) < len(wanted) and time.monotonic() - ended < 30:
            read_ended()
            time.sleep(0.5)
        for name, future in shows.items():
            try:
                result.details[name] = future.result(120)
            except Exception as exc:  # one call's record unreadable: its test says why, the others run
                result.unread[name] = f"{type(exc).__name__}: {exc}"
    return ended


def run_batch(lab: Lab, service: Service, mkpcap: Path) -> Batch:
    """Register the agents, place every call of the plan at once, wait, read the call log."""
    started = time.monotonic()
    folder = lab.folder / "sipp"
    folder.mkdir()
    ports = lab.asterisk.ports
    sip = f"127.0.0.1:{ports.sip}"
    texts = {"caller": CALLER_SAYS, "load": LOAD_SAYS, **AGENT_SAYS}
    say = {who: make_speech(text, folder / "speech", who) for who, text in texts.items()}
    result = Batch(lab, service, scenarios(say), load_calls(say), say)
    agents = [Agent("agent1001", AGENT_SECRETS["agent1001"], ports.agent1001, ports.media + 4),
              Agent("agent1002", AGENT_SECRETS["agent1002"], ports.agent1002, ports.media + 8)]
    for p in result.plans.values():
        for a in agents:
            if a.name in p.agents:
                a.answers[p.caller.number] = p.agents[a.name]
    _register(agents, folder, sip)
    PHASES["speech, pcaps, agents registered"] = time.monotonic() - started
    callers = [p.caller for p in result.plans.values()] + [c for c, _ in result.load.values()]
    scenario, inf = caller_scenario(callers, folder, mkpcap)
    procs: list[Sipp] = []
    try:
        procs += [start_sipp(a.name, agent_scenario(a, folder, mkpcap), folder, port=a.port,
                             media_port=a.media_port, remote=sip) for a in agents]
        ended = _place_calls(result, procs, start_sipp(
            "callers", scenario, folder, port=ports.caller, media_port=ports.media, remote=sip,
            extra=["-inf", str(inf), "-m", str(len(callers)), "-l", str(len(callers)), "-r", "50",
                   "-rp", "1000", "-timeout", "200s", "-timeout_error"]))
    finally:
        for proc in procs:  # whatever went wrong, no SIPp outlives the session
            proc.kill()
    numbers = {c.number for c in callers}
    result.unlogged = {n for n in numbers if n[-4:] not in service.serve.ended()}
    result.log = service.serve.text()
    result.calls = service.hotline.calls()
    result.rows = by_number(result.calls, numbers)
    PHASES["call log read after the calls (calls show/list)"] = time.monotonic() - ended
    return result
