"""Scorecards and appeals in the review app (issue 15): what `hotline qa score / appeal / appeals` do.

- The call page's scorecard panel (``scorecard_context``, read by web/calls.py): the call's score,
  each item's points kept or lost and to which flags, instant fails; reviewers (REVIEW) answer the
  manual items there (POST /calls/{id}/score), which rescores the call.
- An agent's own calls (APPEAL, own calls only: calls.agent == the account's agent_id): /my/calls
  lists them with their scores and confirmed flags, /my/calls/{id} shows one call's scorecard and
  its redacted audio, and each confirmed flag has an appeal form (POST /flags/{id}/appeal). Another
  agent's call is 403. Agents land there after signing in (web/auth.AGENT_HOME): they have no queue.
- Leads (DECIDE_APPEALS): /appeals (open ones by default), uphold or overturn with a note
  (POST /appeals/{id}/decide); overturning dismisses the flag, so it leaves the score.

The work is done by qa/scorecard.py and qa/appeals.py, the functions the CLI calls; every answer,
appeal and decision is written to the access log under the signed-in account, as the CLI does.
Their refusals are one English line (written for the CLI) shown as the error page's detail under
a translated message.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

import db
from accounts.roles import APPEAL, DECIDE_APPEALS, REVIEW, own_calls_only
from accounts.tables import Account
from accounts.users import record_access
from ivr.tables import Call
from qa.appeals import AppealError, agent_view, appeal_dict, decide, file_appeal, list_appeals
from qa.scorecard import ScoreError, record_answers, rescore, score_calls
from qa.scorecard_tables import APPEAL_STATUSES, Appeal, CallScore
from qa.tables import Flag
from recordings.redacted import is_redacted
from recordings.tables import Recording
from settings import Config
from web.auth import VIA, address, require
from web.i18n import N_
from web.templating import render

ALL = "all"
router = APIRouter()
Reviewer = Annotated[Account, Depends(require(REVIEW))]
Agent = Annotated[Account, Depends(require(APPEAL))]
Lead = Annotated[Account, Depends(require(DECIDE_APPEALS))]


def _card(session: Session, cfg: Config, call: Call) -> dict[str, Any]:
    """``card`` (qa.scorecard.rescore's breakdown) or ``card_note`` (why this call has no score)."""
    if not cfg.qa.scorecard.items:
        return {"card": None, "card_note": N_("No scorecard is configured (qa.scorecard in config.yaml).")}
    if not call.agent:
        return {"card": None, "card_note": N_("No agent took this call, so it has no score.")}
    kinds = {i.id: i.answer for i in cfg.qa.scorecard.items if i.answer}  # yes_no | points: the form's controls
    return {"card": rescore(session, cfg, call.id), "card_note": None, "answer_kinds": kinds}


def scorecard_context(session: Session, cfg: Config, call_id: int) -> dict[str, Any]:
    """What the call page's scorecard panel shows (the stored score is brought up to date on the way), and
    ``appeals``: each flag's latest appeal, shown with the flag."""
    call = session.get(Call, call_id)
    if call is None:
        return {"card": None, "card_note": None, "appeals": {}}
    return _card(session, cfg, call) | {"appeals": _latest_appeals(session, call_id)}


def _latest_appeals(session: Session, call_id: int) -> dict[int, dict[str, Any]]:
    rows = session.scalars(select(Appeal).where(Appeal.call_id == call_id).order_by(Appeal.id))
    return {a.flag_id: appeal_dict(a) for a in rows}  # the latest wins


@router.post("/calls/{call_id}/score")
def answer_items(request: Request, call_id: int, account: Reviewer,
                 item: Annotated[list[str] | None, Form()] = None,
                 value: Annotated[list[str] | None, Form()] = None) -> Response:
    """A reviewer's answers to the manual items (pairs ``item``/``value``; an empty value is no answer)."""
    given = {i: v.strip() for i, v in zip(item or [], value or [], strict=False) if v.strip()}
    if not given:
        raise HTTPException(400, N_("Answer at least one item."))
    try:
        with db.transaction(request.app.state.cfg.database_url) as s:
            record_answers(s, request.app.state.cfg, call_id, account.name, given)
            record_access(s, account.name, "score-answer",
                          f"call {call_id} " + " ".join(f"{k}={v}" for k, v in given.items()), VIA,
                          address=address(request))
    except ScoreError as exc:
        raise HTTPException(400, {"message": N_("The answers were not recorded."), "detail": str(exc)}) from None
    return RedirectResponse(f"/calls/{call_id}#scorecard", status_code=303)


def _own_call(session: Session, account: Account, call_id: int) -> Call:
    """The call, if this account may see it on its own-calls pages: 404 for none, 403 for another agent's."""
    call = session.get(Call, call_id)
    if call is None:
        raise HTTPException(404, {"message": N_("No such call."), "detail": call_id})
    if own_calls_only(account.role, APPEAL) and (not account.agent_id or call.agent != account.agent_id):
        raise HTTPException(403, N_("This is another agent's call."))
    return call


def _confirmed_flags(session: Session, call_id: int) -> list[dict[str, Any]]:
    """The call's confirmed flags, each with its latest appeal (as qa.appeals.agent_view gives them)."""
    flags = session.scalars(select(Flag).where(Flag.call_id == call_id, Flag.status == "confirmed")
                            .order_by(Flag.offset_s)).all()
    latest = _latest_appeals(session, call_id)
    return [{"flag": f.id, "rule": f.rule_id, "category": f.category, "offset_s": f.offset_s, "matched": f.matched,
             "suggestion": f.suggestion, "appeal": latest.get(f.id)} for f in flags]


@router.get("/my/calls")
def my_calls(request: Request, account: Agent) -> Response:
    cfg = request.app.state.cfg
    try:
        with db.transaction(cfg.database_url) as s:
            calls = agent_view(s, cfg, account)
    except AppealError as exc:  # an agent account without an agent id
        raise HTTPException(400, {"message": N_("This account has no agent ID: ask an admin to set it."),
                                  "detail": str(exc)}) from None
    return render(request, "my_calls.html", {"calls": calls})


@router.get("/my/calls/{call_id}")
def my_call(request: Request, call_id: int, account: Agent) -> Response:
    cfg = request.app.state.cfg
    with db.transaction(cfg.database_url) as s:
        call = _own_call(s, account, call_id)
        started = call.started_at
        card = _card(s, cfg, call)
        flags = _confirmed_flags(s, call_id)
        # what /calls/{id}/audio serves an agent: a redacted copy (personal data toned out), never the original
        audio = any(is_redacted(k) for k in s.scalars(select(Recording.kind).where(Recording.call_id == call_id)))
    return render(request, "my_call.html", {"call_id": call_id, "started": started, **card, "flags": flags,
                                            "audio": audio})


@router.post("/flags/{flag_id}/appeal")
def appeal(request: Request, flag_id: int, account: Agent,
           reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    try:
        with db.transaction(request.app.state.cfg.database_url) as s:
            flag = s.get(Flag, flag_id)
            if flag is None:
                raise HTTPException(404, {"message": N_("No such flag."), "detail": flag_id})
            _own_call(s, account, flag.call_id)
            made = file_appeal(s, account, flag_id, reason)
            record_access(s, account.name, "appeal", f"flag {flag_id} appeal {made['id']}", VIA,
                          address=address(request))
    except AppealError as exc:
        raise HTTPException(400, {"message": N_("The appeal was not filed."), "detail": str(exc)}) from None
    return RedirectResponse(f"/my/calls/{made['call']}#flag{flag_id}", status_code=303)


def _scores(session: Session, cfg: Config, call_ids: set[int]) -> dict[int, float | None]:
    """The calls' scores, brought up to date (only the calls whose flags or answers changed are rescored)."""
    calls = session.scalars(select(Call).where(Call.id.in_(call_ids))).all()
    try:
        return {cid: r["score"] for cid, r in score_calls(session, cfg, calls).items()}
    except ScoreError:  # no scorecard configured: appeals are still decided
        return {}


@router.get("/appeals")
def appeals_page(request: Request, account: Lead, status: str = "open", decided: int | None = None) -> Response:
    if status != ALL and status not in APPEAL_STATUSES:
        raise HTTPException(400, {"message": N_("Unknown status."), "detail": status})
    with db.transaction(request.app.state.cfg.database_url) as s:
        rows = list_appeals(s, None if status == ALL else status)
        scores = _scores(s, request.app.state.cfg, {a["call"] for a in rows})
        done = s.get(Appeal, decided) if decided is not None else None
        score = s.get(CallScore, done.call_id) if done is not None else None
        notice = None if done is None else {"id": done.id, "status": done.status, "call": done.call_id,
                                            "score": score.score if score is not None else None}
    return render(request, "appeals.html", {"appeals": rows, "scores": scores, "status": status,
                                            "statuses": (*APPEAL_STATUSES, ALL), "notice": notice})


@router.post("/appeals/{appeal_id}/decide")
def decide_appeal(request: Request, appeal_id: int, account: Lead, decision: Annotated[str, Form()] = "",
                  note: Annotated[str, Form(max_length=2000)] = "",
                  status: Annotated[str, Form()] = "open") -> Response:
    cfg = request.app.state.cfg
    try:
        with db.transaction(cfg.database_url) as s:
            result = decide(s, cfg, appeal_id, decision, account, note)
            record_access(s, account.name, "appeal-decision", f"appeal {appeal_id} {result['status']}", VIA,
                          address=address(request))
    except AppealError as exc:
        raise HTTPException(400, {"message": N_("The appeal was not decided."), "detail": str(exc)}) from None
    back = status if status == ALL or status in APPEAL_STATUSES else "open"
    return RedirectResponse("/appeals?" + urlencode({"status": back, "decided": appeal_id}), status_code=303)
