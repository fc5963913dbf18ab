"""What reviewers see, as plain dicts: the flag queue and one call with its flags.

Shared by the CLI (``hotline qa list/show``) and the review web page, so both show
the same thing. Everything leaving here has PII masked: segment text, flag context,
and the caller's number (last four digits kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Join, Select, func, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload
from sqlalchemy.sql.compiler import SQLCompiler

from ivr.tables import Call, MenuStep
from qa.confidence import shown_severity
from qa.tables import Flag
from recordings.redact import mask_number
from recordings.tables import Recording
from settings import FLAG_CATEGORIES, Config
from transcribe.pii import mask_segments
from transcribe.store import segment_dict, segments_in_order, transcript_for_call

STATUSES = ("new", "confirmed", "dismissed")
SORTS = ("confidence", "newest", "oldest", "severity")
SEVERITIES = ("high", "medium", "low")
SEVERITY_RANK = {sev: rank for rank, sev in enumerate(SEVERITIES)}
CATEGORIES = FLAG_CATEGORIES  # every category a flag may carry (the conversation rules' too)


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


@dataclass(frozen=True)
class FlagFilter:
    """Which flags the queue shows; every field optional (None: any)."""

    status: str | None = None
    category: str | None = None
    rule: str | None = None
    severity: str | None = None
    agent: str | None = None  # part of the agent's name
    route: str | None = None  # where the menu sent the call (a queue, an extension)
    since: datetime | None = None  # calls started at or after
    until: datetime | None = None  # ... and before
    min_confidence: float | None = None
    max_confidence: float | None = None  # exclusive, so bands 0.5-0.8 and 0.8-1 do not overlap
    needs_listening: bool | None = None

    def check(self) -> None:
        if self.status and self.status not in STATUSES:
            raise ViewError(f"--status {self.status!r}: one of {', '.join(STATUSES)}")
        if self.category and self.category not in CATEGORIES:
            raise ViewError(f"--category {self.category!r}: one of {', '.join(CATEGORIES)}")
        if self.severity and self.severity not in SEVERITIES:
            raise ViewError(f"--severity {self.severity!r}: one of {', '.join(SEVERITIES)}")
        for bound in (self.min_confidence, self.max_confidence):
            if bound is not None and not 0.0 <= bound <= 1.0:
                raise ViewError(f"--min-confidence {bound!r}: a number from 0 to 1")

    def apply(self, stmt: Select[Any], *, with_status: bool = True, by_index: bool = True) -> Select[Any]:
        """``stmt`` (on flags) narrowed to these flags. The call's filters pick call ids in a subquery,
        so counting needs no join (the few matching calls' flags are found by ``flags.call_id``).

        ``by_index=False`` writes the flag's own tests (status, category, rule, severity) as
        expressions no index serves: walking the calls in time order (``_in_call_order``), SQLite
        then finds each call's flags by ``flags.call_id`` rather than by status and severity (its
        planner has no statistics to choose so itself)."""

        def plain(column: InstrumentedAttribute[str]) -> ColumnElement[str]:
            return column if by_index else column + ""

        conditions: list[ColumnElement[bool]] = []
        if self.status and with_status:
            conditions.append(plain(Flag.status) == self.status)
        if self.category:
            conditions.append(plain(Flag.category) == self.category)
        if self.rule:
            conditions.append(plain(Flag.rule_id) == self.rule)
        if self.severity:
            conditions.append(plain(Flag.severity) == self.severity)
        on_call: list[ColumnElement[bool]] = []
        if self.agent:
            on_call.append(Call.agent.contains(self.agent))
        if self.route:
            on_call.append(Call.route_target == self.route)
        if self.since:
            on_call.append(Call.started_at >= self.since)
        if self.until:
            on_call.append(Call.started_at < self.until)
        if on_call:
            conditions.append(Flag.call_id.in_(select(Call.id).where(*on_call)))
        if self.min_confidence is not None:
            conditions.append(Flag.confidence >= self.min_confidence)
        if self.max_confidence is not None:
            conditions.append(Flag.confidence < self.max_confidence)
        if self.needs_listening is not None:
            conditions.append(Flag.needs_listening.is_(self.needs_listening))
        return stmt.where(*conditions)


def list_flags(session: Session, *, status: str | None = None, category: str | None = None,
               agent: str | None = None, since: datetime | None = None, limit: int = 200,
               min_confidence: float | None = None, needs_listening: bool | None = None,
               sort: str = "confidence", where: FlagFilter | None = None, offset: int = 0) -> list[dict[str, Any]]:
    """The queue. ``sort="confidence"``: surest flags first (flags without a score, raised before
    scores existed, last), then newest calls; ``"newest"``/``"oldest"``: by the call's start;
    ``"severity"``: high first. ``where`` (the web queue's filters) replaces the keyword filters."""
    if sort not in SORTS:
        raise ViewError(f"--sort {sort!r}: one of {', '.join(SORTS)}")
    where = where or FlagFilter(status=status, category=category, agent=agent, since=since,
                                min_confidence=min_confidence, needs_listening=needs_listening)
    where.check()
    if sort != "confidence":
        return [flag_dict(f, c) for f, c in _in_call_order(session, where, sort, max(0, offset), limit)]
    # one status's flags are read surest first from ix_flags_status_confidence (with a rule or severity:
    # ix_flags_rule_status, ix_flags_severity_status; revision 0009), down to the page's end
    stmt = where.apply(select(Flag, Call).join(Call, Call.id == Flag.call_id).options(selectinload(Flag.reviews)))
    stmt = stmt.order_by(Flag.confidence.desc().nulls_last(), *NEWEST)  # the confidence index's own order
    return [flag_dict(f, c) for f, c in session.execute(stmt.offset(max(0, offset)).limit(limit)).all()]


NEWEST = (Call.started_at.desc(), Flag.call_id.desc(), Flag.offset_s, Flag.id)
OLDEST = (Call.started_at, Flag.call_id, Flag.offset_s, Flag.id)
WALK_FROM = 2000  # flags in a group from which walking the calls in time order beats sorting the group


class _CallsFirst(Join):
    """``calls CROSS JOIN flags ON ...`` on SQLite: its planner keeps a CROSS JOIN's order (its documented
    way to fix one). Without statistics it picks the flags by status and sorts them all by their call's
    start (250-400 ms for the 25,000 unreviewed of 50,000); walking ix_calls_started_at and each call's
    flags by call_id stops at the page's end instead. Other databases get a plain join."""

    inherit_cache = True


@compiles(_CallsFirst, "sqlite")
def _calls_first(join: _CallsFirst, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.visit_join(join, **kw).replace(" JOIN ", " CROSS JOIN ", 1)  # the first is this one


def _in_call_order(session: Session, where: FlagFilter, sort: str, offset: int, limit: int) -> list[Any]:
    """(flag, call) rows by their call's start, newest or oldest first; ``severity``: high first, then newest,
    as one query per severity (each group counted, to skip what the earlier pages took). A big group walks
    the calls in time order (_CallsFirst), a small one (a rare filter) is found by its index and sorted."""
    def groups(severity: ColumnElement[str]) -> list[ColumnElement[bool]]:
        if sort != "severity":
            return [true()]
        each = [severity == sev for sev in SEVERITIES if where.severity in (None, sev)]
        return [*each, severity.not_in(SEVERITIES)] if where.severity is None else each  # anything else last

    out: list[Any] = []
    # walking the calls, the flag's own tests are expressions (by_index=False): with bound parameters SQLite
    # would otherwise look each call's flags up by status and severity instead of by call_id
    for group, plain in zip(groups(Flag.severity), groups(Flag.severity + ""), strict=True):
        if limit <= 0:
            break
        n = session.scalar(where.apply(select(func.count()).select_from(Flag)).where(group)) or 0
        if n <= offset:
            offset -= n
            continue
        on, walk = Call.id == Flag.call_id, n >= WALK_FROM
        joined = _CallsFirst(Call.__table__, Flag.__table__, on) if walk else Flag.__table__.join(Call.__table__, on)
        stmt = where.apply(select(Flag, Call).select_from(joined).options(selectinload(Flag.reviews)),
                           by_index=not walk).where(plain if walk else group)
        rows = session.execute(stmt.order_by(*(OLDEST if sort == "oldest" else NEWEST)).offset(offset)
                               .limit(limit)).all()
        out += rows
        limit -= len(rows)
        offset = 0
    return out


def status_counts(session: Session, where: FlagFilter) -> dict[str, int]:
    """How many flags each status holds under the other filters (the queue's tabs)."""
    where.check()
    stmt = where.apply(select(Flag.status, func.count()), with_status=False)
    got: dict[str, int] = {status: n for status, n in session.execute(stmt.group_by(Flag.status))}
    return {s: got.get(s, 0) for s in STATUSES}


def filter_choices(session: Session) -> dict[str, list[str]]:
    """The values the queue's filters can take: the rules flags were raised by, the agents and routes of calls."""
    return {
        "rules": sorted(session.scalars(select(Flag.rule_id).distinct())),
        "agents": sorted(a for a in session.scalars(select(Call.agent).distinct()) if a),
        "routes": sorted(r for r in session.scalars(select(Call.route_target).distinct()) if r),
    }


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
    steps = session.scalars(select(MenuStep).where(MenuStep.call_id == call_id).order_by(MenuStep.seq)).all()
    return {
        "call": {
            "id": call.id, "caller": mask_number(call.caller_num), "agent": call.agent,
            "started_at": call.started_at.isoformat() if call.started_at else None,
            "ended_at": call.ended_at.isoformat() if call.ended_at else None,
            "route": call.route_target or call.route_action, "category": call.category,
            "hangup_by": call.hangup_by, "ring_s": call.ring_s, "queue_wait_s": call.queue_wait_s,
            "menu_path": [{"menu": m.menu, "digit": m.digit, "outcome": m.outcome, "action": m.action,
                           "target": m.target} for m in steps],
        },
        "transcript": None if transcript is None else {
            "id": transcript.id, "needs_review": transcript.needs_review, "review_reason": transcript.review_reason,
        },
        "segments": segments,
        "flags": [flag_dict(f) for f in flags],
        "recordings": sorted(recordings),
    }
