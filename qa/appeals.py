"""Appeals (issue 15, 申诉): an agent contests a confirmed flag on its own call; a lead decides.

- An account holding ``accounts.roles.APPEAL`` (an agent) sees its own calls (calls.agent equal to
  its ``agent_id``) with their scores and confirmed flags, and appeals one of those flags with a
  reason. One open appeal per flag (the table's unique index holds it too), and once a lead has
  decided one, the flag cannot be appealed again (the refusal names who decided and when).
- An account holding ``DECIDE_APPEALS`` (lead, admin) upholds the flag or overturns it. Overturning
  dismisses the flag with a review under the lead's name (the audit trail says why), so it leaves
  the call's score and counts as a dismissal in rule health, beside the rule's appeal counts.

The call's score is recomputed after every decision.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.roles import APPEAL, DECIDE_APPEALS, allowed, own_calls_only
from accounts.tables import Account
from db import now
from ivr.tables import Call
from qa.review import review
from qa.scorecard import ScoreError, rescore, score_calls
from qa.scorecard_tables import APPEAL_STATUSES, Appeal
from qa.tables import Flag
from settings import Config
from transcribe.pii import mask

DECISIONS = {"uphold": "upheld", "overturn": "overturned"}
MAX_REASON = 2000


class AppealError(ValueError):
    """An appeal or decision that cannot be made: one line saying why."""


def _own(account: Account, call: Call) -> bool:
    return bool(account.agent_id) and call.agent == account.agent_id


def appeal_dict(a: Appeal, flag: Flag | None = None, call: Call | None = None) -> dict[str, Any]:
    """An appeal as shown; the reason and note are free text, so a caller's number typed in them is masked
    (the row keeps them as written)."""
    out: dict[str, Any] = {
        "id": a.id, "flag": a.flag_id, "call": a.call_id, "account": a.account, "reason": mask(a.reason),
        "status": a.status, "created_at": a.created_at.isoformat() if a.created_at else None,
        "decided_by": a.decided_by, "decided_at": a.decided_at.isoformat() if a.decided_at else None,
        "note": mask(a.note) if a.note else None,
    }
    if flag is not None:  # matched words come from the flag's masked context: no personal data
        out.update(rule=flag.rule_id, category=flag.category, flag_status=flag.status, matched=flag.matched,
                   offset_s=flag.offset_s)
    if call is not None:
        out.update(agent=call.agent, call_started_at=call.started_at.isoformat() if call.started_at else None)
    return out


def file_appeal(session: Session, account: Account, flag_id: int, reason: str) -> dict[str, Any]:
    """``account`` appeals a confirmed flag of its own call; returns the new appeal."""
    if not allowed(account.role, APPEAL):
        raise AppealError(f"account {account.name!r} ({account.role}) may not appeal flags")
    reason = (reason or "").strip()
    if not reason:
        raise AppealError("an appeal needs --reason: say why the flag is wrong")
    if len(reason) > MAX_REASON:
        raise AppealError(f"--reason is longer than {MAX_REASON} characters")
    flag = session.get(Flag, flag_id)
    call = session.get(Call, flag.call_id) if flag is not None else None
    if flag is None or call is None:
        raise AppealError(f"flag {flag_id}: no such flag")
    if own_calls_only(account.role, APPEAL) and not _own(account, call):
        # the same words as for a missing flag would hide nothing useful: the agent knows its calls
        raise AppealError(f"flag {flag_id} is on call {call.id}, which {account.name!r} did not take: "
                          "an agent appeals flags on its own calls only")
    if flag.status != "confirmed":
        raise AppealError(f"flag {flag_id} is {flag.status}: only a confirmed flag can be appealed")
    open_one = session.scalars(select(Appeal).where(Appeal.flag_id == flag_id, Appeal.status == "open")).first()
    if open_one is not None:
        raise AppealError(f"flag {flag_id} already has an open appeal ({open_one.id}, by {open_one.account})")
    decided = session.scalars(select(Appeal).where(Appeal.flag_id == flag_id, Appeal.status != "open")
                              .order_by(Appeal.id.desc())).first()
    if decided is not None:  # a lead's decision is final: filing again would only ask the same question
        when = decided.decided_at.strftime("%Y-%m-%d %H:%M UTC") if decided.decided_at else "earlier"
        raise AppealError(f"flag {flag_id} was appealed already: appeal {decided.id} was {decided.status} by "
                          f"{decided.decided_by} on {when}; a flag is appealed once")
    row = Appeal(flag_id=flag.id, call_id=call.id, account=account.name, reason=reason, status="open")
    session.add(row)
    session.flush()
    return appeal_dict(row, flag, call)


def decide(session: Session, config: Config, appeal_id: int, decision: str, account: Account,
           note: str | None) -> dict[str, Any]:
    """A lead upholds or overturns an open appeal; overturning dismisses the flag. Returns the appeal
    with the call's new score."""
    if not allowed(account.role, DECIDE_APPEALS):
        raise AppealError(f"account {account.name!r} ({account.role}) may not decide appeals")
    status = DECISIONS.get(decision)
    if status is None:
        raise AppealError(f"decision {decision!r}: one of {', '.join(DECISIONS)}")
    note = (note or "").strip()
    if not note:
        raise AppealError("a decision needs --note: the agent is told why")
    row = session.get(Appeal, appeal_id)
    if row is None:
        raise AppealError(f"appeal {appeal_id}: no such appeal")
    if row.status != "open":
        raise AppealError(f"appeal {appeal_id} was {row.status} by {row.decided_by} already")
    row.status, row.decided_by, row.note = status, account.name, note
    row.decided_at = now()
    if status == "overturned":
        review(session, row.flag_id, account.name, "dismissed", f"appeal {row.id} overturned: {note}")
    session.flush()
    flag, call = session.get(Flag, row.flag_id), session.get(Call, row.call_id)
    out = appeal_dict(row, flag, call)
    try:
        out["score"] = rescore(session, config, row.call_id)["score"]
    except ScoreError:  # no scorecard configured: the decision stands without a score
        out["score"] = None
    return out


def list_appeals(session: Session, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Appeals, open ones first then newest (the lead's queue)."""
    if status is not None and status not in APPEAL_STATUSES:
        raise AppealError(f"--status {status!r}: one of {', '.join(APPEAL_STATUSES)}")
    q = select(Appeal, Flag, Call).join(Flag, Flag.id == Appeal.flag_id).join(Call, Call.id == Appeal.call_id)
    if status is not None:
        q = q.where(Appeal.status == status)
    q = q.order_by((Appeal.status != "open"), Appeal.id.desc()).limit(limit)
    return [appeal_dict(a, f, c) for a, f, c in session.execute(q).all()]


def agent_view(session: Session, config: Config, account: Account, limit: int = 50) -> list[dict[str, Any]]:
    """An agent's own calls, newest first: score and confirmed flags, each with its latest appeal."""
    if not allowed(account.role, APPEAL):
        raise AppealError(f"account {account.name!r} ({account.role}) has no calls to appeal on")
    if not account.agent_id:
        raise AppealError(f"account {account.name!r} has no agent id: an admin sets it (`hotline users add "
                          "--agent-id`)")
    calls = list(session.scalars(select(Call).where(Call.agent == account.agent_id)
                                 .order_by(Call.started_at.desc(), Call.id.desc()).limit(limit)))
    flags = session.scalars(select(Flag).where(Flag.call_id.in_([c.id for c in calls]), Flag.status == "confirmed")
                            .order_by(Flag.offset_s)).all()
    latest: dict[int, Appeal] = {a.flag_id: a for a in session.scalars(
        select(Appeal).where(Appeal.flag_id.in_([f.id for f in flags])).order_by(Appeal.id))}
    try:
        scores = {cid: r["score"] for cid, r in score_calls(session, config, calls).items()}
    except ScoreError:  # no scorecard configured: the flags are still worth seeing
        scores = {}
    out = []
    for call in calls:
        score = scores.get(call.id)
        mine = [f for f in flags if f.call_id == call.id]
        out.append({"call": call.id, "started_at": call.started_at.isoformat() if call.started_at else None,
                    "score": score,
                    "flags": [{"flag": f.id, "rule": f.rule_id, "category": f.category, "offset_s": f.offset_s,
                               "matched": f.matched, "suggestion": f.suggestion,
                               "appeal": appeal_dict(latest[f.id]) if f.id in latest else None} for f in mine]})
    return out
