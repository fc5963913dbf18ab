"""Signed-in sessions in the database (table web_sessions): open, find, end, prune.

The review app (web/sessions.py) keeps its sessions here rather than in its memory, so a restart
or a second app process on the same database keeps everyone signed in, and the CLI (which shares
only the database with the app) can end an account's sessions when its password changes or it is
disabled. The cookie holds a random token; the table holds its SHA-256 only. Times are passed in
(``at``) so the web app's clock, which tests move, decides what has expired.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from accounts.tables import SignInSession

# A request within this long of the last one does not write seen_at again: the idle limit is 30
# minutes, so a few seconds of slack costs nothing and saves a write on every page and audio range.
TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class Limits:
    idle: timedelta  # signed out after this long without a request
    max: timedelta  # ... and this long after signing in, whatever happens


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, account: str, at: datetime, limits: Limits) -> tuple[str, str]:
    """A new session of ``account`` (always a new token: no fixation); returns (token, csrf).
    Expired rows are pruned on the way: every sign-in sweeps, so the table holds live sessions only."""
    prune(session, at, limits)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.add(SignInSession(token_hash=token_hash(token), account=account, csrf=csrf, started_at=at, seen_at=at))
    session.flush()
    return token, csrf


def live_session(session: Session, token: str, at: datetime, limits: Limits) -> SignInSession | None:
    """The live session of ``token`` (its idle time restarts), or None; an expired one is deleted."""
    if not token:
        return None
    row = session.get(SignInSession, token_hash(token))
    if row is None:
        return None
    if at - row.seen_at > limits.idle or at - row.started_at > limits.max:
        session.delete(row)
        session.flush()
        return None
    if at - row.seen_at >= TOUCH_EVERY:
        row.seen_at = at
        session.flush()
    return row


def end_session(session: Session, token: str) -> None:
    session.execute(delete(SignInSession).where(SignInSession.token_hash == token_hash(token)))


def end_sessions(session: Session, account: str) -> int:
    """End every session of ``account`` (its password changed, it was disabled); returns how many."""
    gone = session.execute(delete(SignInSession).where(SignInSession.account == account))
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]


def prune(session: Session, at: datetime, limits: Limits) -> int:
    """Delete the sessions past either limit; returns how many."""
    gone = session.execute(delete(SignInSession).where(or_(SignInSession.seen_at < at - limits.idle,
                                                           SignInSession.started_at < at - limits.max)))
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]
