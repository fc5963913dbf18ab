"""Scorecards (issue 15): a score per call on the form configured in ``qa.scorecard``, and averages.

The form is a list of weighted items (settings.ScorecardItem). An item tied to rules keeps its
points unless a flag of its rules counts against the call: a confirmed flag, or with
``deduct_on: any`` any flag not dismissed (a lead overturning an appeal dismisses the flag, so it
stops counting). An item tied to an answer is scored by a reviewer (yes_no: all or nothing;
points: 0..points) and is left out until answered, so a call is never marked down for a question
nobody has asked yet. An instant-fail item with a *confirmed* flag makes the call score 0 whatever
the rest says (an unreviewed guess never zeroes a call), as VICIdial QC and Contact Lens forms do.

    score = 100 * points kept / points of the items judged so far

A call without a usable transcript (none yet, or one that needs review) earns no credit on the rule
items: the rules heard nothing. Its counted flags (an event rule's, such as hanging up) still cost.

Every review, answer, appeal decision and read recomputes the call's stored row
(qa.scorecard_tables.CallScore), so the reports read stored scores; a rescan or a changed form is
brought in by ``rescore_period`` (`hotline qa report --rescore`). Each row keeps a digest of what it
came from, so refreshing a period rescores only the calls that changed.

Averages (``score_averages``) are means of the calls' scores (each call weighs the same) for calls
started in [start, end), per agent (calls.agent) or per team. Teams come from
``qa.scorecard.teams`` (agent -> team) and are stored with each score when it is computed; an
agent not listed has no team (None).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple, Protocol

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from db import now
from ivr.tables import Call
from qa.scorecard_tables import CallScore, ScoreAnswer
from qa.tables import Flag
from settings import Config, ScorecardItem, ScorecardSettings
from transcribe.tables import Transcript

YES = ("yes", "y", "true", "1", "是", "对")
NO = ("no", "n", "false", "0", "否", "不")
GROUPS = ("agent", "team")
VERSION = 2  # of score_call's output: part of each row's digest, so a change here rescores stored rows


class ScoreError(ValueError):
    """A score that cannot be given (unknown call or item, bad answer): one line for the user."""


class FlagFact(NamedTuple):
    id: int
    rule: str
    category: str
    status: str


class Answer(NamedTuple):
    value: float
    answer: str
    reviewer: str


def _ties(item: ScorecardItem, flag: FlagFact) -> bool:
    return flag.rule in item.rules or flag.category in item.categories


def score_call(card: ScorecardSettings, flags: Sequence[FlagFact], answers: Mapping[str, Answer],
               heard: bool = True) -> dict[str, Any]:
    """One call's score and each item's part in it, from its flags and the reviewers' latest answers.

    ``heard``: the call has a usable transcript. Without one the rules could not listen, so an item
    without a counted flag is not judged (no credit for what nobody heard); a counted flag, an
    event rule's (hang-up, rings) or a reviewer's, still costs its item."""
    counted = [f for f in flags if f.status == "confirmed" or (card.deduct_on == "any" and f.status != "dismissed")]
    items: list[dict[str, Any]] = []
    failed = False
    for item in card.items:
        row: dict[str, Any] = {"id": item.id, "label": item.label, "points": item.points,
                               "kind": "answer" if item.answer else "rules", "instant_fail": item.instant_fail}
        if item.answer:
            got = answers.get(item.id)
            row.update(earned=None if got is None else got.value, answer=got and got.answer,
                       reviewer=got and got.reviewer, lost_to=[])
        else:
            lost = [f.id for f in counted if _ties(item, f)]
            fails = item.instant_fail and any(f.status == "confirmed" and _ties(item, f) for f in flags)
            failed = failed or fails
            waiting = [f.id for f in flags if f.status == "new" and f.id not in lost and _ties(item, f)]
            row.update(earned=0.0 if lost else (item.points if heard else None), lost_to=lost, failed=fails,
                       unreviewed=waiting)  # flags that count once a reviewer confirms them
        items.append(row)
    judged = [r for r in items if r["earned"] is not None and r["points"]]
    earned = sum(r["earned"] for r in judged)
    possible = sum(r["points"] for r in judged)
    score = 0.0 if failed else (round(100.0 * earned / possible, 1) if possible else None)
    return {"score": score, "failed": failed, "earned": earned, "possible": possible, "heard": heard,
            "pending": [r["id"] for r in items if r["kind"] == "answer" and r["earned"] is None], "items": items}


def parse_answer(card: ScorecardSettings, item_id: str, text: str) -> tuple[float, str]:
    """A reviewer's answer to a manual item as (points, normalised answer); ScoreError names the item."""
    item = next((i for i in card.items if i.id == item_id), None)
    manual = [i.id for i in card.items if i.answer]
    if item is None or not item.answer:
        what = "is not on the form" if item is None else "is scored by its rules, not answered"
        raise ScoreError(f"--answer {item_id}: {what} (items to answer: {', '.join(manual) or 'none'})")
    word = text.strip().lower()
    if item.answer == "yes_no":
        if word in YES:
            return item.points, "yes"
        if word in NO:
            return 0.0, "no"
        raise ScoreError(f"--answer {item_id}={text}: answer yes or no")
    try:
        value = float(word)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= item.points:
        raise ScoreError(f"--answer {item_id}={text}: give points from 0 to {item.points:g}")
    return value, f"{value:g}"


NO_FORM = "no scorecard is configured: add items under qa.scorecard in config.yaml"


def _card(config: Config) -> ScorecardSettings:
    card = config.qa.scorecard
    if not card.items:
        raise ScoreError(NO_FORM)
    return card


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    """Ids in pieces that fit one IN (...): SQLite limits the parameters of a statement."""
    return (ids[n:n + 500] for n in range(0, len(ids), 500))


Facts = tuple[dict[int, list[FlagFact]], dict[int, dict[str, Answer]], dict[int, bool]]


def _facts(session: Session, ids: Sequence[int]) -> Facts:
    """Per call: its flags, the latest answer per item, and whether its newest transcript is usable."""
    flags: dict[int, list[FlagFact]] = {i: [] for i in ids}
    answers: dict[int, dict[str, Answer]] = {i: {} for i in ids}
    heard: dict[int, bool] = dict.fromkeys(ids, False)
    for chunk in _chunks(ids):
        for cid, needs_review in session.execute(select(Transcript.call_id, Transcript.needs_review)
                                                 .where(Transcript.call_id.in_(chunk)).order_by(Transcript.id)):
            heard[cid] = not needs_review  # the newest wins
        for cid, *fact in session.execute(select(Flag.call_id, Flag.id, Flag.rule_id, Flag.category, Flag.status)
                                          .where(Flag.call_id.in_(chunk)).order_by(Flag.id)):
            flags[cid].append(FlagFact(*fact))
        for a in session.scalars(select(ScoreAnswer).where(ScoreAnswer.call_id.in_(chunk)).order_by(ScoreAnswer.id)):
            answers[a.call_id][a.item] = Answer(a.value, a.answer, a.reviewer)  # the latest wins
    return flags, answers, heard


class CallRef(Protocol):
    """What scoring needs of a call: a Call, or a row of (id, agent, started_at)."""

    id: int
    agent: str | None
    started_at: datetime | None


def _store(session: Session, calls: Sequence[CallRef], card: ScorecardSettings,
           *, results: bool = True) -> dict[int, dict[str, Any]]:
    """Score ``calls`` and write the rows whose inputs changed; returns each call's result (plus agent,
    team), or with ``results=False`` nothing, skipping the calls whose stored score is current.

    A row keeps a digest of what it was computed from (the form, the flags' rules and statuses, the
    answers): refreshing a month of 10,000 unchanged calls then scores and writes none of them."""
    ids = [c.id for c in calls]
    flags, answers, heard = _facts(session, ids)
    stored: dict[int, str | None] = {}
    for chunk in _chunks(ids):
        stored.update((cid, inputs) for cid, inputs in session.execute(
            select(CallScore.call_id, CallScore.inputs).where(CallScore.call_id.in_(chunk))))
    form = card.model_dump_json()  # a changed form or team list rescores every call
    out: dict[int, dict[str, Any]] = {}
    added: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    at = now()
    for call in calls:
        team = card.teams.get(call.agent or "")
        got = sorted(answers[call.id].items())
        facts = repr((VERSION, form, team, flags[call.id], got, heard[call.id])).encode()
        inputs = hashlib.sha1(facts, usedforsecurity=False).hexdigest()
        current = stored.get(call.id) == inputs
        if current and not results:
            continue
        result = score_call(card, flags[call.id], answers[call.id], heard[call.id])
        if not current:
            row = {"call_id": call.id, "score": result["score"], "failed": result["failed"],
                   "earned": result["earned"], "possible": result["possible"], "team": team,
                   "detail": {"items": result["items"]}, "inputs": inputs, "computed_at": at}
            (changed if call.id in stored else added).append(row)
        if results:
            out[call.id] = result | {"call": call.id, "agent": call.agent, "team": team,
                                     "started_at": call.started_at.isoformat() if call.started_at else None}
    if added:
        session.execute(insert(CallScore), added)
    if changed:
        session.execute(update(CallScore), changed)  # by primary key
    return out


def _scorable(session: Session, call_id: int) -> Call:
    call = session.get(Call, call_id)
    if call is None:
        raise ScoreError(f"call {call_id}: no such call")
    if not call.agent:
        raise ScoreError(f"call {call_id}: no agent took it, so there is nobody to score")
    return call


def rescore(session: Session, config: Config, call_id: int) -> dict[str, Any]:
    """Score one call now, store it, and return the breakdown (what `hotline qa score` shows)."""
    card = _card(config)
    call = _scorable(session, call_id)
    return _store(session, [call], card)[call.id] | {"deduct_on": card.deduct_on}


def refresh_call(session: Session, config: Config, call_id: int) -> None:
    """Bring one call's stored score up to date after its flags changed (a review, an appeal decided), so the
    reports can read stored scores instead of rescoring a period. Nothing to do without a form or an agent."""
    card = config.qa.scorecard
    call = session.get(Call, call_id)
    if card.items and call is not None and call.agent:
        _store(session, [call], card, results=False)


def record_answers(session: Session, config: Config, call_id: int, reviewer: str,
                   answers: Mapping[str, str]) -> dict[str, Any]:
    """Keep a reviewer's answers to manual items (all checked before any is written), then rescore."""
    card = _card(config)
    _scorable(session, call_id)
    parsed = {item: parse_answer(card, item, text) for item, text in answers.items()}
    for item, (value, normalised) in parsed.items():
        session.add(ScoreAnswer(call_id=call_id, item=item, value=value, answer=normalised, reviewer=reviewer))
    session.flush()
    return rescore(session, config, call_id)


def score_calls(session: Session, config: Config, calls: Sequence[CallRef]) -> dict[int, dict[str, Any]]:
    """Score these calls (those with an agent) in one pass, store them; results by call id."""
    return _store(session, [c for c in calls if c.agent], _card(config))


def rescore_period(session: Session, config: Config, start: datetime, end: datetime) -> None:
    """Bring the stored score of every call with an agent started in [start, end) up to date (after
    reviews made elsewhere, a rescan, a changed form)."""
    calls = session.execute(select(Call.id, Call.agent, Call.started_at).where(
        Call.started_at >= start, Call.started_at < end, Call.agent.is_not(None)).order_by(Call.id)).all()
    _store(session, calls, _card(config), results=False)


def score_averages(session: Session, start: datetime, end: datetime, by: Literal["agent", "team"] = "agent",
                   config: Config | None = None) -> list[dict[str, Any]]:
    """Mean score per agent or per team of the calls started in [start, end), best first.

    Each row: ``{by: name (team None: agents not in qa.scorecard.teams), "calls": scored calls,
    "average", "lowest", "highest", "failed": instant fails, "unscored": calls with nothing judged}``.
    With ``config`` the period's calls are rescored first; without, the stored scores are read
    (as last computed: reviews, answers and appeal decisions keep them current). A
    config without a scorecard form rescores nothing (a report still renders, with no scores).
    """
    if by not in GROUPS:
        raise ScoreError(f"by {by!r}: one of {', '.join(GROUPS)}")
    if config is not None and config.qa.scorecard.items:
        rescore_period(session, config, start, end)
    rows = session.execute(select(Call.agent, CallScore.team, CallScore.score, CallScore.failed)
                           .join(CallScore, CallScore.call_id == Call.id)
                           .where(Call.started_at >= start, Call.started_at < end)).all()
    groups: dict[str | None, list[tuple[float | None, bool]]] = {}
    for agent, team, score, failed in rows:
        groups.setdefault(agent if by == "agent" else team, []).append((score, failed))
    out = []
    for name, scores in groups.items():
        values = [s for s, _ in scores if s is not None]
        out.append({by: name, "calls": len(values),
                    "average": round(sum(values) / len(values), 1) if values else None,
                    "lowest": min(values, default=None), "highest": max(values, default=None),
                    "failed": sum(1 for _, f in scores if f), "unscored": len(scores) - len(values)})
    out.sort(key=lambda r: (r["average"] is None, -(r["average"] or 0.0), str(r[by])))
    return out
