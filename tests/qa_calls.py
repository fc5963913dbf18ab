"""Stored calls for the QA tests: a real SQLite file, rows written the way the IVR and
the transcription worker write them. Import as ``from qa_calls import ...``.

A call's agent track starts with what the IVR played (the opening line, the menu), so
the default call has those segments too: QA must not take them for the agent.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from accounts.tables import Account
from ivr.tables import Call, CallEvent, MenuStep
from settings import Config, load_config
from transcribe.tables import Segment, Transcript

REPO = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# One counter per test process: keying on id(session) repeated once a closed session's id was reused, and two
# sessions in one test then minted the same uniqueid. The ".1" tail keeps these apart from tests' own "1700000000.N".
_CALL_SEQ = itertools.count(1)

IVR = [
    ("agent", 0.5, 4.0, "您好，这里是海尔斯科技，请问有什么可以帮您？"),
    ("agent", 4.5, 12.0, "查询订单请按1，售后服务请按2，投诉与建议请按3，人工服务请按0，重听请按9。"),
]
POLITE = [
    ("agent", 20.5, 24.0, "您好，这里是海尔斯科技，请问有什么可以帮您？"),
    ("caller", 25.0, 28.0, "我的订单三天了还没到。"),
    ("agent", 29.0, 33.0, "请您耐心等候，我马上为您查询。"),
    ("caller", 34.0, 36.0, "好的，谢谢。"),
    ("agent", 40.0, 45.0, "您的快递已经到达本地，明天上午送达。"),
    ("agent", 46.0, 49.0, "感谢您的来电，再见。"),
]


def config() -> Config:
    return load_config(REPO / "config.yaml")


def config_file(tmp_path: Path) -> Path:
    """The shipped config, with its database in tmp_path (for CLI and web tests)."""
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("url: sqlite:///var/hotline.db", f"url: sqlite:///{tmp_path}/qa.db")
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def add_reviewers(session: Session, *names: str, role: str = "reviewer") -> None:
    """Accounts a CLI review may be credited to (issue 14). Nobody signs in with them, so their
    hashes are cheap ones: real argon2 at its default cost takes most of a second each here."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    session.add_all(Account(name=n, role=role, password_hash=cheap.hash("not used in tests")) for n in names)
    session.flush()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass
class Seg:
    speaker: str
    start: float
    end: float
    text: str
    words: list[Any] | None = None


def add_call(
    session: Session,
    segments: list[Any] | None = None,
    *,
    uniqueid: str | None = None,
    agent: str | None = "SIP/agent1001",
    agent_answer_s: float | None = 20.0,
    menu_end_s: float | None = 15.0,
    hangup_by: str = "caller",
    ring_s: float | None = 4.0,
    queue_wait_s: float | None = None,
    route_target: str = "support",
    events: list[tuple[str, float, dict[str, Any]]] = (),  # type: ignore[assignment]
    needs_review: bool = False,
    review_reason: str | None = None,
    started: datetime = T0,
    transcript: bool = True,
) -> Call:
    """A finished call with its menu step, events and transcript (IVR + POLITE by default)."""
    offset = started - T0
    call = Call(
        uniqueid=uniqueid or f"1700000000.{next(_CALL_SEQ)}.1",
        channel="SIP/caller-00000001", caller_num="13812345678", status="ended",
        started_at=started, answered_at=started, recording_started_at=started,
        agent_answered_at=None if agent_answer_s is None else at(agent_answer_s) + offset,
        ended_at=started + timedelta(seconds=60), hangup_by=hangup_by, route_action="queue",
        route_target=route_target, category="服务质量问题", agent=agent, ring_s=ring_s, queue_wait_s=queue_wait_s,
    )
    session.add(call)
    session.flush()
    if menu_end_s is not None:
        session.add(MenuStep(call_id=call.id, seq=1, at=at(menu_end_s) + offset, menu="main", digit="0",
                             outcome="chosen", action="queue", target=route_target))
    for kind, t, data in events:
        session.add(CallEvent(call_id=call.id, kind=kind, at=at(t) + offset, data=data))
    if transcript:
        add_transcript(session, call.id, IVR + POLITE if segments is None else segments,
                       needs_review=needs_review, review_reason=review_reason)
    session.flush()
    return call


def add_transcript(session: Session, call_id: int, segments: list[Any], *, needs_review: bool = False,
                   review_reason: str | None = None) -> Transcript:
    t = Transcript(call_id=call_id, model="test", options={}, duration_s=60.0, needs_review=needs_review,
                   review_reason=review_reason)
    for seq, s in enumerate(segments):
        seg = s if isinstance(s, Seg) else Seg(*s)
        t.segments.append(Segment(seq=seq, speaker=seg.speaker, start_s=seg.start, end_s=seg.end, text=seg.text,
                                  avg_logprob=-0.3, no_speech_prob=0.01, words=seg.words))
    session.add(t)
    session.flush()
    return t


def replace(segments: list[Any], index: int, text: str) -> list[Any]:
    """POLITE (or any list) with one segment's text changed."""
    out = list(segments)
    speaker, start, end, _ = out[index]
    out[index] = (speaker, start, end, text)
    return out
