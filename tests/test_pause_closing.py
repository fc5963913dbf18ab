"""QA and a recording paused at the edges of the agent's part: a call that ended while the recording
was still paused (a collect menu the caller hung up in, `calls pause` never resumed) has no closing
on its tracks, and an agent who picked up inside a pause has no opening there. Neither can be judged,
so neither is flagged; a pause in the middle changes nothing (real SQLite, the real scan)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from qa_calls import IVR, add_call, config
from sqlalchemy.orm import Session

import db
from ivr.recpause import RECORDING_PAUSED, RECORDING_RESUMED
from ivr.tables import AGENT_ANSWERED, PROMPT_END, PROMPT_START, TRANSFER_START
from qa.scan import scan_call

CFG = config()
TIMELINE = [
    (PROMPT_START, 0.1, {"name": "greeting", "text": IVR[0][3]}), (PROMPT_END, 9.9, {"name": "greeting"}),
    (PROMPT_START, 10.0, {"name": "transfer", "text": "正在为您转接，请稍候。"}), (PROMPT_END, 12.5, {}),
    (TRANSFER_START, 12.6, {"app": "Queue"}), (AGENT_ANSWERED, 18.0, {}),
]  # the call ends at 60 s (qa_calls.add_call)
OPENING = ("agent", 18.5, 22.0, IVR[0][3])
TALK = [("caller", 23.0, 26.0, "我想用银行卡付款。"), ("agent", 26.5, 29.5, "好的，请您输入卡号。")]
CLOSING = ("agent", 50.0, 52.5, "感谢您的来电，再见。")


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    with db.transaction(f"sqlite:///{tmp_path}/t.db") as s:
        yield s


def rules(session: Session, segments: list[tuple[str, float, float, str]],
          pause: list[tuple[str, float, dict[str, str]]]) -> set[str]:  # fmt: skip
    call = add_call(session, [*IVR[:1], *segments], agent_answer_s=18.0, events=TIMELINE + pause)
    return {f.category for f in scan_call(session, CFG, call.id)}


def test_a_call_ending_while_paused_is_not_flagged_for_its_closing(session: Session) -> None:
    to_the_end = [(RECORDING_PAUSED, 30.0, {"via": "collect account"})]  # never resumed: the caller hung up
    resumed_at_the_end = [(RECORDING_PAUSED, 30.0, {"via": "calls pause"}), (RECORDING_RESUMED, 59.8, {})]
    assert "closing" in rules(session, [OPENING, *TALK], [])  # the same words, never paused: flagged
    assert "closing" not in rules(session, [OPENING, *TALK], to_the_end)
    assert "closing" not in rules(session, [OPENING, *TALK], resumed_at_the_end)


def test_a_pause_in_the_middle_still_leaves_the_closing_to_judge(session: Session) -> None:
    middle = [(RECORDING_PAUSED, 30.0, {"via": "calls pause"}), (RECORDING_RESUMED, 45.0, {})]
    assert "closing" in rules(session, [OPENING, *TALK], middle)
    assert "closing" not in rules(session, [OPENING, *TALK, CLOSING], middle)


def test_an_agent_picking_up_inside_a_pause_is_not_flagged_for_the_opening(session: Session) -> None:
    over_pickup = [(RECORDING_PAUSED, 16.0, {"via": "calls pause"}), (RECORDING_RESUMED, 22.5, {})]
    assert "opening" in rules(session, [*TALK, CLOSING], [])  # no opening line and nothing paused: flagged
    assert "opening" not in rules(session, [*TALK, CLOSING], over_pickup)
    after_pickup = [(RECORDING_PAUSED, 24.0, {"via": "calls pause"}), (RECORDING_RESUMED, 26.0, {})]
    assert "opening" in rules(session, [*TALK, CLOSING], after_pickup)
