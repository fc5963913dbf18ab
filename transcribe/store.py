"""Transcripts in the database: an engine result -> Transcript + Segment rows, and back to JSON.

The JSON of a stored transcript has the shape `hotline transcribe --json` prints for a file,
so scripts read both the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from transcribe.tables import Segment, Transcript


class WordLike(Protocol):
    start: float
    end: float
    word: str
    probability: float


class SegmentLike(Protocol):
    speaker: str
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    words: Sequence[WordLike] | None


class ResultLike(Protocol):
    """What transcribe.engine.CallResult offers (a call or a single file)."""

    @property
    def duration(self) -> float: ...
    @property
    def segments(self) -> Sequence[SegmentLike]: ...
    @property
    def needs_review(self) -> bool: ...
    @property
    def review_reasons(self) -> Sequence[str]: ...


def save_transcript(
    session: Session,
    result: ResultLike,
    *,
    call_id: int | None,
    job_id: int | None,
    model: str,
    options: dict[str, Any],
) -> Transcript:
    """Add the transcript and its segments (ordered by time) to the session; flushes for ids.

    A call has one transcript: an older one (from a job retried by hand) is replaced."""
    if call_id is not None:
        session.execute(delete(Transcript).where(Transcript.call_id == call_id))
    reasons = list(result.review_reasons)
    row = Transcript(
        call_id=call_id,
        job_id=job_id,
        model=model,
        options=options,
        duration_s=float(result.duration),
        needs_review=bool(result.needs_review),
        review_reason="; ".join(reasons) if reasons else None,
    )
    for seq, seg in enumerate(result.segments):
        words = None
        if seg.words is not None:
            words = [[float(w.start), float(w.end), w.word, round(float(w.probability), 4)] for w in seg.words]
        row.segments.append(
            Segment(
                seq=seq,
                speaker=seg.speaker,
                start_s=float(seg.start),
                end_s=float(seg.end),
                text=seg.text,
                avg_logprob=float(seg.avg_logprob),
                no_speech_prob=float(seg.no_speech_prob),
                words=words,
            )
        )
    session.add(row)
    session.flush()
    return row


def transcript_for_call(session: Session, call_id: int) -> Transcript | None:
    stmt = (
        select(Transcript)
        .where(Transcript.call_id == call_id)
        .options(selectinload(Transcript.segments))
        .order_by(Transcript.id.desc())
    )
    return session.scalars(stmt).first()


def segment_dict(s: Segment) -> dict[str, Any]:
    """One stored segment in the one JSON shape every reader prints (times in seconds)."""
    seg: dict[str, Any] = {
        "id": s.id,
        "seq": s.seq,
        "speaker": s.speaker,
        "start": s.start_s,
        "end": s.end_s,
        "text": s.text,
        "avg_logprob": None if s.avg_logprob is None else round(s.avg_logprob, 4),
        "no_speech_prob": None if s.no_speech_prob is None else round(s.no_speech_prob, 4),
    }
    if s.words is not None:
        seg["words"] = s.words
    return seg


def segments_in_order(row: Transcript) -> list[Segment]:
    return sorted(row.segments, key=lambda s: (s.start_s, s.seq))


def transcript_dict(row: Transcript) -> dict[str, Any]:
    """A stored transcript as `hotline transcribe --json` prints it (plus ids and the model)."""
    segments = [segment_dict(s) for s in segments_in_order(row)]
    return {
        "call_id": row.call_id,
        "job_id": row.job_id,
        "model": row.model,
        "duration": round(row.duration_s, 3),
        "needs_review": row.needs_review,
        "review_reasons": row.review_reason.split("; ") if row.review_reason else [],
        "segments": segments,
    }
