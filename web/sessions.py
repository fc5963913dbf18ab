"""Signed-in sessions (in the database) and sign-in throttling (in the server's memory).

A session is a random token (the cookie holds only that) standing for an account's name and the
session's CSRF token; the database keeps a hash of the token (accounts/sessions.py), so a restart
or a second app process on the same database keeps everyone signed in, and `hotline users passwd /
disable` sign an account out everywhere. It ends after ``idle_s`` without a request and ``max_s``
after signing in, whichever comes first: a browser left open at a shared desk does not stay signed
in. The clock (seconds since the epoch) is a plain callable so tests can move time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

import db
from accounts.sessions import Limits, end_session, live_session, open_session


@dataclass
class WebSession:
    account: str
    csrf: str


@dataclass
class Sessions:
    url: str
    idle_s: float
    max_s: float
    clock: Callable[[], float] = time.time

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _limits(self) -> Limits:
        return Limits(timedelta(seconds=self.idle_s), timedelta(seconds=self.max_s))

    def open(self, account: str) -> str:
        """A new session for ``account``; returns its token (always a new one: no fixation)."""
        with db.transaction(self.url) as s:
            token, _ = open_session(s, account, self._now(), self._limits())
        return token

    def get(self, s: Session, token: str) -> WebSession | None:
        """The live session of ``token`` (its idle time restarts), or None; read in the caller's
        transaction ``s`` (the request reads the account in the same one)."""
        row = live_session(s, token, self._now(), self._limits())
        return None if row is None else WebSession(row.account, row.csrf)

    def close(self, token: str) -> None:
        with db.transaction(self.url) as s:
            end_session(s, token)


@dataclass
class Throttle:
    """At most ``limit`` failed sign-ins per key (an account name, an address) in ``window_s``."""

    limit: int
    window_s: float
    clock: Callable[[], float] = time.monotonic
    _fails: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, at: float) -> list[float]:
        kept = [t for t in self._fails.get(key, []) if at - t < self.window_s]
        if kept:
            self._fails[key] = kept
        else:
            self._fails.pop(key, None)  # the table holds only keys failing now
        return kept

    def blocked(self, *keys: str) -> bool:
        """True when any key has used up its failures: refuse before even checking the password."""
        at = self.clock()
        with self._lock:
            return any(len(self._recent(k, at)) >= self.limit for k in keys)

    def fail(self, *keys: str) -> None:
        at = self.clock()
        with self._lock:
            for k in keys:
                self._fails[k] = [*self._recent(k, at), at]

    def clear(self, key: str) -> None:
        with self._lock:
            self._fails.pop(key, None)
