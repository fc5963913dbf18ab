"""Tables QA owns: flags raised on calls and every review of them (the audit trail)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import Base, UTCDateTime, now


class Flag(Base):
    """A possible breach of the service policy, waiting for a person's verdict."""

    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id", ondelete="SET NULL"))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)  # same finding twice = same flag
    rule_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(8))
    speaker: Mapped[str | None] = mapped_column(String(8))
    offset_s: Mapped[float | None]  # where in the recording to start playing
    matched: Mapped[str | None] = mapped_column(Text)  # the words that matched
    context: Mapped[str | None] = mapped_column(Text)  # the sentence, PII masked
    match_start: Mapped[int | None]  # the match's span in ``context`` (for highlighting)
    match_end: Mapped[int | None]
    source: Mapped[str | None] = mapped_column(Text)  # seed rulebook and section
    suggestion: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="new")  # new | confirmed | dismissed
    # How sure we are (issue 11): the ASR's own score of the matched segment, the decoder's
    # score of the phrase against the audio (NULL when not checked), and the two combined
    # (qa.confidence.flag_confidence). NULL everywhere on flags raised before revision 0002.
    asr_confidence: Mapped[float | None]
    verify_confidence: Mapped[float | None]
    confidence: Mapped[float | None] = mapped_column(index=True)
    # an unsure flag asks a reviewer to listen rather than accuse (shown as "listen", not its severity)
    needs_listening: Mapped[bool] = mapped_column(default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    reviews: Mapped[list[Review]] = relationship(
        back_populates="flag", order_by="Review.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_flags_status_category", "status", "category"),
        # revision 0009 (issue 14's page times): the reports' grouped counts read these without the rows
        Index("ix_flags_call_facts", "call_id", "rule_id", "category", "status", "needs_listening", "severity",
              "confidence"),
        Index("ix_flags_status_confidence", "status", "confidence"),  # the queue, surest first
        Index("ix_flags_rule_status", "rule_id", "status", "confidence"),  # the queue's rule filter
        Index("ix_flags_severity_status", "severity", "status", "confidence"),
    )


class Review(Base):
    """One reviewer's decision on a flag; never updated, only added."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id", ondelete="CASCADE"), index=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(12))  # confirmed | dismissed
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    flag: Mapped[Flag] = relationship(back_populates="reviews")
