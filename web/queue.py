"""The flag queue: filters, counts per status, sorting, paging, bulk verdicts.

The data comes from qa/views.py (the same queue ``hotline qa list`` prints, PII masked there).
Unreviewed flags (``new``) are the default view: that is the work. Dates in the filters are
local days in the configured timezone, turned into UTC bounds for the query.
"""

from __future__ import annotations

import time as clock
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

import db
from accounts.roles import REVIEW
from accounts.tables import Account
from accounts.users import record_access
from ivr.tables import Call
from qa import views
from qa.review import ReviewError, review
from qa.tables import Flag
from qa.views import CATEGORIES, SEVERITIES, SORTS, STATUSES, FlagFilter, ViewError
from web.auth import VIA, address, require, safe_next
from web.i18n import N_
from web.templating import render

PAGE = 50
CHOICES_FOR_S = 60.0
ALL = "all"
# confidence bands as reviewers speak of them: [low, high) of qa.confidence's combined score
BANDS = {"high": (0.8, None), "medium": (0.5, 0.8), "low": (0.0, 0.5)}
FILTERS = ("status", "category", "rule", "severity", "confidence", "agent", "route", "from", "to", "sort")

router = APIRouter()
Reviewer = Annotated[Account, Depends(require(REVIEW))]


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, {"message": N_("A date is written YYYY-MM-DD."), "detail": name}) from None


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


def _filter(q: dict[str, str], tz: tzinfo) -> FlagFilter:
    band = BANDS.get(q.get("confidence", ""))
    start, end = _day(q.get("from"), "from"), _day(q.get("to"), "to")
    status = q.get("status", "new")
    return FlagFilter(
        status=None if status == ALL else status, category=q.get("category") or None, rule=q.get("rule") or None,
        severity=q.get("severity") or None, agent=q.get("agent") or None, route=q.get("route") or None,
        since=_midnight(start, tz) if start else None,
        until=_midnight(end + timedelta(days=1), tz) if end else None,  # the "to" day is included
        min_confidence=band[0] if band else None, max_confidence=band[1] if band else None)


def _choices(request: Request, session: Session) -> dict[str, list[str]]:
    """The filters' choices (rules, agents, routes), read at most once a minute: two DISTINCT scans
    of the tables were half the queue's time at 50,000 flags, and the lists change rarely."""
    cached: tuple[float, dict[str, list[str]]] | None = getattr(request.app.state, "filter_choices", None)
    if cached is None or clock.monotonic() - cached[0] > CHOICES_FOR_S:
        cached = (clock.monotonic(), views.filter_choices(session))
        request.app.state.filter_choices = cached
    return cached[1]


def _link(q: dict[str, str], **change: str | int) -> str:
    """This queue with some filters changed (empty values dropped, so links stay short)."""
    merged: dict[str, Any] = {**q, **change}
    return "/flags?" + urlencode({k: v for k, v in merged.items() if v not in ("", None)})


@router.get("/flags")
def queue_page(request: Request, account: Reviewer, page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    q = {k: request.query_params.get(k, "") for k in FILTERS if request.query_params.get(k)}
    q.setdefault("status", "new")
    sort = q.get("sort") or "confidence"
    where = _filter(q, request.app.state.tz)
    try:
        with db.transaction(request.app.state.cfg.database_url) as s:
            flags = views.list_flags(s, where=where, sort=sort, limit=PAGE + 1, offset=(page - 1) * PAGE)
            counts = views.status_counts(s, where)
            choices = _choices(request, s)
    except ViewError as exc:
        raise HTTPException(400, str(exc)) from None
    more = len(flags) > PAGE
    total = sum(counts.values()) if where.status is None else counts[where.status]
    return render(request, "queue.html", {
        "flags": flags[:PAGE], "q": q, "counts": counts, "total": total, "page": page, "more": more,
        "pages": max(1, -(-total // PAGE)), "statuses": STATUSES, "categories": CATEGORIES,
        "severities": SEVERITIES, "bands": tuple(BANDS), "sorts": SORTS, "choices": choices,
        "link": lambda **change: _link(q, **change),
        "here": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    })


@router.get("/flags/next")
def next_flag(request: Request, account: Reviewer, skip_call: int | None = None) -> Response:
    """The surest unreviewed flag not on ``skip_call`` (the call just reviewed): the next piece of work."""
    with db.transaction(request.app.state.cfg.database_url) as s:
        stmt = select(Flag.id, Flag.call_id, Flag.offset_s).join(Call, Call.id == Flag.call_id).where(
            Flag.status == "new").order_by(Flag.confidence.is_(None), Flag.confidence.desc(),
                                          Call.started_at.desc(), Flag.id).limit(1)
        if skip_call is not None:
            stmt = stmt.where(Flag.call_id != skip_call)
        row = s.execute(stmt).first()
    if row is None:
        return RedirectResponse("/flags", status_code=303)
    return RedirectResponse(f"/calls/{row.call_id}?flag={row.id}#flag{row.id}", status_code=303)


def record_reviews(request: Request, account: Account, flag_ids: list[int], decision: str, note: str) -> int:
    """Every flag reviewed by ``account`` in one transaction (all or none); returns the first flag's call."""
    try:
        with db.transaction(request.app.state.cfg.database_url) as s:
            rows = [review(s, flag_id, account.name, decision, note, request.app.state.cfg) for flag_id in flag_ids]
            for row in rows:
                record_access(s, account.name, "review", f"flag {row.flag_id} {row.decision}", VIA,
                              address=address(request))
            return rows[0].flag.call_id
    except ReviewError as exc:
        raise HTTPException(400, str(exc)) from None


@router.post("/flags/bulk")
def bulk_review(request: Request, account: Reviewer, flag: Annotated[list[int] | None, Form()] = None,
                decision: Annotated[str, Form()] = "", note: Annotated[str, Form(max_length=2000)] = "",
                back: Annotated[str, Form()] = "/flags") -> Response:
    if not flag:
        raise HTTPException(400, N_("Tick at least one flag."))
    if len(flag) > 500:
        raise HTTPException(400, N_("At most 500 flags at once."))
    record_reviews(request, account, list(dict.fromkeys(flag)), decision, note)
    return RedirectResponse(safe_next(back), status_code=303)
