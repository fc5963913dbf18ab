"""The IVR's database writes, off the event loop: one writer thread fed by a queue.

A session never waits for the database: ``open_call``, ``add_step``, ``add_event``,
``close_call``... put a small record on a queue and return at once (a ``queue.Queue.put``
on an unbounded queue never blocks). One thread takes whatever has piled up and writes
it in one transaction, so 500 calls ending together cost a few commits, not 500 loop
stalls. SQLite has one writer anyway; on PostgreSQL one writer is still plenty here.

Calls are named by the caller channel's Uniqueid (the session knows nothing else); the
thread maps it to the row id. A batch that fails is retried op by op, so one bad record
is one log line and loses nothing else.

Closing a call checks its recording files (recordings/store.py). Asterisk closes
MixMonitor's files just after the hangup, so a file not there yet is looked for again a
few times (up to ``recording_wait_s``, without holding up other writes) before it counts
as missing. Then the transcription job is queued (transcribe/jobs.py), in the same
transaction as the final file check, when at least one track is readable.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

import db
from ivr.tables import Call, CallEvent, MenuStep
from recordings import store as rec_store
from recordings.tables import Recording

log = logging.getLogger("ivr.callstore")

_BATCH = 500
_RECHECK_S = (0.2, 0.5, 1.0, 2.0)  # delays between looks for a recording file not there yet


class _Flush:
    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = threading.Event()


_STOP = object()
Op = tuple[Callable[..., None], tuple[Any, ...]]


def _enqueue_function() -> Callable[[Session, int], Any] | None:
    try:
        from transcribe.jobs import enqueue_call
    except ImportError:  # the transcription package is optional for the IVR
        return None
    return enqueue_call


class CallStore:
    """Thread-backed writer for calls, menu steps, call events and recording rows."""

    def __init__(self, url: str, *, transcribe: bool = True, recording_wait_s: float = 3.0) -> None:
        self.url = url
        self.transcribe = transcribe
        self.recording_wait_s = recording_wait_s
        self._q: queue.Queue[Any] = queue.Queue()
        self._ids: dict[str, int] = {}  # uniqueid -> calls.id, written by the thread only
        self._seqs: dict[str, int] = {}  # uniqueid -> last menu step number
        self._delayed: list[tuple[float, int, Op]] = []  # heap of (due, seq, op)
        self._seq = itertools.count()
        self._flushes: list[_Flush] = []
        self._thread: threading.Thread | None = None
        self._enqueue = _enqueue_function() if transcribe else None
        self.written = 0
        self.failed = 0
        self.enqueued = 0

    # ----- lifecycle --------------------------------------------------------------

    def start(self) -> CallStore:
        """Open (and migrate) the database, then start the writer thread."""
        if self._thread is None:
            self._sessions = db.sessions(self.url)
            self._thread = threading.Thread(target=self._run, name="callstore", daemon=True)
            self._thread.start()
        return self

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued (and pending file checks), then stop the thread."""
        if self._thread is None:
            return
        self.flush(timeout)
        self._q.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Block until everything queued so far, and every pending file check, is written."""
        if self._thread is None:
            return True
        marker = _Flush()
        self._q.put(marker)
        return marker.event.wait(timeout)

    def call_id(self, uniqueid: str) -> int | None:
        """The row id of a call once its row is written (None before)."""
        return self._ids.get(uniqueid)

    # ----- what sessions call (never blocks) --------------------------------------

    def open_call(self, uniqueid: str, *, at: datetime, **fields: Any) -> None:
        """The call row, at AsyncAGIStart. Reopening an existing Uniqueid updates it."""
        self._put(self._open, uniqueid, at, fields)

    def update_call(self, uniqueid: str, **fields: Any) -> None:
        self._put(self._update, uniqueid, fields)

    def add_step(self, uniqueid: str, **fields: Any) -> None:
        self._put(self._step, uniqueid, fields)

    def add_event(self, uniqueid: str, kind: str, data: dict[str, Any] | None = None, *,
                  at: datetime | None = None) -> None:
        self._put(self._event, uniqueid, kind, data or {}, at or db.now())

    def add_recordings(self, uniqueid: str, files: list[rec_store.Track], *, at: datetime) -> None:
        self._put(self._recordings, uniqueid, files, at)

    def close_call(self, uniqueid: str, **fields: Any) -> None:
        """End the call row (status ended/lost, times, cause...), check files, queue transcription."""
        self._put(self._close, uniqueid, fields)

    def _put(self, fn: Callable[..., None], *args: Any) -> None:
        self._q.put((fn, args))

    # ----- the writer thread ------------------------------------------------------

    def _run(self) -> None:
        stop = False
        while not stop:
            timeout = None
            if self._delayed:
                timeout = max(0.0, self._delayed[0][0] - time.monotonic())
            items: list[Any] = []
            try:
                items.append(self._q.get(timeout=timeout))
                while len(items) < _BATCH:
                    items.append(self._q.get_nowait())
            except queue.Empty:
                pass
            if items:
                ops: list[Op] = []
                for it in items:
                    if it is _STOP:
                        stop = True
                    elif isinstance(it, _Flush):
                        self._flushes.append(it)
                    else:
                        ops.append(it)
                self._write(ops)
            due: list[Op] = []
            now = time.monotonic()
            while self._delayed and self._delayed[0][0] <= now:
                due.append(heapq.heappop(self._delayed)[2])
            if due:
                self._write(due)
            if self._flushes and not self._delayed and self._q.empty():
                for marker in self._flushes:
                    marker.event.set()
                self._flushes.clear()
        for marker in self._flushes:
            marker.event.set()

    def _write(self, ops: list[Op]) -> None:
        if not ops:
            return
        ids_before, seqs_before = dict(self._ids), dict(self._seqs)
        later_before = list(self._delayed)
        try:
            self._transaction(ops)
            self.written += len(ops)
            return
        except Exception as exc:  # one bad op: redo one by one so the rest still lands
            log.debug("batch of %d failed (%s); retrying one by one", len(ops), exc)
            self._ids, self._seqs, self._delayed = ids_before, seqs_before, later_before
        for op in ops:
            ids_before, seqs_before = dict(self._ids), dict(self._seqs)
            try:
                self._transaction([op])
                self.written += 1
            except Exception as exc:
                self._ids, self._seqs = ids_before, seqs_before
                self.failed += 1
                fn, args = op
                key = args[0] if args else "?"
                log.error("database write %s for call %s failed: %s: %s", fn.__name__.strip("_"), key,
                          type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")

    def _transaction(self, ops: list[Op]) -> None:
        """Apply ``ops`` in one transaction: rows gathered, then one executemany per table.

        SQLAlchemy Core rather than ORM objects: the ORM's per-object bookkeeping cost this
        thread enough CPU (and so GIL time) at 500 calls to stall the event loop for tens
        of milliseconds (bench/ivr_load.py)."""
        batch = _Batch()
        with self._sessions.begin() as s:
            for fn, args in ops:
                fn(s, batch, *args)
            if batch.events:
                s.execute(insert(_EVENTS), batch.events)
            if batch.steps:
                s.execute(insert(_STEPS), batch.steps)
            if batch.recordings:
                s.execute(insert(_RECORDINGS), batch.recordings)
            for call_id, fields in batch.updates.items():
                s.execute(update(_CALLS).where(_CALLS.c.id == call_id).values(**fields))
            for uniqueid, attempt in batch.checks:
                self._check_files(s, uniqueid, attempt)

    def _later(self, delay: float, fn: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self._delayed, (time.monotonic() + delay, next(self._seq), (fn, args)))

    # ----- ops (run on the writer thread, inside a transaction) -------------------

    def _cid(self, s: Session, uniqueid: str) -> int:
        call_id = self._ids.get(uniqueid)
        if call_id is None:
            call_id = s.scalar(select(_CALLS.c.id).where(_CALLS.c.uniqueid == uniqueid))
            if call_id is None:
                raise LookupError(f"no call row for {uniqueid}")
            self._ids[uniqueid] = call_id
        return call_id

    def _open(self, s: Session, b: _Batch, uniqueid: str, at: datetime, fields: dict[str, Any]) -> None:
        call_id = s.scalar(select(_CALLS.c.id).where(_CALLS.c.uniqueid == uniqueid))
        if call_id is None:
            call_id = s.execute(insert(_CALLS).values(uniqueid=uniqueid, started_at=at, status="active", **fields)
                                .returning(_CALLS.c.id)).scalar_one()
            self._seqs[uniqueid] = 0
        else:  # adopted again after a restart or reconnect: same row, still active
            b.update(call_id, {**fields, "status": "active"})
        self._ids[uniqueid] = call_id

    def _update(self, s: Session, b: _Batch, uniqueid: str, fields: dict[str, Any]) -> None:
        b.update(self._cid(s, uniqueid), fields)

    def _step(self, s: Session, b: _Batch, uniqueid: str, fields: dict[str, Any]) -> None:
        # Numbered here, not by the session: a call adopted after a restart goes on
        # after the steps its first session wrote.
        call_id = self._cid(s, uniqueid)
        seq = self._seqs.get(uniqueid)
        if seq is None:
            seq = s.scalar(select(func.max(_STEPS.c.seq)).where(_STEPS.c.call_id == call_id)) or 0
        self._seqs[uniqueid] = seq + 1
        row = dict(_STEP_DEFAULTS)
        row.update(fields)
        row.update(call_id=call_id, seq=seq + 1, at=row["at"] or db.now())
        b.steps.append(row)

    def _event(self, s: Session, b: _Batch, uniqueid: str, kind: str, data: dict[str, Any], at: datetime) -> None:
        b.events.append({"call_id": self._cid(s, uniqueid), "kind": kind, "data": data, "at": at})

    def _recordings(self, s: Session, b: _Batch, uniqueid: str, files: list[rec_store.Track], at: datetime) -> None:
        call_id = self._cid(s, uniqueid)
        have = set(s.scalars(select(_RECORDINGS.c.kind).where(_RECORDINGS.c.call_id == call_id)))
        for t in files:
            if t.kind in have:  # adopted call: MixMonitor still writes the same files
                continue
            b.recordings.append({"call_id": call_id, "kind": t.kind, "path": str(t.local_path),
                                 "asterisk_path": t.asterisk_path, "created_at": at, "status": "recording"})
        b.update(call_id, {"recording_started_at": at})

    def _close(self, s: Session, b: _Batch, uniqueid: str, fields: dict[str, Any]) -> None:
        call_id = self._cid(s, uniqueid)
        fields.setdefault("status", "ended")
        fields.setdefault("ended_at", db.now())
        b.update(call_id, fields)
        self._seqs.pop(uniqueid, None)
        b.checks.append((uniqueid, 0))

    def _recheck(self, s: Session, b: _Batch, uniqueid: str, attempt: int) -> None:
        b.checks.append((uniqueid, attempt))

    def _check_files(self, s: Session, uniqueid: str, attempt: int) -> None:
        """Look at the call's files; while some is missing and time is left, look again later."""
        call_id = self._cid(s, uniqueid)
        r = _RECORDINGS.c
        rows = s.execute(select(r.id, r.path).where(r.call_id == call_id, r.status != "purged")).all()
        found = []
        for rec_id, path in rows:
            status, error, duration, size = rec_store.file_status(Path(path))
            found.append({"rid": rec_id, "status": status, "error": error, "duration_s": duration,
                          "size_bytes": size})
        if found:
            s.execute(update(_RECORDINGS).where(r.id == bindparam("rid"))
                      .values(status=bindparam("status"), error=bindparam("error"),
                              duration_s=bindparam("duration_s"), size_bytes=bindparam("size_bytes")), found)
        statuses = {f["status"] for f in found}
        # Missing, or still being closed (an empty or cut header): look again in a moment.
        missing = bool(statuses & {"missing", "corrupt"})
        waited = sum(_RECHECK_S[:attempt])
        if missing and attempt < len(_RECHECK_S) and waited + _RECHECK_S[attempt] <= self.recording_wait_s:
            self._later(_RECHECK_S[attempt], self._recheck, uniqueid, attempt + 1)
            return
        if "ready" in statuses and self._enqueue is not None:
            self._enqueue(s, call_id)
            self.enqueued += 1


_CALLS = Call.__table__
_EVENTS = CallEvent.__table__
_STEPS = MenuStep.__table__
_RECORDINGS = Recording.__table__
_STEP_DEFAULTS: dict[str, Any] = {"at": None, "menu": None, "prompt": None, "digit": None, "outcome": None,
                                  "action": None, "target": None, "typeahead": False}


class _Batch:
    """Rows gathered while a run of ops is applied; written together at the end."""

    __slots__ = ("checks", "events", "recordings", "steps", "updates")

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []
        self.recordings: list[dict[str, Any]] = []
        self.updates: dict[int, dict[str, Any]] = {}
        self.checks: list[tuple[str, int]] = []

    def update(self, call_id: int, fields: dict[str, Any]) -> None:
        self.updates.setdefault(call_id, {}).update(fields)


# ----- reading (the CLI, the demo, reconcile after a restart) ---------------------------


def active_calls(url: str) -> list[tuple[int, str, str]]:
    """(id, uniqueid, channel) of every call row still marked active."""
    with db.transaction(url) as s:
        rows = s.execute(select(Call.id, Call.uniqueid, Call.channel).where(Call.status == "active"))
        return [(i, u, c) for i, u, c in rows]


def recording_paths(url: str, call_id: int) -> list[Path]:
    with db.transaction(url) as s:
        return [Path(p) for p in s.scalars(select(Recording.path).where(Recording.call_id == call_id))]
