"""One driver per call: a lease row that only one ``serve`` holds at a time.

Every AMI session with ``agi`` read permission gets every AsyncAGIStart, so two
services on one Asterisk would both drive each call. The service that holds the lease
drives; any other stays connected in standby and takes over when the holder stops
renewing.

The row (``service_lease``: name, holder, beat, renewed_at, acquired_at) is changed only
by conditional UPDATEs whose WHERE clause carries what the writer last saw, so on SQLite
and PostgreSQL alike exactly one of two racing writers gets ``rowcount == 1``:

* renew (holder, every ``interval`` s): ``UPDATE ... SET beat = beat + 1, renewed_at = now
  WHERE name = :name AND holder = :me``. 0 rows: someone took it; step down at once.
* take over (standby): the standby reads (holder, beat) every ``interval`` s and notes,
  on its own monotonic clock, when the value last changed. Unchanged for ``ttl`` s:
  ``UPDATE ... SET holder = :me, beat = beat + 1 ... WHERE name = :name AND holder = :old
  AND beat = :old_beat`` (a compare-and-swap on what it saw). A free lease (holder NULL,
  after a clean stop) is taken at once the same way, and so is one whose holder id names
  this host and a process that no longer exists (a restart after SIGKILL). No wall
  clocks are compared, so clock skew between hosts does not matter.
* fencing: a holder that has not renewed successfully for ``fence`` s (default 0.6 x
  ttl, e.g. the database is unreachable) steps down by itself before any standby can
  have waited ``ttl``, so two drivers never overlap while both can reach the database.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

import db
from db import Base, UTCDateTime

log = logging.getLogger("ivr.lease")

LEASE_NAME = "ivr"


class ServiceLease(Base):
    """Who drives the calls of one Asterisk (one row per lease name)."""

    __tablename__ = "service_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(128))  # host:pid:random of the driving service
    beat: Mapped[int] = mapped_column(default=0)  # bumped by every renew and every change of holder
    renewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the holder's clock: display only
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class LeaseState:
    holder: str | None
    beat: int
    renewed_at: datetime | None


def new_holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def read_lease(url: str, name: str = LEASE_NAME) -> LeaseState | None:
    """The lease row as it is now (``hotline status`` and tests)."""
    t = ServiceLease.__table__
    with db.transaction(url) as s:
        row = s.execute(select(t.c.holder, t.c.beat, t.c.renewed_at).where(t.c.name == name)).first()
    return LeaseState(row[0], row[1], row[2]) if row else None


def _dead_here(holder: str | None) -> bool:
    """A holder on this host whose process is gone (a restart after SIGKILL need not wait the ttl)."""
    host, _, rest = (holder or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


class Lease:
    """The lease as seen by one service. Blocking calls: run them in a thread."""

    def __init__(self, url: str, *, holder: str | None = None, name: str = LEASE_NAME, ttl: float = 5.0,
                 interval: float = 1.0, fence: float | None = None) -> None:
        if not 0 < interval < ttl:
            raise ValueError(f"lease: interval ({interval}) must be > 0 and below ttl ({ttl})")
        self.url = url
        self.holder = holder or new_holder_id()
        self.name = name
        self.ttl = ttl
        self.interval = interval
        self.fence = fence if fence is not None else 0.6 * ttl
        self.held = False
        self._seen: tuple[str | None, int] | None = None  # (holder, beat) last read
        self._seen_since = 0.0  # monotonic time when _seen last changed
        self._renewed = 0.0  # monotonic time of the last successful renew/acquire

    def step(self) -> bool:
        """One heartbeat: renew if held, else look and maybe take over. True if held after it.

        A database error propagates; ``fenced()`` says when a holder must give up anyway.
        """
        if self.held:
            self.held = self._renew()
            if not self.held:
                log.error("lease %s: taken over by another service; this one stops driving calls", self.name)
            return self.held
        self.held = self._try_take()
        return self.held

    def fenced(self) -> bool:
        """Held, but not renewed for ``fence`` seconds: a standby may be about to take over."""
        return self.held and time.monotonic() - self._renewed > self.fence

    def drop(self) -> None:
        """Forget holding (after fencing) without touching the row."""
        self.held = False
        self._seen = None

    def release(self) -> None:
        """Clean stop: free the row so a standby takes over at once."""
        if not self.held:
            return
        t = ServiceLease.__table__
        with db.transaction(self.url) as s:
            s.execute(update(t).where(t.c.name == self.name, t.c.holder == self.holder)
                      .values(holder=None, beat=t.c.beat + 1))
        self.held = False

    # ----- the conditional updates --------------------------------------------------

    def _renew(self) -> bool:
        t = ServiceLease.__table__
        with db.transaction(self.url) as s:
            n = s.execute(update(t).where(t.c.name == self.name, t.c.holder == self.holder)
                          .values(beat=t.c.beat + 1, renewed_at=db.now())).rowcount
        if n == 1:
            self._renewed = time.monotonic()
        return n == 1

    def _try_take(self) -> bool:
        t = ServiceLease.__table__
        mono = time.monotonic()
        with db.transaction(self.url) as s:
            row = s.execute(select(t.c.holder, t.c.beat).where(t.c.name == self.name)).first()
        if row is None:
            try:
                with db.transaction(self.url) as s:
                    s.execute(insert(t).values(name=self.name, holder=self.holder, beat=1, renewed_at=db.now(),
                                               acquired_at=db.now()))
            except IntegrityError:  # another service inserted it first
                return False
            self._renewed = mono
            return True
        holder, beat = row[0], row[1]
        if (holder, beat) != self._seen:
            self._seen, self._seen_since = (holder, beat), mono
        stale = mono - self._seen_since >= self.ttl or _dead_here(holder)
        if holder is not None and holder != self.holder and not stale:
            return False
        where = [t.c.name == self.name, t.c.beat == beat,
                 t.c.holder.is_(None) if holder is None else t.c.holder == holder]
        with db.transaction(self.url) as s:
            n = s.execute(update(t).where(*where).values(holder=self.holder, beat=t.c.beat + 1,
                                                         renewed_at=db.now(), acquired_at=db.now())).rowcount
        if n == 1:
            self._renewed = mono
            self._seen = None
            if holder is not None and holder != self.holder:
                log.warning("lease %s: %s stopped renewing for %.1fs; taken over", self.name, holder,
                            mono - self._seen_since)
        return n == 1
