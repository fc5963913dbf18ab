"""Tables the transcription package owns: durable jobs, transcripts and their segments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import Base, UTCDateTime, now


class Job(Base):
    """A unit of background work. Claimed atomically; a dead worker's claim expires."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="transcribe")
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued | running | done | failed
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=now)  # back-off for retries
    worker: Mapped[str | None] = mapped_column(String(64))  # host:pid of the claimant
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    audio_s: Mapped[float | None]
    elapsed_s: Mapped[float | None]
    # QA runs after the transcript is saved; its failure never fails the job, it is noted here.
    qa_flags: Mapped[int | None]
    qa_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_jobs_status_run_after", "status", "run_after"),
        # One transcription job per call: enqueueing twice (IVR retry, CLI) is a no-op.
        UniqueConstraint("kind", "call_id", name="uq_jobs_kind_call"),
    )


class Transcript(Base):
    __tablename__ = "transcripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    model: Mapped[str] = mapped_column(String(128))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    duration_s: Mapped[float]
    needs_review: Mapped[bool] = mapped_column(default=False)  # speech detected but no usable text
    review_reason: Mapped[str | None] = mapped_column(Text)
    # Policy phrases checked against the agent's audio (transcribe/spotting.py); None: not checked.
    verified: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    segments: Mapped[list[Segment]] = relationship(
        back_populates="transcript", order_by="Segment.seq", cascade="all, delete-orphan"
    )


class Segment(Base):
    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int]
    speaker: Mapped[str] = mapped_column(String(8))  # agent | caller | unknown
    start_s: Mapped[float]
    end_s: Mapped[float]
    text: Mapped[str] = mapped_column(Text)
    avg_logprob: Mapped[float | None]
    no_speech_prob: Mapped[float | None]
    words: Mapped[list[Any] | None] = mapped_column(JSON)

    transcript: Mapped[Transcript] = relationship(back_populates="segments")
