"""QA entry points: ``scan_call`` for a stored call, ``scan_text`` for one utterance.

``scan_call`` is what the transcription worker runs after it saves a transcript
(inside a savepoint of its own transaction: this module never commits). It reads
the call row, its menu steps, its events and its newest transcript, applies every
rule (``qa.rules``) and brings the call's flags in line with what it found:

- each finding has a fingerprint: sha256 of call, rule, and what pins the finding
  down (speaker, segment number, match offset and matched words for text rules,
  but the kind instead of the words for PII: a sha256 of call id and a six-digit
  code is brute-forced in seconds; the kind and start of the wait for holds;
  nothing more for once-per-call rules). A PII flag stored under the old key
  (its digits) is moved to the new one when found again, reviews and all.
  Running twice finds the same fingerprints, so the same flags: never twice as many.
  Segment numbers and text, not segment row ids, go into it, so a transcript saved
  again with the same words keeps its flags (and their reviews).
- a flag found again is refreshed (segment, offset, context) but its ``status``
  is never touched: a reviewer's verdict stands.
- a flag no longer found (the rules or the transcript changed) is deleted only while
  nobody has reviewed it; reviewed flags stay for the audit trail.

Call events read here: the IVR's ``hold_start``/``hold_end`` (ivr.tables.HOLD_START/HOLD_END);
a hold still open when the call ended lasts until the end. ``hangup_request`` (its ``leg``) says
when whoever hung up first did so. The IVR's timeline (ivr/timeline.py:
prompt, transfer and answer events) says where the agent can be heard on the agent track:
only speech there is the agent's (``CallContext.agent_spans``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.recpause import RECORDING_PAUSED, RECORDING_RESUMED
from ivr.tables import HOLD_END, HOLD_START, Call, CallEvent, MenuStep
from ivr.timeline import call_timeline, pauses
from qa.confidence import set_flag_confidence
from qa.conversation_store import scan_conversation
from qa.matcher import Hit, Matcher
from qa.rules import CallContext, Finding, Utterance, agent_part, call_findings, text_hits
from qa.scorecard import refresh_call
from qa.tables import Flag
from qa.verified import apply_verification
from settings import Config, per_rule_set
from transcribe.store import segments_in_order, transcript_for_call
from transcribe.tables import Transcript

USE_PINYIN = True  # homophone matching (phrases of 3+ characters): measured in qa/evaluate.py

_compiled = per_rule_set(lambda rules, regional: Matcher(rules, pinyin=USE_PINYIN, regional=regional))


def matcher_for(config: Config) -> Matcher:
    """The compiled phrase rules of this config (compiled once per set of rules)."""
    return _compiled(config.qa.phrases, config.qa.regional_words)


def scan_text(config: Config, text: str, speaker: str = "agent") -> list[Hit]:
    """Phrase rules and PII on one utterance of ``speaker`` (agent | caller | unknown)."""
    return text_hits(config, matcher_for(config), text, speaker)


def fingerprint(call_id: int, rule: str, key: str) -> str:
    return hashlib.sha256(f"{call_id}\x1f{rule}\x1f{key}".encode()).hexdigest()


def _offset(call: Call, at: datetime | None) -> float | None:
    base = call.recording_started_at or call.started_at
    if at is None or base is None:
        return None
    return (at - base).total_seconds()


def _holds(call: Call, events: Sequence[CallEvent]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    begun: float | None = None
    for ev in sorted(events, key=lambda e: (e.at, e.id)):
        at = _offset(call, ev.at)
        if at is None:
            continue
        if ev.kind == HOLD_START and begun is None:
            begun = at
        elif ev.kind == HOLD_END and begun is not None:
            out.append((begun, at))
            begun = None
    if begun is not None:  # still on hold when the call ended
        end = _offset(call, call.ended_at)
        if end is not None and end > begun:
            out.append((begun, end))
    return out


def _hangup_s(call: Call, events: Sequence[CallEvent]) -> float | None:
    """When whoever hung up first asked to (their leg's first ``hangup_request``), else the call's
    end: after an agent leaves, the IVR plays goodbye before it ends the call."""
    asked = [e.at for e in events if e.kind == "hangup_request" and (e.data or {}).get("leg") == call.hangup_by]
    return _offset(call, min(asked) if asked else call.ended_at)


def call_facts(session: Session, call: Call, transcript: Transcript | None) -> CallContext:
    steps = session.scalars(select(MenuStep.at).where(MenuStep.call_id == call.id)).all()
    events = session.scalars(select(CallEvent).where(CallEvent.call_id == call.id)).all()
    opening_paused, closing_paused = _paused_at(call, events)
    return CallContext(
        agent_answer_s=_offset(call, call.agent_answered_at),
        menu_end_s=_offset(call, max(steps)) if steps else None,
        reached_agent=bool(call.agent) or call.agent_answered_at is not None,
        hangup_by=call.hangup_by,
        hangup_s=_hangup_s(call, events),
        ring_s=call.ring_s,
        queue_wait_s=call.queue_wait_s,
        holds=_holds(call, events),
        needs_review=bool(transcript and transcript.needs_review),
        review_reason=transcript.review_reason if transcript else None,
        has_transcript=transcript is not None,
        agent_spans=_agent_spans(session, call),
        opening_paused=opening_paused,
        closing_paused=closing_paused,
    )


PAUSE_END_SLACK_S = 1.0  # resumed this close to the call's end: no time left on the tracks for a closing line


def _paused_at(call: Call, events: Sequence[CallEvent]) -> tuple[bool, bool]:
    """Whether the recording was paused at pickup (opening) and at the call's end (closing)."""
    marks = [(e.kind, at, dict(e.data or {})) for e in events
             if e.kind in (RECORDING_PAUSED, RECORDING_RESUMED) and (at := _offset(call, e.at)) is not None]
    end, pickup = _offset(call, call.ended_at), _offset(call, call.agent_answered_at)
    spans = [(p.start, p.end) for p in pauses(marks, end)]
    return (pickup is not None and any(a <= pickup < b for a, b in spans),
            end is not None and any(b >= end - PAUSE_END_SLACK_S for _a, b in spans))


def _agent_spans(session: Session, call: Call) -> tuple[tuple[float, float], ...] | None:
    timeline = call_timeline(session, call)
    return tuple(timeline.agent_spans()) if timeline is not None else None


def utterances(transcript: Transcript | None) -> list[Utterance]:
    if transcript is None:
        return []
    return [Utterance(s.seq, s.speaker, s.start_s, s.end_s, s.text or "", s.words, s.id)
            for s in segments_in_order(transcript)]


def scan_call(session: Session, config: Config, call_id: int) -> list[Flag]:
    """Apply every QA rule to a stored call; return its current flags (flushed, not committed)."""
    call = session.get(Call, call_id)
    if call is None:
        raise LookupError(f"call {call_id}: no such call")
    transcript = transcript_for_call(session, call_id)
    utts = utterances(transcript)
    facts = call_facts(session, call, transcript)
    matcher = matcher_for(config)
    findings = call_findings(config, matcher, utts, facts)
    _, agent = agent_part(config, utts, facts)  # only the agent's own speech can hold a garbled phrase
    verified = transcript.verified if transcript is not None else None
    findings = apply_verification(config, findings, agent, verified, matcher)
    findings += scan_conversation(session, config, call_id, utts, agent, facts)  # silence, interruptions, rate
    existing = {f.fingerprint: f for f in session.scalars(select(Flag).where(Flag.call_id == call_id))}
    logprobs = {s.id: s.avg_logprob for s in transcript.segments} if transcript is not None else {}
    current: dict[str, Flag] = {}
    for finding in findings:
        fp = fingerprint(call_id, finding.rule, finding.key)
        if fp in current:
            continue
        flag = existing.get(fp)
        legacy = finding.extra.get("legacy_key")
        if flag is None and isinstance(legacy, str):
            flag = existing.pop(fingerprint(call_id, finding.rule, legacy), None)
            if flag is not None:  # keyed by its digits before: re-keyed by its kind
                flag.fingerprint = fp
                existing[fp] = flag
        if flag is None:
            flag = Flag(call_id=call_id, fingerprint=fp, status="new")
            session.add(flag)
        _fill(flag, finding)
        # confidence (qa/confidence.py): the segment's ASR score and, when transcribe/verify.py checked
        # the phrase against the audio, its score (Finding.extra["verify_score"])
        verify = finding.extra.get("verify_score")
        set_flag_confidence(flag, logprobs.get(flag.segment_id) if flag.segment_id is not None else None,
                            float(verify) if isinstance(verify, int | float) else None)
        current[fp] = flag
    for fp, flag in existing.items():
        if fp not in current and flag.status == "new" and not flag.reviews:
            session.delete(flag)
    session.flush()
    refresh_call(session, config, call_id)  # the reports read stored scores: a rescan's flags count at once
    return sorted(current.values(), key=lambda f: (f.offset_s if f.offset_s is not None else -1.0, f.id))


def _fill(flag: Flag, f: Finding) -> None:
    """Everything but the status: a reviewer's verdict is never reset by a scan."""
    flag.rule_id = f.rule
    flag.category = f.category
    flag.severity = f.severity
    flag.speaker = f.speaker
    flag.segment_id = f.utterance.segment_id if f.utterance else None
    flag.offset_s = round(f.offset_s, 3) if f.offset_s is not None else None
    flag.matched = f.matched
    flag.context = f.context
    flag.match_start = f.start
    flag.match_end = f.end
    flag.source = f.source or None
    flag.suggestion = f.suggestion
