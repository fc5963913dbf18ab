"""One call: its transcript by speaker with the flags at their lines, its audio, the verdicts.

The transcript and flags come from qa/views.call_view, PII already masked there (the caller's
number too). A flag tied to a transcript line is shown under that line; one from the call's
events or from a phrase that was never said (hang-up, slow answer, hold, opening, closing) is
shown at its second in the call, between the lines around it.

Audio: a track's redacted copy (personal data under a tone, recordings/redacted.py) for roles
allowed HEAR_REDACTED; the original (``?original=1``) only for HEAR_ORIGINAL. Every file served
is written to the access log (accounts: ``listen`` or ``listen-original``, the call and track,
from where; ``hotline users log`` shows it beside sign-ins, reviews and unmasks) and to the
log, an original as a warning. Range requests are answered (Starlette's FileResponse), so players seek.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from sqlalchemy import select

import db
from accounts.roles import HEAR_ORIGINAL, HEAR_REDACTED, REVIEW, allowed, own_calls_only
from accounts.tables import Account
from accounts.users import record_access
from ivr.tables import Call
from qa.views import ViewError, call_view
from recordings.redacted import redacted_kind
from recordings.store import recording_file
from recordings.tables import Recording
from web.auth import VIA, address, current_account, require
from web.i18n import N_
from web.queue import record_reviews
from web.scores import scorecard_context
from web.templating import render

log = logging.getLogger("web")
TRACK_ORDER = ("mix", "agent", "caller")
router = APIRouter()


def marked(text: str, marks: list[dict[str, Any]]) -> Markup:
    """A line's text as HTML with each flag's span in a <mark> (overlapping spans: the first one)."""
    spans = sorted((m for m in marks if m["start"] is not None), key=lambda m: (m["start"], -m["end"]))
    out, pos = [], 0
    for m in spans:
        if m["start"] < pos:
            continue
        out.append(escape(text[pos:m["start"]]))
        out.append(Markup('<mark class="{}" title="{}" id="m{}">{}</mark>').format(
            m["category"], m["rule"], m["flag"], text[m["start"]:m["end"]]))
        pos = m["end"]
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def timeline(segments: list[dict[str, Any]], flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page's rows in time order: each line with its flags, and the flags of no line at their second."""
    by_id = {f["id"]: f for f in flags}
    placed = {fid for sg in segments for fid in sg["flags"]}
    rows: list[dict[str, Any]] = [{"kind": "line", "at": sg["start"], "segment": sg,
                                   "flags": [by_id[i] for i in sg["flags"] if i in by_id]} for sg in segments]
    events = [{"kind": "event", "at": f["offset_s"] or 0.0, "flags": [f]} for f in flags if f["id"] not in placed]
    # stable sort: an event at a line's very second comes after that line
    return sorted(rows + events, key=lambda r: (r["at"], r["kind"] == "event"))


@router.get("/calls/{call_id}")
def call_page(request: Request, call_id: int, account: Annotated[Account, Depends(require(REVIEW))],
              flag: int | None = None, t: float | None = None) -> Response:
    with db.transaction(request.app.state.cfg.database_url) as s:
        try:
            view = call_view(s, request.app.state.cfg, call_id)
        except ViewError:
            raise HTTPException(404, {"message": N_("No such call."), "detail": call_id}) from None
        card = scorecard_context(s, request.app.state.cfg, call_id)
    flags = view["flags"]
    chosen = next((f for f in flags if f["id"] == flag), None)
    start = t if t is not None and t >= 0 else (chosen["offset_s"] or 0.0) if chosen else 0.0
    redacted = {k for k in TRACK_ORDER if redacted_kind(k) in view["recordings"]}
    originals = {k for k in TRACK_ORDER if k in view["recordings"]}
    return render(request, "call.html", {
        "call": view["call"], "transcript": view["transcript"], "rows": timeline(view["segments"], flags),
        "flags": flags, "chosen": flag, "start": start, "tracks": [k for k in TRACK_ORDER if k in redacted],
        "originals": [k for k in TRACK_ORDER if k in originals] if allowed(account.role, HEAR_ORIGINAL) else [],
        "new_flags": sum(1 for f in flags if f["status"] == "new"), "marked": marked, **card,
    })


@router.post("/flags/{flag_id}/review")
def review_flag(request: Request, flag_id: int, account: Annotated[Account, Depends(require(REVIEW))],
                decision: Annotated[str, Form()] = "", note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    call_id = record_reviews(request, account, [flag_id], decision, note)
    return RedirectResponse(f"/calls/{call_id}?flag={flag_id}#flag{flag_id}", status_code=303)


@router.api_route("/calls/{call_id}/audio", methods=["GET", "HEAD"])
def audio(request: Request, call_id: int, account: Annotated[Account, Depends(current_account)],
          track: str | None = None, original: bool = False) -> Response:
    """A track of the call: the redacted copy, or with ``?original=1`` the recording as made."""
    permission = HEAR_ORIGINAL if original else HEAR_REDACTED
    if not allowed(account.role, permission):
        raise HTTPException(403, N_("Your role may not hear the original recording.") if original
                            else N_("Your role may not do this."))
    cfg = request.app.state.cfg
    with db.transaction(cfg.database_url) as s:
        call = s.get(Call, call_id)
        if call is None:
            raise HTTPException(404, {"message": N_("No such call."), "detail": call_id})
        if own_calls_only(account.role, permission) and (not account.agent_id or call.agent != account.agent_id):
            raise HTTPException(403, N_("Your role may hear only its own calls."))
        rows = {r.kind: r for r in s.scalars(select(Recording).where(Recording.call_id == call_id))}
        served = {k: (k if original else redacted_kind(k)) for k in TRACK_ORDER}
        have = [k for k in TRACK_ORDER if served[k] in rows]
        kind = track if track in have else next(iter(have), None)
        if kind is None:
            none_at_all = original or not any(k in rows for k in TRACK_ORDER)
            raise HTTPException(404, N_("This call has no recording.") if none_at_all
                                else N_("This call has no redacted copy yet."))
        path = recording_file(cfg, rows[served[kind]].path)
        if not path.is_file():
            raise HTTPException(404, {"message": N_("The recording file is missing."), "detail": served[kind]})
        record_access(s, account.name, "listen-original" if original else "listen", f"call {call_id} {served[kind]}",
                      VIA, address=address(request))
    log.log(logging.WARNING if original else logging.INFO, "%s recording of call %s (%s) served to %s from %s",
            "ORIGINAL" if original else "redacted", call_id, kind, account.name, address(request))
    return FileResponse(path, media_type="audio/wav")
