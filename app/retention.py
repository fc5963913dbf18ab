"""Retention that keeps what is still needed (`hotline recordings purge`, `hold`: app/retention_commands.py).

recordings/store.purge deletes by age; this module tells it which calls' recordings must
stay, reading tables that sit above the recordings package (so the check lives here, in app,
which may import every layer):

- a flag nobody has reviewed yet (``new``): the reviewer must be able to listen;
- a confirmed flag: the recording is the evidence;
- a transcription job not done (queued, running, or failed and so retryable);
- a legal hold.

Legal holds are CallEvent rows (``legal_hold`` / ``legal_hold_released``), the latest of
which decides. No schema change: the calls table already carries the event log, and the
rows are an audit trail of who held and released what, and when, which a flag column would
not be.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.tables import CallEvent
from qa.tables import Flag
from transcribe.tables import Job

HOLD = "legal_hold"
RELEASE = "legal_hold_released"
_UNFINISHED = ("queued", "running", "failed")


def keep_reasons(s: Session, call_ids: set[int]) -> dict[int, str]:
    """call id -> why its recordings stay, for the calls among ``call_ids`` that must keep them."""
    if not call_ids:
        return {}
    out: dict[int, str] = {}
    ids = sorted(call_ids)
    for call_id, status in s.execute(select(Flag.call_id, Flag.status).where(Flag.call_id.in_(ids))):
        if status == "new":
            out.setdefault(call_id, "unreviewed flag")
        elif status == "confirmed":
            out[call_id] = out.get(call_id) or "confirmed flag (evidence)"
    for call_id, status in s.execute(select(Job.call_id, Job.status).where(Job.call_id.in_(ids),
                                                                          Job.status.in_(_UNFINISHED))):
        out.setdefault(call_id, f"transcription {status}")
    for call_id in held(s, ids):
        out[call_id] = "legal hold"  # the strongest reason: shown over the others
    return out


def held(s: Session, call_ids: list[int] | None = None) -> set[int]:
    """Calls whose latest hold event is a hold, not a release."""
    stmt = select(CallEvent.call_id, CallEvent.kind).where(CallEvent.kind.in_((HOLD, RELEASE)))
    if call_ids is not None:
        stmt = stmt.where(CallEvent.call_id.in_(call_ids))
    latest: dict[int, str] = {}
    for call_id, kind in s.execute(stmt.order_by(CallEvent.at, CallEvent.id)):
        latest[call_id] = kind
    return {c for c, k in latest.items() if k == HOLD}
