"""Tables the IVR owns: calls, their menu steps and events, and saved menu versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import Base, UTCDateTime, now


class Call(Base):
    """One inbound call, from AsyncAGIStart to Hangup."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(64), unique=True)  # Asterisk Uniqueid of the caller leg
    linkedid: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(128))
    caller_num: Mapped[str | None] = mapped_column(String(64))
    caller_name: Mapped[str | None] = mapped_column(String(128))
    did: Mapped[str | None] = mapped_column(String(64))  # number dialled (agi_dnid / agi_extension)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | ended | lost
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hangup_cause: Mapped[int | None]
    hangup_cause_txt: Mapped[str | None] = mapped_column(String(64))
    hangup_by: Mapped[str | None] = mapped_column(String(16))  # caller | agent | system
    route_action: Mapped[str | None] = mapped_column(String(16))  # submenu/queue/extension/repeat/hangup
    route_target: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(32))  # feedback category of the route
    agent: Mapped[str | None] = mapped_column(String(128))  # interface/channel of the agent who answered
    # Seconds agents' phones rang before one answered, every attempt (a Dial that rang out, then
    # the fallback queue), overlaps once; per-leg times are on the agent_* events.
    ring_s: Mapped[float | None]
    queue_wait_s: Mapped[float | None]  # time in queue before an agent answered
    talk_s: Mapped[float | None]
    recording_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # offset 0 of the tracks
    menu_version: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)  # what went wrong in our handling, if anything
    menu_path: Mapped[str | None] = mapped_column(String(255))  # "main:1 > orders:1", digits as pressed
    dial_status: Mapped[str | None] = mapped_column(String(16))  # DIALSTATUS / QUEUESTATUS of the last transfer
    agent_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the agent picked up

    steps: Mapped[list[MenuStep]] = relationship(
        back_populates="call", order_by="MenuStep.seq", cascade="all, delete-orphan"
    )
    events: Mapped[list[CallEvent]] = relationship(
        back_populates="call", order_by="CallEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_calls_started_at", "started_at"),)


class MenuStep(Base):
    """One prompt-and-answer of the menu: what was played, what was pressed, what it did."""

    __tablename__ = "menu_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int]
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    menu: Mapped[str] = mapped_column(String(64))
    prompt: Mapped[str | None] = mapped_column(Text)
    digit: Mapped[str | None] = mapped_column(String(4))
    outcome: Mapped[str] = mapped_column(String(16))  # chosen | timeout | invalid | fallback | hangup
    action: Mapped[str | None] = mapped_column(String(16))
    target: Mapped[str | None] = mapped_column(String(64))
    typeahead: Mapped[bool] = mapped_column(default=False)  # digit pressed before the prompt (prompt skipped)

    call: Mapped[Call] = relationship(back_populates="steps")

    __table_args__ = (UniqueConstraint("call_id", "seq"),)


# CallEvent kinds another package reads (QA's hold rule): the agent put the caller on hold / took them off.
HOLD_START = "hold_start"
HOLD_END = "hold_end"
# The timeline of what the caller heard (ivr/timeline.py reads them; QA and transcription use it):
PROMPT_START = "prompt_start"  # STREAM FILE / GET DATA sent: {name, text, command}
PROMPT_END = "prompt_end"  # its result came: {name, result, digit?, endpos?}
TRANSFER_START = "transfer_start"  # EXEC Dial / Queue sent: ringback or queue music until an agent answers
TRANSFER_END = "transfer_end"  # Dial / Queue returned: the agent (if any) is gone
AGENT_ANSWERED = "agent_answered"  # DialEnd ANSWER or AgentConnect: the agent's voice from here


class CallEvent(Base):
    """Things that happened on a call that QA needs: greeting, ringing, answer, hold, hangup."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    call: Mapped[Call] = relationship(back_populates="events")
