"""The IVR's database writes, off the event loop: one writer fed by a queue.

A session never waits for the database: ``open_call``, ``add_step``, ``add_event``,
``close_call``... put a small record on a queue and return at once (``put`` on an
unbounded queue never blocks). One writer takes whatever has piled up (lingering
``linger_s`` after the first record) and writes it in one transaction, one executemany
per table, so 500 calls ending together cost a few commits, not 500 loop stalls.
SQLite has one writer anyway; on PostgreSQL one writer is still plenty here.

The writer runs in a thread (``process=False``, the default: cheap to start, for tests
and small sites) or in a child process (``process=True``: what `hotline serve` uses).
Measured with bench/ivr_load.py at 500 calls on 2 busy cores, the thread's database CPU
(SQLAlchemy, file checks, the transcription enqueue) is GIL time taken from the event
loop and doubled its p99 lag; in its own process it takes none.

Calls are named by the caller channel's Uniqueid (the session knows nothing else); the
writer maps it to the row id. A batch that fails is retried op by op, so one bad record
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
import multiprocessing as mp
import queue
import signal
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
# After the first op of a batch, gather for this long: each transaction costs the thread
# ~0.5 ms of CPU (and so GIL time taken from the event loop) whatever its size, and ops
# arrive a few at a time; 50 ms cut transactions ~10x at 500 calls (bench/ivr_load.py).
_LINGER_S = 0.05
_RECHECK_S = (0.2, 0.5, 1.0, 2.0)  # delays between looks for a recording file not there yet


_STOP = "__stop__"
_FLUSH = "__flush__"
Op = tuple[str, tuple[Any, ...]]


# Called in the writer's transaction when a closed call has a ready recording (the app passes the
# transcription enqueue here; the IVR itself knows nothing of transcription). Must be picklable: a
# module-level function, since the writer may run in a spawned process.
OnRecordingsReady = Callable[[Session, int], Any]


class CallStore:
    """Writer of calls, menu steps, call events and recording rows (a thread or a process)."""

    def __init__(self, url: str, *, on_recordings_ready: OnRecordingsReady | None = None,
                 recording_wait_s: float = 3.0, linger_s: float = _LINGER_S, process: bool = False) -> None:
        self.url = url
        self.process = process
        self._options = (on_recordings_ready, recording_wait_s, linger_s)
        self._q: Any = None
        self._worker: threading.Thread | Any = None
        self._results: threading.Thread | None = None
        self._tokens = itertools.count(1)
        self._waiting: dict[int, threading.Event] = {}
        self._lock = threading.Lock()
        self.written = 0
        self.failed = 0
        self.enqueued = 0

    # ----- lifecycle --------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> CallStore:
        """Open (and migrate) the database, then start the writer."""
        if self._worker is not None:
            return self
        db.sessions(self.url)  # migrate here, once, so a child process finds the schema ready
        if not self.process:
            self._q = queue.Queue()
            writer = _Writer(self.url, *self._options, done=self._flushed)
            self._worker = threading.Thread(target=writer.run, args=(self._q.get,), name="callstore", daemon=True)
            self._worker.start()
            return self
        ctx = mp.get_context("spawn")  # the service has threads and a loop: never fork it
        self._q = ctx.Queue()
        results = ctx.Queue()
        self._worker = ctx.Process(target=_writer_main, args=(self.url, self._options, self._q, results),
                                   name="hotline-callstore", daemon=True)
        self._worker.start()
        ready = results.get(timeout=timeout)
        if ready != "ready":
            raise RuntimeError(f"call store process did not start: {ready}")
        self._results = threading.Thread(target=self._read_results, args=(results,), name="callstore-results",
                                         daemon=True)
        self._results.start()
        return self

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued (and pending file checks), then stop the writer."""
        if self._worker is None:
            return
        self.flush(timeout)
        self._q.put((_STOP, ()))
        self._worker.join(timeout)
        if self.process and self._worker.is_alive():
            self._worker.terminate()
        if self._results is not None:
            self._results.join(5)
        self._worker = None

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Block until everything queued so far, and every pending file check, is written."""
        if self._worker is None:
            return True
        token = next(self._tokens)
        event = threading.Event()
        with self._lock:
            self._waiting[token] = event
        self._q.put((_FLUSH, (token,)))
        ok = event.wait(timeout)
        with self._lock:
            self._waiting.pop(token, None)
        return ok

    def _flushed(self, token: int, stats: tuple[int, int, int]) -> None:
        self.written, self.failed, self.enqueued = stats
        with self._lock:
            event = self._waiting.get(token)
        if event is not None:
            event.set()

    def _read_results(self, results: Any) -> None:
        while True:
            try:
                item = results.get(timeout=1.0)
            except queue.Empty:
                if self._worker is None or not self._worker.is_alive():
                    if self._worker is not None:
                        log.error("call store process died (exit code %s); records sent since are lost",
                                  self._worker.exitcode)
                    return
                continue
            if item == _STOP:
                return
            self._flushed(*item)

    # ----- what sessions call (never blocks) --------------------------------------

    def open_call(self, uniqueid: str, *, at: datetime, **fields: Any) -> None:
        """The call row, at AsyncAGIStart. Reopening an existing Uniqueid updates it."""
        self._put("open", uniqueid, at, fields)

    def update_call(self, uniqueid: str, **fields: Any) -> None:
        self._put("update", uniqueid, fields)

    def add_step(self, uniqueid: str, **fields: Any) -> None:
        self._put("step", uniqueid, fields)

    def add_event(self, uniqueid: str, kind: str, data: dict[str, Any] | None = None, *,
                  at: datetime | None = None) -> None:
        self._put("event", uniqueid, kind, data or {}, at or db.now())

    def add_recordings(self, uniqueid: str, files: list[rec_store.Track], *, at: datetime) -> None:
        self._put("recordings", uniqueid, files, at)

    def close_call(self, uniqueid: str, **fields: Any) -> None:
        """End the call row (status ended/lost, times, cause...), check files, queue transcription."""
        self._put("close", uniqueid, fields)

    def _put(self, name: str, *args: Any) -> None:
        if self._q is None:
            raise RuntimeError("CallStore.start() was not called")
        self._q.put((name, args))


def _writer_main(url: str, options: tuple[OnRecordingsReady | None, float, float], inq: Any, results: Any) -> None:
    """The call store process: write until told to stop; flush answers go back on ``results``.

    It logs its own errors (one line per failed write) to the stderr it shares with the service."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the service, which then stops us
    try:
        writer = _Writer(url, *options, done=lambda token, stats: results.put((token, stats)))
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")
        return
    results.put("ready")
    writer.run(inq.get)
    results.put(_STOP)


class _Writer:
    """The database side: applies ops in batches; lives in a thread or in the child process."""

    def __init__(self, url: str, on_recordings_ready: OnRecordingsReady | None, recording_wait_s: float,
                 linger_s: float, *,
                 done: Callable[[int, tuple[int, int, int]], None]) -> None:
        self.url = url
        self.recording_wait_s = recording_wait_s
        self.linger_s = linger_s
        self._done = done
        self._sessions = db.sessions(url)
        self._enqueue = on_recordings_ready
        self._ids: dict[str, int] = {}  # uniqueid -> calls.id
        self._seqs: dict[str, int] = {}  # uniqueid -> last menu step number
        self._delayed: list[tuple[float, int, Op]] = []  # heap of (due, seq, op)
        self._seq = itertools.count()
        self._flushes: list[int] = []
        self.written = 0
        self.failed = 0
        self.enqueued = 0

    def run(self, get: Callable[..., Op]) -> None:
        stop = False
        while not stop:
            timeout = None
            if self._delayed:
                timeout = max(0.0, self._delayed[0][0] - time.monotonic())
            items: list[Op] = []
            try:
                items.append(get(timeout=timeout))
                until = time.monotonic() + self.linger_s
                while len(items) < _BATCH and items[-1][0] not in (_STOP, _FLUSH):  # someone waits: write now
                    items.append(get(timeout=max(0.0, until - time.monotonic())))
            except queue.Empty:
                pass
            ops: list[Op] = []
            for name, args in items:
                if name == _STOP:
                    stop = True
                elif name == _FLUSH:
                    self._flushes.append(args[0])
                else:
                    ops.append((name, args))
            self._write(ops)
            due: list[Op] = []
            now = time.monotonic()
            while self._delayed and self._delayed[0][0] <= now:
                due.append(heapq.heappop(self._delayed)[2])
            self._write(due)
            if self._flushes and (stop or not self._delayed):
                for token in self._flushes:
                    self._done(token, (self.written, self.failed, self.enqueued))
                self._flushes.clear()

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
                name, args = op
                key = args[0] if args else "?"
                log.error("database write %s for call %s failed: %s: %s", name, key,
                          type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")

    def _transaction(self, ops: list[Op]) -> None:
        """Apply ``ops`` in one transaction: rows gathered, then one executemany per table.

        SQLAlchemy Core rather than ORM objects: the ORM's per-object bookkeeping cost this
        thread enough CPU (and so GIL time) at 500 calls to stall the event loop for tens
        of milliseconds (bench/ivr_load.py)."""
        batch = _Batch()
        with self._sessions.begin() as s:
            for name, args in ops:
                getattr(self, "_" + name)(s, batch, *args)
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
