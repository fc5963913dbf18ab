"""What reviewers see, as plain dicts: the flag queue and one call with its flags.

Shared by the CLI (``hotline qa list/show``) and the review web page, so both show
the same thing. Everything leaving here has PII masked: segment text, flag context,
and the caller's number (last four digits kept).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ivr.tables import Call
from qa.confidence import shown_severity
from qa.tables import Flag
from recordings.redact import mask_number
from recordings.tables import Recording
from settings import Config
from transcribe.pii import mask_segments
from transcribe.store import segment_dict, segments_in_order, transcript_for_call

STATUSES = ("new", "confirmed", "dismissed")
SORTS = ("confidence", "newest")
CATEGORIES = ("opening", "forbidden", "vague", "closing", "pii", "hangup", "slow-answer", "hold")


class ViewError(ValueError):
    """Bad filter or unknown call: one line for the user."""


def flag_dict(f: Flag, call: Call | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": f.id, "call": f.call_id, "status": f.status, "category": f.category, "rule": f.rule_id,
        "severity": f.severity, "shown_severity": shown_severity(f.severity, f.needs_listening, f.status),
        "confidence": f.confidence, "asr_confidence": f.asr_confidence, "verify_confidence": f.verify_confidence,
        "needs_listening": f.needs_listening, "speaker": f.speaker, "offset_s": f.offset_s, "segment": f.segment_id,
        "matched": f.matched, "context": f.context, "match_start": f.match_start, "match_end": f.match_end,
        "source": f.source, "suggestion": f.suggestion,
        "created_at": f.created_at.isoformat() if f.created_at else None,
        "reviews": [{"reviewer": r.reviewer, "decision": r.decision, "note": r.note, "at": r.at.isoformat()}
                    for r in f.reviews],
    }
    if call is not None:
        out["agent"] = call.agent
        out["call_started_at"] = call.started_at.isoformat() if call.started_at else None
    return out


def list_flags(session: Session, *, status: str | None = None, category: str | None = None,
               agent: str | None = None, since: datetime | None = None, limit: int = 200,
               min_confidence: float | None = None, needs_listening: bool | None = None,
               sort: str = "confidence") -> list[dict[str, Any]]:
    """The queue. ``sort="confidence"``: surest flags first (flags without a score, raised before
    scores existed, last), then newest calls; ``"newest"``: newest calls first."""
    if sort not in SORTS:
        raise ViewError(f"--sort {sort!r}: one of {', '.join(SORTS)}")
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise ViewError(f"--min-confidence {min_confidence!r}: a number from 0 to 1")
    if status and status not in STATUSES:
        raise ViewError(f"--status {status!r}: one of {', '.join(STATUSES)}")
    if category and category not in CATEGORIES:
        raise ViewError(f"--category {category!r}: one of {', '.join(CATEGORIES)}")
    stmt = select(Flag, Call).join(Call, Call.id == Flag.call_id).options(selectinload(Flag.reviews))
    if status:
        stmt = stmt.where(Flag.status == status)
    if category:
        stmt = stmt.where(Flag.category == category)
    if agent:
        stmt = stmt.where(Call.agent.contains(agent))
    if since:
        stmt = stmt.where(Call.started_at >= since)
    if min_confidence is not None:
        stmt = stmt.where(Flag.confidence >= min_confidence)
    if needs_listening is not None:
        stmt = stmt.where(Flag.needs_listening.is_(needs_listening))
    newest = (Call.started_at.desc(), Flag.call_id.desc(), Flag.offset_s, Flag.id)
    order = newest if sort == "newest" else (Flag.confidence.is_(None), Flag.confidence.desc(), *newest)
    stmt = stmt.order_by(*order).limit(limit)
    return [flag_dict(f, c) for f, c in session.execute(stmt).all()]


def call_view(session: Session, config: Config, call_id: int) -> dict[str, Any]:
    call = session.get(Call, call_id)
    if call is None:
        raise ViewError(f"call {call_id}: no such call")
    flags = session.scalars(
        select(Flag).where(Flag.call_id == call_id).options(selectinload(Flag.reviews))
        .order_by(Flag.offset_s, Flag.id)
    ).all()
    by_segment: dict[int, list[Flag]] = {}
    for f in flags:
        if f.segment_id is not None:
            by_segment.setdefault(f.segment_id, []).append(f)
    transcript = transcript_for_call(session, call_id)
    rows = segments_in_order(transcript) if transcript else []
    # masked over the whole call with speakers: a number split across two segments is hidden in
    # both, an agent's own name stays; masking keeps the length, so the marks' offsets hold
    masked = mask_segments([s.text or "" for s in rows], config.qa.pii.mask_kinds, [s.speaker for s in rows])
    segments = []
    for s, text in zip(rows, masked, strict=True):
        marks = [{"flag": f.id, "start": f.match_start, "end": f.match_end, "category": f.category,
                  "rule": f.rule_id} for f in by_segment.get(s.id, []) if f.match_start is not None]
        seg = segment_dict(s)
        seg.pop("words", None)  # unmasked characters: a reviewer sees only the masked text
        segments.append(seg | {"text": text, "marks": marks,
                               "flags": [f.id for f in by_segment.get(s.id, [])]})
    recordings = session.scalars(select(Recording.kind).where(Recording.call_id == call_id)).all()
    return {
        "call": {
            "id": call.id, "caller": mask_number(call.caller_num), "agent": call.agent,
            "started_at": call.started_at.isoformat() if call.started_at else None,
            "ended_at": call.ended_at.isoformat() if call.ended_at else None,
            "route": call.route_target or call.route_action, "category": call.category,
            "hangup_by": call.hangup_by, "ring_s": call.ring_s, "queue_wait_s": call.queue_wait_s,
        },
        "transcript": None if transcript is None else {
            "id": transcript.id, "needs_review": transcript.needs_review, "review_reason": transcript.review_reason,
        },
        "segments": segments,
        "flags": [flag_dict(f) for f in flags],
        "recordings": sorted(recordings),
    }
