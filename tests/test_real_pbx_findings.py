"""What the real Asterisk 20 showed Hotline getting wrong (tests/pbx/test_pbx_findings.py), fast.

The real-PBX suite needs root and 2.5 minutes; these run the same findings on the simulator
(the real service over TCP) or, where the simulator cannot produce the stream, replay the
frames the real Asterisk sent through a call session:
- ring time is what the caller waited on ringing agents, the Dial that rang out included;
- one cancelled ringall member is one missed-ring event, though Asterisk 20 ends it twice;
- the agent-hung-up-first flag points at the agent's hang-up, not at the end of the goodbye.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from ivr_env import call_row, prompts_heard, rendered_sounds, run_env
from sqlalchemy import select

import db
from app.demo import DemoEnv, prompt_seconds
from ivr.callstore import CallStore
from ivr.calltrack import CallInfo
from ivr.session import CallSession
from ivr.tables import Call, CallEvent
from pbx.protocol import Message
from pbx.simulator import Agent, CallScript, Press, Say
from qa.scan import scan_call
from settings import load_config

ROOT = Path(__file__).resolve().parent.parent
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


@pytest.fixture(scope="module")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rendered_sounds(tmp_path_factory.mktemp("sounds"))


def _events(row: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [data for k, data in row["events"] if k == kind]


@needs_espeak
def test_ring_time_counts_the_dial_that_rang_out_before_the_fallback_queue(tmp_path: Path, sounds: Path) -> None:
    def short_dial(data: Any) -> None:
        data["extensions"]["aftersales"]["timeout"] = 8  # rings out before the agent would answer

    async def body(env: DemoEnv) -> Any:
        g = prompt_seconds(env.config)["greeting"]
        # 2: Dial aftersales rings 8 s unanswered; the menu's fallback queue rings the agent, who
        # answers 10 s into that ring (the queue rings 15 s per attempt).
        return await env.call(CallScript("ringout", presses=(Press(g + 1, "2"),),
                                         agent=Agent("SIP/agent1001", answer_after=10.0)))

    call = run_env(tmp_path, sounds, body, edit=short_dial, speed=5.0)  # a second of ring is 0.2 s of wall time
    assert "EXEC Dial SIP/agent1002,8" in call.commands and "EXEC Queue support" in call.commands
    row = call_row(f"sqlite:///{tmp_path / 'hotline.db'}", call.uniqueid)
    missed = [e for e in _events(row, "agent_noanswer") if e["status"] == "NOANSWER"]
    assert [m["interface"] for m in missed] == ["SIP/agent1002"]
    assert missed[0]["ring_s"] == pytest.approx(8.0, abs=1.0)
    [answered] = _events(row, "agent_answered")
    assert answered["ring_s"] == pytest.approx(10.0, abs=1.0)  # each attempt keeps its own ring time
    assert row["agent"] == "SIP/agent1001" and row["route_target"] == "support"
    # The caller heard 18 s of ringing before a person: that is the call's ring time.
    assert row["ring_s"] == pytest.approx(missed[0]["ring_s"] + answered["ring_s"], abs=0.5)
    with db.transaction(f"sqlite:///{tmp_path / 'hotline.db'}") as s:
        slow = [f.matched for f in scan_call(s, load_config(tmp_path / "config.yaml"), row["id"])
                if f.category == "slow-answer"]
    assert len(slow) == 1 and slow[0].startswith("ring 1"), slow  # ring 18.0 s > 15 s: the QA rule sees it


@needs_espeak
def test_the_agent_hung_up_first_flag_points_at_the_agents_hang_up(tmp_path: Path, sounds: Path) -> None:
    async def body(env: DemoEnv) -> Any:
        g = prompt_seconds(env.config)["greeting"]
        return await env.call(CallScript("left", presses=(Press(g + 1, "2"),), agent=Agent(
            "SIP/agent1002", answer_after=2.0, says=(Say(0.5, "好的，明白。"),), hangs_up_after=4.0)))

    call = run_env(tmp_path, sounds, body)
    assert prompts_heard(call)[-1] == "goodbye"  # the IVR says goodbye after the agent left, then ends
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    with db.transaction(url) as s:
        row = s.scalars(select(Call).where(Call.uniqueid == call.uniqueid)).one()
        assert row.hangup_by == "agent" and row.recording_started_at is not None and row.ended_at is not None
        left = s.scalars(select(CallEvent).where(CallEvent.call_id == row.id, CallEvent.kind == "hangup_request")
                         .order_by(CallEvent.id)).first()
        assert left is not None and left.data["leg"] == "agent"
        at = (left.at - row.recording_started_at).total_seconds()
        end = (row.ended_at - row.recording_started_at).total_seconds()
        flags = [f for f in scan_call(s, load_config(tmp_path / "config.yaml"), row.id)
                 if f.rule_id == "hangup.agent-first"]
    assert end - at > 3.0  # the goodbye (4.5 s) lies between: the end is the wrong place
    assert len(flags) == 1 and flags[0].offset_s == pytest.approx(at, abs=0.05), (at, end, flags[0].offset_s)


# ----- the double DialEnd CANCEL -------------------------------------------------------------
# The simulator's queues have one member, so no ringall sibling is ever cancelled there. These
# are the frames the real Asterisk 20 sent for the real-PBX suite's noanswer call (its AMI tap;
# channel-block fields the tracker does not read left out), at the times Hotline stored: Dial
# agent1002 rings out, the fallback queue rings both agents, agent1001 answers, and agent1002's
# queue leg is ended twice with CANCEL.
CALLER, UID = "SIP/caller-00000002", "1796169895.2"
LEGS = {"SIP/agent1002-0000001c": "1796169914.28", "SIP/agent1002-0000001f": "1796169939.31",
        "SIP/agent1001-00000020": "1796169939.32"}


def _frame(event: str, dest: str | None = None, **fields: str) -> Message:
    pairs = [("Event", event), ("Channel", CALLER), ("Uniqueid", UID), ("Linkedid", UID)]
    if dest is not None:
        pairs += [("DestChannel", dest), ("DestUniqueid", LEGS[dest]), ("DestLinkedid", UID)]
    return Message(tuple(pairs + list(fields.items())))


def _noanswer_then_queue() -> list[tuple[float, Message]]:
    dial, a2, a1 = LEGS
    q2 = {"Queue": "support", "Interface": "SIP/agent1002", "MemberName": "SIP/agent1002"}
    q1 = {"Queue": "support", "Interface": "SIP/agent1001", "MemberName": "SIP/agent1001"}
    return [
        (0.0, _frame("DialBegin", dial, DialString="agent1002")),
        (0.0, _frame("DialState", dial, DialStatus="RINGING")),
        (19.988, _frame("DialEnd", dial, DialStatus="NOANSWER")),
        (25.409, _frame("QueueCallerJoin", Queue="support", Position="1", Count="1")),
        (25.409, _frame("AgentCalled", a2, **q2)),
        (25.409, _frame("DialBegin", a2, DialString="SIP/agent1002")),
        (25.409, _frame("AgentCalled", a1, **q1)),
        (25.409, _frame("DialBegin", a1, DialString="SIP/agent1001")),
        (25.409, _frame("DialState", a2, DialStatus="RINGING")),
        (25.409, _frame("DialState", a1, DialStatus="RINGING")),
        (27.418, _frame("DialEnd", a1, DialStatus="ANSWER")),
        (27.419, _frame("DialEnd", a2, DialStatus="CANCEL")),
        (27.419, _frame("DialEnd", a2, DialStatus="CANCEL")),
        (27.419, _frame("QueueCallerLeave", Queue="support", Position="1", Count="0")),
        (27.419, _frame("AgentConnect", a1, **q1, HoldTime="2", RingTime="2")),
    ]  # fmt: skip


class _NoLink:
    async def channel_after_reconnect(self, channel: str) -> Message | None:  # pragma: no cover
        return None


def test_one_cancelled_ringall_member_is_one_missed_ring(tmp_path: Path) -> None:
    store = CallStore(f"sqlite:///{tmp_path / 'calls.db'}").start()
    try:
        info = CallInfo(CALLER, UID, UID, "5550104", None, "400")
        session = CallSession(info, load_config(ROOT / "config.yaml"), None, store, _NoLink())  # type: ignore[arg-type]
        store.open_call(UID, at=db.now(), channel=CALLER)
        clock = [0.0]
        session.clock = lambda: clock[0]
        for t, msg in _noanswer_then_queue():
            clock[0] = t
            session.on_event(msg)
        store.flush()
        with db.transaction(store.url) as s:
            missed = [e.data for e in s.scalars(select(CallEvent).where(CallEvent.kind == "agent_noanswer")
                                                .order_by(CallEvent.id))]
    finally:
        store.close()
    assert missed == [
        {"interface": "SIP/agent1002", "status": "NOANSWER", "ring_s": 19.988},
        {"interface": "SIP/agent1002", "status": "CANCEL", "ring_s": 2.01},  # once, for two DialEnd CANCEL
    ]  # fmt: skip
    assert session.facts.agent == "SIP/agent1001" and session.facts.queue_wait_s == pytest.approx(2.009)
    # 20 s of Dial, then 2 s of both queue legs ringing together (counted once): 22 s of ringing.
    assert session.facts.ring_s == pytest.approx(19.988 + 2.009)
