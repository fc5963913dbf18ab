"""Tables of the scorecard (issue 15): each call's score, reviewers' answers, agents' appeals.

``call_scores`` is the last computation of a call's score (qa/scorecard.py recomputes it on every
answer, appeal decision and read, so a review made elsewhere is caught up on the next read);
answers and appeals are the facts it is computed from, and are never rewritten: a later answer
to the same item wins, and an appeal keeps who decided it, when and why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from db import Base, UTCDateTime, now

APPEAL_STATUSES = ("open", "upheld", "overturned")


class CallScore(Base):
    """One row per scored call: the score on the configured form and each item's part of it."""

    __tablename__ = "call_scores"

    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[float | None]  # 0-100; NULL while no item is judged (only pending manual items)
    failed: Mapped[bool] = mapped_column(default=False)  # an instant-fail item made it 0
    earned: Mapped[float]
    possible: Mapped[float]  # the points of the items judged so far (pending answers left out)
    team: Mapped[str | None] = mapped_column(String(64))  # qa.scorecard.teams of the call's agent, when scored
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the items (qa.scorecard.score_call)
    inputs: Mapped[str | None] = mapped_column(String(40))  # digest of the form, flags and answers it came from
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class ScoreAnswer(Base):
    """A reviewer's answer to a manual item of a call's scorecard; only added, the latest counts."""

    __tablename__ = "score_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(32))
    value: Mapped[float]  # the points the answer gives (yes = the item's points, no = 0)
    answer: Mapped[str] = mapped_column(String(16))  # as given, normalised: yes | no | a number
    reviewer: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class Appeal(Base):
    """An agent contesting a confirmed flag on its own call, and a lead's decision."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    account: Mapped[str] = mapped_column(String(64))  # the agent account that appealed (by name, like reviews)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="open")  # APPEAL_STATUSES
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)

    # one open appeal per flag, held by the database too (two agents' clicks at once)
    __table_args__ = (Index("uq_appeals_open_flag", "flag_id", unique=True, sqlite_where=text("status = 'open'"),
                            postgresql_where=text("status = 'open'")),)
