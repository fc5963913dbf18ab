"""QA and the recording's pauses (a collect menu, `calls pause`): the silence a pause leaves on both
tracks is no one's silence. The timeline (ivr/timeline.py) cuts paused stretches out of the agent's,
so qa/conversation.py measures and judges only what was recorded (real SQLite, the real scan)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from qa_calls import IVR, add_call, config
from sqlalchemy.orm import Session

import db
from ivr.recpause import RECORDING_PAUSED, RECORDING_RESUMED
from ivr.tables import AGENT_ANSWERED, PROMPT_END, PROMPT_START, TRANSFER_END, TRANSFER_START, Call
from ivr.timeline import build, call_timeline
from qa.conversation_store import CallMetrics
from qa.scan import scan_call
from settings import Config

CFG = config()
TIMELINE = [
    (PROMPT_START, 0.1, {"name": "greeting", "text": IVR[0][3]}), (PROMPT_END, 9.9, {"name": "greeting"}),
    (PROMPT_START, 10.0, {"name": "transfer", "text": "正在为您转接，请稍候。"}), (PROMPT_END, 12.5, {}),
    (TRANSFER_START, 12.6, {"app": "Queue"}), (AGENT_ANSWERED, 18.0, {}),
    ("hangup_request", 53.0, {"leg": "caller"}), (TRANSFER_END, 53.2, {"app": "Queue"}),
]
PAUSE = [(RECORDING_PAUSED, 30.0, {"by": "agent1", "via": "calls pause"}),
         (RECORDING_RESUMED, 45.0, {"by": "agent1", "via": "calls resume"})]
# the agent asks for the card number and pauses; 15 s later (resumed) the call goes on
SEGMENTS = [*IVR[:1], ("agent", 18.5, 22.0, IVR[0][3]), ("caller", 23.0, 26.0, "我想用银行卡付款。"),
            ("agent", 26.5, 29.5, "好的，请您报一下卡号。"), ("agent", 45.5, 48.0, "已经为您登记好了。"),
            ("caller", 48.5, 49.5, "好的，谢谢。"), ("agent", 50.0, 52.5, "感谢您的来电，再见。")]


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    with db.transaction(f"sqlite:///{tmp_path}/t.db") as s:
        yield s


def strict(cfg: Config, max_s: float) -> Config:
    conv = cfg.qa.conversation.model_copy(update={"silence": cfg.qa.conversation.silence.model_copy(
        update={"max_s": max_s})})
    return cfg.model_copy(update={"qa": cfg.qa.model_copy(update={"conversation": conv})})


def test_a_paused_stretch_is_not_silence_and_raises_no_flag(session: Session) -> None:
    cfg = strict(CFG, 4.0)
    quiet = add_call(session, SEGMENTS, agent_answer_s=18.0, events=TIMELINE)  # the same 15 s, never paused
    paused = add_call(session, SEGMENTS, agent_answer_s=18.0, events=TIMELINE + PAUSE)
    assert "conversation.silence" in {f.rule_id for f in scan_call(session, cfg, quiet.id)}
    flags = scan_call(session, cfg, paused.id)
    assert not [f for f in flags if f.category in ("conversation", "opening", "closing", "hold")], \
        [(f.rule_id, f.matched) for f in flags]
    row, was = session.get(CallMetrics, paused.id), session.get(CallMetrics, quiet.id)
    assert row is not None and was is not None
    assert was.longest_silence_s == pytest.approx(16.0)
    assert row.longest_silence_s == pytest.approx(1.0)  # 22.0-23.0, between two lines: the pause is not in it
    assert row.connected_s == pytest.approx(was.connected_s - 15.0, abs=0.7)  # the pause is not connected time
    assert row.agent_talk_s == pytest.approx(was.agent_talk_s) and row.caller_talk_s == pytest.approx(was.caller_talk_s)
    timeline = call_timeline(session, session.get(Call, paused.id))  # type: ignore[arg-type]
    assert timeline is not None
    assert [(s.start, s.end, s.name) for s in timeline.of("paused")] == [(30.0, 45.0, "calls pause")]
    assert all(b <= 30.0 or a >= 45.0 for a, b in timeline.agent_spans())


def test_a_pause_never_resumed_lasts_to_the_end_and_cuts_what_played() -> None:
    events = [*TIMELINE[:5], (RECORDING_PAUSED, 11.0, {"via": "collect account"})]
    timeline = build(events, 20.0)
    assert timeline is not None
    assert [(s.kind, s.start, s.end) for s in timeline.stretches] == [
        ("ivr", 0.1, 9.9), ("ivr", 10.0, 11.0), ("paused", 11.0, 20.0)]
    assert [s.name for s in timeline.prompts()] == ["greeting", "transfer"]  # only the heard part of transfer
