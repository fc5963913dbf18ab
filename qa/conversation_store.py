"""The conversation figures of each call, kept in the database (table ``call_metrics``).

``scan_conversation`` is what ``qa.scan.scan_call`` runs on every scan: it measures the call
(qa/conversation.py), replaces the call's row, and returns the findings of the conversation
rules. A call that never reached an agent has no row (nothing was said between the two sides).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from db import Base, UTCDateTime, now
from qa.conversation import connected_spans, conversation_findings, measure
from qa.rules import CallContext, Finding, Utterance
from settings import Config


class CallMetrics(Base):
    """One row per call: what qa/conversation.py measured on its newest transcript."""

    __tablename__ = "call_metrics"

    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    connected_s: Mapped[float]
    agent_talk_s: Mapped[float]
    caller_talk_s: Mapped[float]
    talk_ratio: Mapped[float | None]  # the agent's share of the talk time
    silence_s: Mapped[float]
    longest_silence_s: Mapped[float | None]
    longest_silence_at_s: Mapped[float | None]
    interruptions: Mapped[int]
    agent_cpm: Mapped[float | None]  # characters per minute of the agent's speech
    caller_cpm: Mapped[float | None]
    # the silences, the interruptions and the agent's turns with their rates (Conversation.as_dict)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


COLUMNS = ("connected_s", "agent_talk_s", "caller_talk_s", "talk_ratio", "silence_s", "longest_silence_s",
           "longest_silence_at_s", "interruptions", "agent_cpm", "caller_cpm")


def scan_conversation(session: Session, config: Config, call_id: int, utts: Sequence[Utterance],
                      agent: Sequence[Utterance], facts: CallContext) -> list[Finding]:
    """Measure the call, store its row (flushed by the caller), return the conversation rules' findings.

    ``agent``: the agent's own utterances (qa.rules.agent_part). No rule fires on a transcript that
    needs review: where the ASR lost the words it would see silence."""
    row = session.get(CallMetrics, call_id)
    connected = connected_spans(facts, agent)
    if not facts.has_transcript or not connected:
        if row is not None:
            session.delete(row)
        return []
    caller = [u for u in utts if u.speaker == "caller"]
    conv = measure(agent, caller, connected, min_overlap_s=config.qa.conversation.interruptions.min_overlap_s)
    figures = conv.as_dict()
    if row is None:
        row = CallMetrics(call_id=call_id)
        session.add(row)
    for name in COLUMNS:
        setattr(row, name, figures[name])
    row.detail = {k: v for k, v in figures.items() if k not in COLUMNS}
    return [] if facts.needs_review else conversation_findings(config, conv)


def conversation_dict(session: Session, call_id: int) -> dict[str, Any] | None:
    """The stored figures of a call (what `hotline calls show` prints), or None: not measured."""
    row = session.scalars(select(CallMetrics).where(CallMetrics.call_id == call_id)).first()
    if row is None:
        return None
    out: dict[str, Any] = {name: getattr(row, name) for name in COLUMNS}
    out.update(row.detail or {})
    out["measured_at"] = row.measured_at
    return out
