"""The call store's database side (ivr/callstore.py puts ops on its queue): apply ops in
batches, one transaction each, retried with backoff while the database is away or locked;
an op that fails by itself is written to ``rejected.jsonl`` in the journal folder and logged.
Runs in a thread, or as the `hotline-callstore` child process (``writer_main``), which
exits when the service dies (a SIGKILL leaves it orphaned) as soon as the batch it is
writing is in; every op it was sent is in the service's journal, which the next start replays.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime
from multiprocessing.connection import wait as wait_ready
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

import db
from ivr.journal import encode
from ivr.tables import Call, CallEvent, MenuStep
from recordings import store as rec_store
from recordings.tables import Recording

log = logging.getLogger("ivr.callstore")

_BATCH = 500
# After the first op of a batch, gather for this long: each transaction costs the thread
# ~0.5 ms of CPU (and so GIL time taken from the event loop) whatever its size, and ops
# arrive a few at a time; 50 ms cut transactions ~10x at 500 calls (bench/ivr_load.py).
_LINGER_S = 0.05
_RECHECK_S = (0.2, 0.5, 1.0, 2.0)  # delays between looks for a recording file not there yet


ORPHAN_GRACE_S = 2.0  # how long an orphaned writer process lets the batch it is writing finish
_RETRY_FIRST_S = 0.1  # backoff while the database is away: 0.1 s doubling to 5 s
_RETRY_MAX_S = 5.0

_STOP = "__stop__"
_FLUSH = "__flush__"
Op = tuple[str, tuple[Any, ...]]
_Item = tuple[str, tuple[Any, ...], int, bool]  # op name, args, journal number (0: not journaled), careful


class _Stopped(Exception):
    """close() gave up waiting for the database: the rest stays in the journal."""


# Called in the writer's transaction when a closed call has a ready recording (the app passes the
# transcription enqueue here; the IVR itself knows nothing of transcription). Must be picklable: a
# module-level function, since the writer may run in a spawned process.
OnRecordingsReady = Callable[[Session, int], Any]



def _line(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def _transient(exc: BaseException) -> bool:
    """The database is away or busy (locked, restarting, unreachable): wait and try again.
    Anything else is this op's own fault and will fail the same way every time."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError | DisconnectionError | TimeoutError | ConnectionError)


def writer_main(url: str, options: tuple[Any, ...], inq: Any, results: Any) -> None:
    """The call store process: write until told to stop; flush answers go back on ``results``.

    It logs its own errors (one line per failed write) to the stderr it shares with the service."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the service, which then stops us
    try:
        writer = Writer(url, *options, done=lambda token, stats: results.put((token, stats)),
                         landed=lambda n: results.put(("landed", n)))
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")
        return
    _exit_with_parent(writer)
    results.put("ready")
    writer.run(inq.get)
    results.put(_STOP)


def _exit_with_parent(writer: Writer) -> None:
    """When the service process is gone, exit once the batch being written is in (a database
    away: retrying stops; one that does not answer gets ``ORPHAN_GRACE_S``). Nothing is drained
    from the queue: a parent killed mid-send can leave half a message there, and every op
    sent is in the service's journal anyway."""
    parent = mp.parent_process()
    if parent is None:  # not started by multiprocessing: nothing to watch
        return

    def watch() -> None:
        wait_ready([parent.sentinel])  # readable once the parent has died
        log.error("call store process: the service (pid %s) is gone; exiting, its journal keeps the writes "
                  "not yet in the database", parent.pid)
        writer.stopping.set()
        writer.busy.acquire(timeout=ORPHAN_GRACE_S)
        logging.shutdown()
        os._exit(0)

    threading.Thread(target=watch, name="callstore-parent", daemon=True).start()


class Writer:
    """The database side: applies ops in batches; lives in a thread or in the child process."""

    def __init__(self, url: str, on_recordings_ready: OnRecordingsReady | None, recording_wait_s: float,
                 linger_s: float, journal_dir: str, *,
                 done: Callable[[int, tuple[int, int, int]], None], landed: Callable[[int], None]) -> None:
        self.url = url
        self.recording_wait_s = recording_wait_s
        self.linger_s = linger_s
        self.rejected_path = Path(journal_dir) / "rejected.jsonl"
        self._done = done
        self._landed = landed
        self._sessions: Any = None  # opened (and migrated) on first write: the database may be away now
        self._enqueue = on_recordings_ready
        self._ids: dict[str, int] = {}  # uniqueid -> calls.id
        self._seqs: dict[str, int] = {}  # uniqueid -> last menu step number
        self._delayed: list[tuple[float, int, Op]] = []  # heap of (due, seq, op)
        self._seq = itertools.count()
        self._flushes: list[int] = []
        self.stopping = threading.Event()  # set by close() in thread mode: give up retrying for now
        self.busy = threading.Lock()  # held while ops are written: an orphaned process exits between batches
        # A close is marked landed only once its file checks are over: a writer killed while it
        # waits for MixMonitor's files must have the close replayed, or the files stay 'recording'.
        self._holds: dict[str, int] = {}  # uniqueid -> journal number of its close
        self._current = 0  # journal number of the op being applied
        self._last = 0  # highest journal number written
        self._reported = 0
        self.written = 0
        self.failed = 0
        self.enqueued = 0

    def run(self, get: Callable[..., Any]) -> None:
        stop = False
        while not stop:
            timeout = None
            if self._delayed:
                timeout = max(0.0, self._delayed[0][0] - time.monotonic())
            items: list[Any] = []
            try:
                items.append(get(timeout=timeout))
                until = time.monotonic() + self.linger_s
                while len(items) < _BATCH and items[-1][0] not in (_STOP, _FLUSH):  # someone waits: write now
                    items.append(get(timeout=max(0.0, until - time.monotonic())))
            except queue.Empty:
                pass
            ops: list[_Item] = []
            for item in items:
                if item[0] == _STOP:
                    stop = True
                elif item[0] == _FLUSH:
                    self._flushes.append(item[1][0])
                else:
                    ops.append(item)
            try:
                with self.busy:
                    self._write(ops)
                    due: list[_Item] = []
                    now = time.monotonic()
                    while self._delayed and self._delayed[0][0] <= now:
                        name, args = heapq.heappop(self._delayed)[2]
                        due.append((name, args, 0, True))
                    self._write(due)
                    self._report()
            except _Stopped:
                return
            if self._flushes and (stop or not self._delayed):
                for token in self._flushes:
                    self._done(token, (self.written, self.failed, self.enqueued))
                self._flushes.clear()

    def _write(self, ops: list[_Item]) -> None:
        """Write ``ops`` in one transaction, retried until it lands; if an op itself is bad,
        one by one, so the bad one is one log line (and a line in rejected.jsonl), nothing more."""
        if not ops:
            return
        last = max(op[2] for op in ops)
        careful = any(op[3] for op in ops)
        try:
            self._until_it_lands(ops, careful)
            self.written += len(ops)
        except _Stopped:
            raise
        except Exception as exc:
            log.debug("batch of %d failed (%s); retrying one by one", len(ops), exc)
            for op in ops:
                try:
                    self._until_it_lands([op], True)  # the batch may have been half applied: careful
                    self.written += 1
                except _Stopped:
                    raise
                except Exception as exc:
                    self._reject(op, exc)
        self._last = max(self._last, last)
        self._report()

    def _report(self) -> None:
        mark = min(self._holds.values()) - 1 if self._holds else self._last
        if mark > self._reported:
            self._reported = mark
            self._landed(mark)

    def _until_it_lands(self, ops: list[_Item], careful: bool) -> None:
        """One transaction, retried with backoff while the database is away or locked."""
        delay, since = _RETRY_FIRST_S, None
        while True:
            ids_before, seqs_before, later_before = dict(self._ids), dict(self._seqs), list(self._delayed)
            holds_before = dict(self._holds)
            try:
                self._transaction(ops, careful)
                if since is not None:
                    log.warning("database back after %.1fs; the journaled writes are landing", time.monotonic() - since)
                return
            except Exception as exc:
                self._ids, self._seqs, self._delayed = ids_before, seqs_before, later_before
                self._holds = holds_before
                if not _transient(exc):
                    raise
                if since is None:
                    since = time.monotonic()
                    log.warning("database unavailable (%s); writes wait in the journal, retrying", _line(exc))
                careful = True  # a commit cut off mid-way may have landed: look before inserting again
                if self.stopping.wait(delay):
                    raise _Stopped from exc
                delay = min(delay * 2, _RETRY_MAX_S)

    def _reject(self, op: _Item, exc: Exception) -> None:
        self.failed += 1
        name, args = op[0], op[1]
        key = args[0] if args else "?"
        kept = ""
        try:
            with self.rejected_path.open("a", encoding="utf-8") as f:
                f.write(encode(op[2], name, args)[:-1] + f', "error": {json.dumps(_line(exc), ensure_ascii=False)}}}\n')
            kept = f"; kept in {self.rejected_path}"
        except (OSError, TypeError, ValueError):
            pass
        log.error("database write %s for call %s failed: %s%s", name, key, _line(exc), kept)

    def _transaction(self, ops: list[_Item], careful: bool = False) -> None:
        """Apply ``ops`` in one transaction: rows gathered, then one executemany per table.

        SQLAlchemy Core rather than ORM objects: the ORM's per-object bookkeeping cost this
        thread enough CPU (and so GIL time) at 500 calls to stall the event loop for tens
        of milliseconds (bench/ivr_load.py). ``careful``: the ops may have landed already
        (a replay, or a retry after a cut connection): rows that are there are not added again."""
        if self._sessions is None:
            self._sessions = db.sessions(self.url)
        batch = _Batch()
        batch.careful = careful
        with self._sessions.begin() as s:
            for op in ops:
                self._current = op[2]
                getattr(self, "_" + op[0])(s, batch, *op[1])
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

    def _later(self, delay: float, name: str, *args: Any) -> None:
        heapq.heappush(self._delayed, (time.monotonic() + delay, next(self._seq), (name, args)))

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
        if b.careful and s.scalar(select(_STEPS.c.id).where(_STEPS.c.call_id == call_id,
                                                            _STEPS.c.at == fields.get("at"))) is not None:
            return
        seq = self._seqs.get(uniqueid)
        if seq is None:
            seq = s.scalar(select(func.max(_STEPS.c.seq)).where(_STEPS.c.call_id == call_id)) or 0
        self._seqs[uniqueid] = seq + 1
        row = dict(_STEP_DEFAULTS)
        row.update(fields)
        row.update(call_id=call_id, seq=seq + 1, at=row["at"] or db.now())
        b.steps.append(row)

    def _event(self, s: Session, b: _Batch, uniqueid: str, kind: str, data: dict[str, Any], at: datetime) -> None:
        call_id = self._cid(s, uniqueid)
        if b.careful and s.scalar(select(_EVENTS.c.id).where(_EVENTS.c.call_id == call_id, _EVENTS.c.kind == kind,
                                                             _EVENTS.c.at == at)) is not None:
            return
        b.events.append({"call_id": call_id, "kind": kind, "data": data, "at": at})

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
        b.update(call_id, {"status": "ended", "ended_at": db.now(), **fields})
        self._seqs.pop(uniqueid, None)
        if self._current:
            self._holds[uniqueid] = self._current
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
            # absolute: the IVR stores recordings.store.tracks' local paths (recording_file's rule)
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
            self._later(_RECHECK_S[attempt], "recheck", uniqueid, attempt + 1)
            return
        self._holds.pop(uniqueid, None)
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

    __slots__ = ("careful", "checks", "events", "recordings", "steps", "updates")

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []
        self.recordings: list[dict[str, Any]] = []
        self.updates: dict[int, dict[str, Any]] = {}
        self.checks: list[tuple[str, int]] = []
        self.careful = False

    def update(self, call_id: int, fields: dict[str, Any]) -> None:
        self.updates.setdefault(call_id, {}).update(fields)
