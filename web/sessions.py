"""Signed-in sessions and sign-in throttling, held in the server's memory.

A session is a random token (the cookie holds only that) mapped here to the account's name and
the session's CSRF token. It ends after ``idle_s`` without a request and ``max_s`` after signing
in, whichever comes first: a browser left open at a shared desk does not stay signed in. Kept in
memory on purpose: one process serves the app, and a restart signing everyone out is the safe
way to fail. The clock is a plain callable so tests can move time.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class WebSession:
    account: str
    csrf: str
    started: float
    seen: float


@dataclass
class Sessions:
    idle_s: float
    max_s: float
    clock: Callable[[], float] = time.monotonic
    _by_token: dict[str, WebSession] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self, account: str) -> str:
        """A new session for ``account``; returns its token (always a new one: no fixation)."""
        token = secrets.token_urlsafe(32)
        at = self.clock()
        with self._lock:
            self._by_token[token] = WebSession(account, secrets.token_urlsafe(24), at, at)
        return token

    def get(self, token: str) -> WebSession | None:
        """The live session of ``token`` (its idle time restarts), or None; expired ones are dropped."""
        if not token:
            return None
        at = self.clock()
        with self._lock:
            sess = self._by_token.get(token)
            if sess is None:
                return None
            if at - sess.seen > self.idle_s or at - sess.started > self.max_s:
                del self._by_token[token]
                return None
            sess.seen = at
            return sess

    def close(self, token: str) -> None:
        with self._lock:
            self._by_token.pop(token, None)

    def close_account(self, account: str) -> int:
        """End every session of ``account`` (it was disabled); returns how many."""
        with self._lock:
            gone = [t for t, s in self._by_token.items() if s.account == account]
            for t in gone:
                del self._by_token[t]
        return len(gone)


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
