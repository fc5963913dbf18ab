"""Reviewing flags: a person's verdict, every one kept.

A flag starts ``new``; a reviewer ``confirmed`` or ``dismissed`` it. Every decision is
a new :class:`qa.tables.Review` row (never updated), so a flag reviewed twice shows
both decisions, who made them, when and why; the flag's ``status`` is the latest.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from qa.scorecard import refresh_call
from qa.tables import Flag, Review
from settings import Config

DECISIONS = ("confirmed", "dismissed")
_ALIASES = {"confirm": "confirmed", "dismiss": "dismissed"}


class ReviewError(ValueError):
    """A review that cannot be recorded (unknown flag, bad decision, no reviewer)."""


def review(session: Session, flag_id: int, reviewer: str, decision: str, note: str | None = None,
           config: Config | None = None) -> Review:
    """Record ``reviewer``'s ``decision`` (confirmed | dismissed) on a flag; returns the audit row.

    With ``config`` the call's stored score is brought up to date too (qa.scorecard.refresh_call): the
    reports read stored scores, so a verdict shows in them without rescoring the period."""
    decision = _ALIASES.get(decision, decision)
    if decision not in DECISIONS:
        raise ReviewError(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
    reviewer = (reviewer or "").strip()
    if not reviewer:
        raise ReviewError("a review needs the reviewer's name")
    if len(reviewer) > 64:
        raise ReviewError("reviewer name longer than 64 characters")
    flag = session.get(Flag, flag_id)
    if flag is None:
        raise ReviewError(f"flag {flag_id}: no such flag")
    row = Review(flag_id=flag.id, reviewer=reviewer, decision=decision, note=(note or "").strip() or None)
    flag.reviews.append(row)
    flag.status = decision
    session.flush()
    if config is not None:
        refresh_call(session, config, flag.call_id)
    return row
