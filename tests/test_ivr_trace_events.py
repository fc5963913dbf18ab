"""A call session's event side fed the events real Asterisk 20 sent (tests/fixtures/asterisk).

The session's bookkeeping (who hung up first, ring time, queue wait, the agent, the
type-ahead buffer, the hangup cause) is derived from events only, so replaying a
recorded call's events through ``CallSession.on_event`` with the trace's own clock must
give what the README of the traces says happened.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import db
from ivr.callstore import CallStore
from ivr.calltrack import CallInfo, DigitBuffer, interface_of
from ivr.session import CallSession
from ivr.tables import Call, CallEvent
from pbx.protocol import Message
from settings import load_config

FIXTURES = Path(__file__).parent / "fixtures" / "asterisk"
ROOT = Path(__file__).resolve().parent.parent


def trace_events(name: str) -> list[tuple[float, Message]]:
    out = []
    for line in (FIXTURES / f"{name}.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec["dir"] == "in" and rec["kind"] == "frame" and rec["fields"][0][0] == "Event":
            out.append((rec["t"], Message(tuple((k, v) for k, v in rec["fields"]))))
    return out


class _NoLink:
    async def channel_after_reconnect(self, channel: str) -> Message | None:  # pragma: no cover
        return None


@pytest.fixture()
def store(tmp_path: Path) -> Any:
    s = CallStore(f"sqlite:///{tmp_path}/calls.db").start()
    yield s
    s.close()


def replay(name: str, store: CallStore) -> CallSession:
    events = trace_events(name)
    start = next(m for _, m in events if m.name == "AsyncAGIStart")
    cfg = load_config(ROOT / "config.yaml")
    session = CallSession(CallInfo.from_start(start), cfg, None, store, _NoLink())  # type: ignore[arg-type]
    store.open_call(session.uniqueid, at=db.now(), channel=session.channel)
    clock = [0.0]
    session.clock = lambda: clock[0]
    for t, msg in events:
        clock[0] = t
        # The service routes by Uniqueid, else Linkedid (agent legs link to the caller).
        if session.uniqueid in (msg.get("Uniqueid"), msg.get("Linkedid")):
            session.on_event(msg)
    return session


def test_call_info_from_real_async_agi_start() -> None:
    start = next(m for _, m in trace_events("inbound-call-dial") if m.name == "AsyncAGIStart")
    info = CallInfo.from_start(start)
    assert info.channel == "SIP/caller-00000000"
    assert info.caller_num == "5551230001" and info.caller_name == "Test Caller"
    assert info.did == "400"
    assert info.uniqueid == info.linkedid == start["Uniqueid"]


def test_queue_agent_hangs_up_first(store: CallStore) -> None:
    s = replay("queue-agent-hangs-up-first", store)
    f = s.facts
    assert f.hangup_by == "agent"
    assert f.agent == "SIP/agent1001"
    assert f.ring_s == pytest.approx(6.01, abs=0.02)  # AgentCalled 1.813 -> DialEnd ANSWER 7.823
    assert f.queue_wait_s == pytest.approx(6.01, abs=0.02)
    assert f.talk_s == pytest.approx(4.0, abs=0.05)  # answer -> the agent's BYE
    assert f.hangup_cause == 16  # the caller leg's Hangup, after our HANGUP
    assert s.hung_up.is_set() and s.agi_ended.is_set()
    store.flush()
    with db.transaction(store.url) as tx:
        kinds = [e.kind for e in tx.scalars(select(CallEvent).order_by(CallEvent.id))]
    assert kinds.index("queue_join") < kinds.index("agent_ringing") < kinds.index("agent_answered")
    assert "hold_start" not in kinds  # music while queued is queue wait, not an agent's hold
    assert kinds.count("hangup_request") == 1  # only the agent asked; we hung up the caller
    assert "agent_complete" in kinds


def test_queue_caller_hangs_up_first(store: CallStore) -> None:
    s = replay("queue-caller-hangs-up-first", store)
    assert s.facts.hangup_by == "caller"
    assert s.facts.agent == "SIP/agent1001"
    assert s.facts.ring_s == pytest.approx(6.0, abs=0.02)
    assert s.facts.hangup_cause == 16


def test_dial_answered_then_caller_hangs_up(store: CallStore) -> None:
    s = replay("inbound-call-dial", store)
    assert s.facts.agent == "SIP/agent1001"
    assert s.facts.hangup_by == "caller"
    assert s.facts.ring_s is not None and s.facts.ring_s > 0


def test_dial_no_answer_records_no_agent(store: CallStore) -> None:
    s = replay("dial-no-answer", store)
    assert s.facts.agent is None and s.facts.ring_s is None
    assert s.facts.hangup_by is None  # nobody asked: the IVR's HANGUP sets "system" in the flow
    assert s.facts.hangup_cause == 0
    store.flush()
    with db.transaction(store.url) as tx:
        ev = tx.scalars(select(CallEvent).where(CallEvent.kind == "agent_noanswer")).one()
    assert ev.data["status"] == "NOANSWER" and ev.data["ring_s"] == pytest.approx(5.0, abs=0.01)


def test_caller_hangup_during_greeting(store: CallStore) -> None:
    s = replay("caller-hangup-during-greeting", store)
    assert s.facts.hangup_by == "caller" and s.caller_left
    assert s.facts.hangup_cause == 0 and s.facts.hangup_cause_txt == "Unknown"


def test_shutdown_is_system(store: CallStore) -> None:
    s = replay("shutdown-while-connected", store)
    assert s.facts.hangup_by == "system"


def test_type_ahead_digits_reach_the_buffer(store: CallStore) -> None:
    # No command of ours ran during this replay, so every DTMFEnd is type-ahead.
    s = replay("type-ahead-digits", store)
    assert list(s.digits.buffer) == ["1", "2", "3", "4"]


def test_digit_buffer_keeps_what_get_data_did_not_take() -> None:
    b = DigitBuffer()
    b.pressed("7")  # during the greeting: type-ahead
    b.start()
    b.pressed("1")  # GET DATA returns on this one
    b.pressed("2")  # arrives before we processed the result: type-ahead
    b.stop("1")
    assert list(b.buffer) == ["7", "2"]
    b.start()
    b.stop("5")  # the result came before its DTMFEnd event
    b.pressed("5")
    assert list(b.buffer) == ["7", "2"]
    b.start()
    b.pressed("9")  # pressed in the window before GET DATA started: Asterisk dropped it
    b.stop(None)
    assert b.take() == "7" and b.take() == "2" and b.take() == "9" and b.take() is None


def test_interface_of() -> None:
    assert interface_of("SIP/agent1001-00000004") == "SIP/agent1001"
    assert interface_of("PJSIP/1001-0000000a") == "PJSIP/1001"
    assert interface_of("Local/1001@agents-00000001;1") == "Local/1001@agents"


def test_call_row_written_off_loop(store: CallStore) -> None:
    s = replay("queue-agent-hangs-up-first", store)
    s._close()
    assert store.flush()
    with db.transaction(store.url) as tx:
        row = tx.scalars(select(Call)).one()
    assert row.status == "ended" and row.hangup_by == "agent" and row.agent == "SIP/agent1001"
    assert row.ring_s == pytest.approx(6.01, abs=0.02) and row.ended_at is not None
