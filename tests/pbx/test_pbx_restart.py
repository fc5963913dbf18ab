"""Issue 12 on the real Asterisk 20: SIGKILL of ``hotline serve`` mid-call, restart, standby takeover.

One run, three SIP callers, against the session's lab Asterisk but a ``serve`` of this
module's own (own database and lease: ttl 3 s, beat 0.5 s; the session's serve is
stopped meanwhile, and started again after):

* ``menu`` (…0301): waits silently in the main menu; serve is SIGKILLed 20 s into the
  batch and restarted 1.5 s later. The caller presses ``#`` (hang up route) at 44 s, in the
  menu the adopter plays after the short retry prompt.
* ``bridge`` (…0302): types ``2`` during the greeting (Dial aftersales); agent1002 answers
  and talks; the same kill/restart hits while they are bridged; the agent hangs up 16 s
  after answering and the caller must get the goodbye, then Asterisk's BYE.
* ``standby`` (…0303): starts 36 s in; a second ``serve`` (same database, the lease) waits
  in standby; the active one is SIGKILLed 12 s into that call; the standby takes over and
  the caller's ``#`` at 44 s ends it.

"Silence" is read from the AMI tap: after the kill, the first AsyncAGIExec of the caller's
channel is the old driver's command ending (the caller now idle in Async AGI); the next
AsyncAGIExec must come within SILENCE_MAX_S (the new driver's NOOP probe runs at once).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SHARED
from pbx_batch import AGENT_SECRETS, Lab, Service
from pbx_checks import prompt, recordings
from pbx_hotline import Hotline, Serve, write_config
from pbx_lab import AMI_SECRET, AmiTap
from pbx_media import make_speech
from pbx_sipp import Agent, Answer, Caller, Sipp, agent_scenario, caller_scenario, register_scenario, start_sipp
from ruamel.yaml import YAML

pytestmark = pytest.mark.pbx

SILENCE_MAX_S = 3.0
KILL_AT_S = 20.0  # batch clock: both first calls in the menu / bridged
RESTART_AFTER_S = 1.5
STANDBY_START_S = 36.0
NUMBERS = {"menu": "5550301", "bridge": "5550302", "standby": "5550303"}


@dataclass
class Run:
    hotline: Hotline
    tap: AmiTap
    sounds: Path
    kills: dict[str, float] = field(default_factory=dict)  # case -> tap time of its SIGKILL
    takeover_s: float | None = None  # standby: kill -> its first "adopting" log line
    restart_ready_s: float = 0.0  # the restarted serve: process start -> "serving" (Python start-up)
    standby_kill_at_s: float = 0.0  # seconds into the standby caller's call (its clock) at the kill
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # case -> its call rows
    details: dict[str, dict[str, Any]] = field(default_factory=dict)
    logs: str = ""


def _answered(tap: AmiTap, number: str) -> bool:
    """Whether the tap has seen a Dial answered for this caller (the caller is bridged)."""
    for raw in tap.path.read_bytes().split(b"\r\n\r\n"):
        lines = set(raw.decode("utf-8", "replace").split("\r\n"))
        if {"Event: DialEnd", "DialStatus: ANSWER", f"CallerIDNum: {number}"} <= lines:
            return True
    return False


def _tap_time(lab: Lab) -> float:
    return time.monotonic() - lab.tap.t0


def _wait(pred: Any, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return False


def _config(lab: Lab, folder: Path) -> Path:
    cfg = write_config(ROOT / "config.yaml", folder / "config.yaml", ami_port=lab.asterisk.ports.ami,
                       sounds=lab.asterisk.sounds, recordings=lab.recordings, database=folder / "hotline.db")
    yaml = YAML(typ="rt")
    data = yaml.load(cfg.read_text(encoding="utf-8"))
    data["ivr"]["lease_ttl"], data["ivr"]["lease_interval"] = 3.0, 0.5
    with cfg.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)
    return cfg


def _kill(serve: Serve) -> None:
    serve.proc.send_signal(signal.SIGKILL)
    serve.proc.wait(10)


@pytest.fixture(scope="session")
def session_serves() -> Iterator[list[Serve]]:
    """The session's serve as restarted after this module: stopped at the end of the session."""
    started: list[Serve] = []
    yield started
    for s in started:
        s.stop()


@pytest.fixture(scope="module")
def run(lab: Lab, service: Service, session_serves: list[Serve]) -> Iterator[Run]:
    """The three cases in one batch (module docstring). The session's serve (its own database
    and lease, prompts already rendered) is stopped meanwhile: every AMI session gets every
    AsyncAGIStart, so it would drive these calls too. It is started again afterwards."""
    assert service.serve.stop() == 0, f"the session's serve did not stop cleanly:\n{service.serve.text()[-2000:]}"
    folder = lab.folder / "restart"
    folder.mkdir()
    hotline = Hotline(_config(lab, folder), AMI_SECRET)
    ports = lab.asterisk.ports
    sip = f"127.0.0.1:{ports.sip}"
    say = make_speech("好的，明白。", folder / "speech", "agent1002")
    agent = Agent("agent1002", AGENT_SECRETS["agent1002"], ports.agent1002, ports.media + 8,
                  {NUMBERS["bridge"]: Answer(1.0, ((say, 0.5),), bye_after_s=16.0)})
    callers = [Caller(NUMBERS["menu"], dtmf=(("#", 44.0),), wait_max_s=80.0),
               Caller(NUMBERS["bridge"], dtmf=(("2", 3.0),), wait_max_s=80.0),
               Caller(NUMBERS["standby"], dtmf=(("#", 44.0),), start_s=STANDBY_START_S, wait_max_s=80.0)]
    scenario, inf = caller_scenario(callers, folder, SHARED / "asterisk20" / "mkpcap.py")
    reg = start_sipp("register-agent1002", register_scenario(agent, folder), folder, port=agent.port,
                     media_port=agent.media_port, remote=sip, extra=["-m", "1", "-timeout", "15s", "-timeout_error"])
    assert reg.finish(30) == 0, reg.errors()
    serves: list[Serve] = []
    procs: list[Sipp] = []
    out = Run(hotline, lab.tap, lab.asterisk.sounds)
    try:
        first = Serve(hotline, folder / "serve-1.log")
        serves.append(first)
        first.wait_ready()
        procs.append(start_sipp("agent1002", agent_scenario(agent, folder, SHARED / "asterisk20" / "mkpcap.py"),
                                folder, port=agent.port, media_port=agent.media_port, remote=sip))
        t0 = time.monotonic()
        callers_proc = start_sipp("callers", scenario, folder, port=ports.caller, media_port=ports.media, remote=sip,
                                  extra=["-inf", str(inf), "-m", "3", "-l", "3", "-r", "10", "-timeout", "150s",
                                         "-timeout_error"])
        procs.append(callers_proc)
        # Kill/restart while the menu caller waits in GET DATA and the bridge caller talks to the agent.
        bridged = _wait(lambda: _answered(lab.tap, NUMBERS["bridge"]), 40, 0.5)
        assert bridged, "the bridge caller never reached agent1002"
        time.sleep(max(0.0, t0 + KILL_AT_S - time.monotonic()))
        out.kills["menu"] = out.kills["bridge"] = _tap_time(lab)
        _kill(first)
        time.sleep(RESTART_AFTER_S)
        restarted = time.monotonic()
        second = Serve(hotline, folder / "serve-2.log")
        serves.append(second)
        second.wait_ready()
        second_ready = time.monotonic()
        standby = Serve(hotline, folder / "serve-3.log")
        serves.append(standby)
        standby.wait_ready()
        out.restart_ready_s = second_ready - restarted
        # Kill the active serve once the first two calls are over, while the standby caller
        # waits in the main menu's GET DATA (10-33 s into its call).
        _wait(lambda: {"0301", "0302"} <= set(second.ended()), t0 + STANDBY_START_S + 26.0 - time.monotonic())
        time.sleep(max(0.0, t0 + STANDBY_START_S + 12.0 - time.monotonic()))
        out.standby_kill_at_s = time.monotonic() - t0 - STANDBY_START_S
        out.kills["standby"] = _tap_time(lab)
        killed = time.monotonic()
        _kill(second)
        if _wait(lambda: "adopting" in standby.text(), 20, 0.1):
            out.takeover_s = time.monotonic() - killed
        callers_proc.finish(120)
        procs[0].finish(10, stop=True)
        rows = hotline.calls()
        for case, number in NUMBERS.items():
            out.rows[case] = [r for r in rows if (r.get("caller") or "")[-4:] == number[-4:]]
            mine = out.rows[case]
            if mine:
                ref = str(mine[0].get("uniqueid") or mine[0].get("id"))
                out.details[case] = hotline.closed_call(ref, timeout=20)
        out.logs = "\n".join(f"--- {s.log.name}\n{s.text()[-2500:]}" for s in serves)
        yield out
    finally:
        for p in procs:
            p.kill()
        for s in serves:
            s.stop()
        again = Serve(service.hotline, lab.folder / "serve-after-restart-tests.log")
        session_serves.append(again)
        again.wait_ready()
        service.serve = again


def _silence(run: Run, case: str) -> tuple[float, float]:
    """Seconds the caller sat in Async AGI with no command after the kill (module docstring), and
    when the old driver's command ended (seconds after the kill)."""
    uid = run.details[case]["uniqueid"]
    execs = [float(f["t"]) for f in run.tap.events_for(uid, ("AsyncAGIExec",)) if f.get("Uniqueid") == uid]
    after = [t for t in execs if t > run.kills[case]]
    assert len(after) >= 2, f"{case}: no command ran after the kill ({len(after)} AsyncAGIExec)\n{run.logs}"
    return after[1] - after[0], after[0] - run.kills[case]


def _line(run: Run, case: str, silence: float, freed: float) -> str:
    rows = run.rows.get(case, [])
    return (f"[restart] case={case:8s} affected=1 rows={len(rows)} lost={int(not rows)} "
            f"duplicates={max(0, len(rows) - 1)} silence_s={silence:.2f} (max {SILENCE_MAX_S}) "
            f"silent_callers={int(silence > SILENCE_MAX_S)} old_command_ended_s={freed:.1f} "
            f"restart_ready_s={run.restart_ready_s:.1f}"
            + (f" takeover_s={run.takeover_s:.2f}" if case == "standby" and run.takeover_s is not None else ""))


def _check(run: Run, case: str) -> dict[str, Any]:
    """The invariants of every case: one row, closed, recordings registered; returns its detail."""
    rows = run.rows.get(case, [])
    assert len(rows) == 1, f"{case}: {len(rows)} call rows for {NUMBERS[case]} (lost or duplicated)\n{run.logs}"
    d = run.details[case]
    why = f"{case}: {d.get('status')} {d.get('path')} events={[e['kind'] for e in d['events']]}\n{run.logs}"
    assert d["status"] != "active" and d["ended_at"] is not None, why
    assert d["recordings"] and all(r["status"] != "recording" for r in d["recordings"]), why
    assert sum(e["kind"] == "greeting" for e in d["events"]) == 1, "a second greeting\n" + why
    assert any(e["kind"] == "adopted" for e in d["events"]), "never adopted\n" + why
    silence, freed = _silence(run, case)
    print(_line(run, case, silence, freed))
    assert silence <= SILENCE_MAX_S, f"{case}: {silence:.1f}s with no command after the kill\n{why}"
    return d


def test_sigkill_in_the_menu_restart_adopts_and_the_later_key_routes(run: Run) -> None:
    d = _check(run, "menu")
    why = f"{d.get('path')} {d.get('route')}\n{run.logs}"
    adopted = next(e for e in d["events"] if e["kind"] == "adopted")["data"]
    assert adopted["plan"] == "menu", why
    assert d["steps"] and d["steps"][-1]["digit"] == "#" and d["steps"][-1]["action"] == "hangup", why
    assert d["hangup_by"] == "system", why
    _retry_then_menu(run, d)


def _retry_then_menu(run: Run, d: dict[str, Any]) -> None:
    """After the adoption the caller heard the short retry prompt, then the main menu again (the
    old driver's GET DATA plays on until it ends, so no deadline from the adoption)."""
    t = recordings(d)
    at = t.offset(next(e for e in d["events"] if e["kind"] == "adopted")["at"])
    retry = t.heard(prompt(run.sounds, "retry"), "agent", "the retry prompt after the adoption", after=at)
    t.heard(prompt(run.sounds, "menu-main", 1.2), "agent", "the main menu after the retry prompt", after=retry + 0.3,
            by=retry + 6.0)


def test_sigkill_during_a_dial_bridge_agent_hangs_up_caller_gets_goodbye(run: Run) -> None:
    d = _check(run, "bridge")
    why = f"{d.get('path')} {d.get('route')} {d.get('hangup_by')}\n{run.logs}"
    adopted = next(e for e in d["events"] if e["kind"] == "adopted")["data"]
    assert adopted["plan"] == "transfer", why
    assert (d["route"], d["agent"], d["dial_status"]) == ("extension aftersales", "SIP/agent1002", "ANSWER"), why
    assert d["hangup_by"] == "agent", why
    # What the caller heard once the agent had gone: the goodbye (the caller never sends BYE: Hotline hangs up).
    t = recordings(d)  # the recording ends with Hotline's HANGUP: the goodbye is its last seconds
    t.heard(prompt(run.sounds, "goodbye"), "agent", "goodbye after the agent hung up", after=t.seconds - 8.0)


def test_standby_serve_takes_over_when_the_active_one_is_killed(run: Run) -> None:
    d = _check(run, "standby")
    why = f"{d.get('path')}\n{run.logs}"
    assert run.standby_kill_at_s < 30.0, f"killed {run.standby_kill_at_s:.0f}s into the call, not in its menu\n{why}"
    assert run.takeover_s is not None and run.takeover_s <= 6.0, f"takeover {run.takeover_s}s\n{why}"
    assert d["steps"] and d["steps"][-1]["digit"] == "#", why
    _retry_then_menu(run, d)
