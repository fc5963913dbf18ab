"""Reading the call log: what `hotline calls list/show` and the demo print.

Plain dicts (JSON-ready), built from the IVR's tables and, when those packages have
written them, the transcript segments and the QA flags of each call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import db
from ivr.recpause import is_paused
from ivr.tables import Call, CallEvent, MenuStep
from ivr.timeline import pauses
from qa.conversation_store import conversation_dict
from qa.tables import Flag
from recordings.redact import mask_number
from recordings.tables import Recording
from transcribe.pii import KINDS, mask_segments
from transcribe.privacy import mask_transcript
from transcribe.store import transcript_dict, transcript_for_call
from transcribe.tables import Job

__all__ = ["call_detail", "find_call", "list_calls", "mask_digit_runs", "transcript_snippet"]

LONG_DIGITS = re.compile(r"\d{7,}")  # a phone number in a channel name (SIP/13812348003-0000002a)


def mask_digit_runs(value: Any) -> Any:
    """Strings (also inside dicts and lists) with each run of 7+ digits masked, last 4 kept."""
    if isinstance(value, str):
        return LONG_DIGITS.sub(lambda m: mask_number(m.group()) or "", value)
    if isinstance(value, dict):
        return {k: mask_digit_runs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_digit_runs(v) for v in value]
    return value


def _duration(call: Call) -> float | None:
    if call.ended_at is None:
        return None
    return round((call.ended_at - call.started_at).total_seconds(), 1)


def _route(call: Call) -> str | None:
    if call.route_action is None:
        return None
    return f"{call.route_action} {call.route_target}" if call.route_target else call.route_action


def _summary(call: Call, unmask: bool) -> dict[str, Any]:
    return {
        "id": call.id, "uniqueid": call.uniqueid, "caller": call.caller_num if unmask else mask_number(call.caller_num),
        "caller_name": call.caller_name if unmask or not call.caller_name else call.caller_name[0] + "*" * 2,
        "did": call.did, "started_at": call.started_at, "ended_at": call.ended_at, "duration_s": _duration(call),
        "status": call.status, "path": call.menu_path, "route": _route(call), "agent": call.agent,
        "hangup_by": call.hangup_by, "ring_s": call.ring_s,
        "error": call.error if unmask else mask_digit_runs(call.error),
    }  # fmt: skip


def list_calls(
    url: str, since: datetime | None = None, limit: int = 50, *, unmask: bool = False
) -> list[dict[str, Any]]:
    """Newest first, each with its flag count and transcription status; caller numbers masked unless asked."""
    with db.transaction(url) as s:
        stmt = select(Call).order_by(Call.started_at.desc(), Call.id.desc()).limit(limit)
        if since is not None:
            stmt = stmt.where(Call.started_at >= since)
        calls = list(s.scalars(stmt))
        ids = [c.id for c in calls]
        flags = dict(s.execute(select(Flag.call_id, func.count()).where(Flag.call_id.in_(ids))
                               .group_by(Flag.call_id)).all()) if ids else {}
        jobs = dict(s.execute(select(Job.call_id, Job.status).where(Job.call_id.in_(ids))).all()) if ids else {}
        out = []
        for c in calls:
            row = _summary(c, unmask)
            row["flags"] = flags.get(c.id, 0)
            row["transcription"] = jobs.get(c.id)
            out.append(row)
        return out


def find_call(s: Session, ref: str) -> Call | None:
    """A call by row id or by Asterisk Uniqueid."""
    if ref.isdigit():
        call = s.get(Call, int(ref))
        if call is not None:
            return call
    return s.scalars(select(Call).where(Call.uniqueid == ref)).first()


def call_detail(url: str, ref: str, *, unmask: bool = False,
                mask_kinds: Sequence[str] = KINDS) -> dict[str, Any] | None:
    """Everything about one call: steps, events, recordings, transcript, flags.

    Personal data (the caller id, ``mask_kinds`` said in the transcript, long digit runs in the
    channel and in event data) is masked unless ``unmask``; word timings, which spell the text out
    again, only come unmasked. The transcript is masked over the whole call with each segment's
    speaker: a number split across two segments is hidden in both, an agent's own name stays.
    Flag excerpts were masked when the flag was raised (qa.rules)."""
    with db.transaction(url) as s:
        call = find_call(s, ref)
        if call is None:
            return None
        out = _summary(call, unmask)
        out.update({
            "channel": call.channel if unmask else mask_digit_runs(call.channel),
            "linkedid": call.linkedid, "answered_at": call.answered_at,
            "hangup_cause": call.hangup_cause, "hangup_cause_txt": call.hangup_cause_txt,
            "category": call.category, "queue_wait_s": call.queue_wait_s, "talk_s": call.talk_s,
            "dial_status": call.dial_status, "agent_answered_at": call.agent_answered_at,
            "recording_started_at": call.recording_started_at, "menu_version": call.menu_version,
        })  # fmt: skip
        steps = s.scalars(select(MenuStep).where(MenuStep.call_id == call.id).order_by(MenuStep.seq))
        out["steps"] = [{"seq": m.seq, "at": m.at, "menu": m.menu, "digit": m.digit, "outcome": m.outcome,
                         "action": m.action, "target": m.target, "typeahead": m.typeahead} for m in steps]
        events = list(s.scalars(select(CallEvent).where(CallEvent.call_id == call.id).order_by(CallEvent.id)))
        out["events"] = [{"at": e.at, "kind": e.kind, "data": e.data if unmask else mask_digit_runs(e.data)}
                         for e in events]
        out["paused"] = _pauses(call, events)
        recs = s.scalars(select(Recording).where(Recording.call_id == call.id).order_by(Recording.id))
        out["recordings"] = [{"kind": r.kind, "path": r.path, "status": r.status, "duration_s": r.duration_s,
                              "size_bytes": r.size_bytes} for r in recs]
        job = s.scalars(select(Job).where(Job.call_id == call.id)).first()
        out["transcription"] = {"status": job.status, "error": job.error} if job else None
        tr = transcript_for_call(s, call.id)
        out["transcript"] = transcript_dict(tr) if tr is not None else None
        out["conversation"] = conversation_dict(s, call.id)
        if out["transcript"] is not None and not unmask:
            out["transcript"] = mask_transcript(out["transcript"], mask_kinds)
        flags = s.scalars(select(Flag).where(Flag.call_id == call.id).order_by(Flag.offset_s, Flag.id))

        def shown(text: str | None, speaker: str | None) -> str | None:
            # stored masked by qa.rules; masked again here for flags raised by older rules
            if unmask or text is None:
                return text
            return mask_segments([text], mask_kinds, [speaker or "unknown"])[0]

        out["flags"] = [{"id": f.id, "rule": f.rule_id, "category": f.category, "severity": f.severity,
                         "speaker": f.speaker, "offset_s": f.offset_s, "matched": shown(f.matched, f.speaker),
                         "context": shown(f.context, f.speaker), "status": f.status} for f in flags]
        return out


def _pauses(call: Call, events: Sequence[CallEvent]) -> list[dict[str, Any]]:
    """The recording's pauses (a collect menu, `calls pause`), in seconds from the recording's start,
    as the call's timeline has them (ivr.timeline.pauses); an unfinished pause ends with the call."""
    base = call.recording_started_at or call.started_at
    end = (call.ended_at - base).total_seconds() if call.ended_at is not None else None
    stretches = pauses([(e.kind, (e.at - base).total_seconds(), dict(e.data or {})) for e in events], end)
    still = call.ended_at is None and is_paused(events)  # the last one goes on
    return [{"start": round(p.start, 1), "end": round(p.end, 1), "via": p.name,
             "open": still and i == len(stretches) - 1} for i, p in enumerate(stretches)]


def transcript_snippet(detail: dict[str, Any], speaker: str = "agent", limit: int = 40) -> str:
    """The first words one side said (for summary tables).

    The agent track (MixMonitor t()) also holds the IVR's prompts, so for the agent only
    what comes after the agent picked up is taken."""
    tr = detail.get("transcript") or {}
    start = 0.0
    answered, rec = detail.get("agent_answered_at"), detail.get("recording_started_at")
    if speaker == "agent":
        if answered is None or rec is None:
            return ""
        start = (answered - rec).total_seconds() - 0.5
    text = "".join(seg["text"] for seg in tr.get("segments", [])
                   if seg["speaker"] == speaker and seg["end"] > start)
    return text[:limit] + ("…" if len(text) > limit else "")
