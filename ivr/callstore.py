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
writer maps it to the row id (ivr/callwriter.py holds the writer).

Nothing is dropped. Every op is fsync'd to a journal (ivr/journal.py) before the writer sees
it; the writer retries a transaction with backoff for as long as the database is locked or
away, and reports the op number that landed, which the journal marks. A writer process that
dies is started again with every op not yet landed; a store that starts finds the journals
dead stores left and replays them first. Replayed or retried ops are applied carefully (a
step or event already there is not added again), so a replay adds no duplicates. An op that
fails by itself (no such call) is one log line and a line in ``rejected.jsonl``.

Closing a call checks its recording files (recordings/store.py). Asterisk closes
MixMonitor's files just after the hangup, so a file not there yet is looked for again a
few times (up to ``recording_wait_s``, without holding up other writes) before it counts
as missing. Then the transcription job is queued (transcribe/jobs.py), in the same
transaction as the final file check, when at least one track is readable.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing as mp
import queue
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

import db
from ivr.callwriter import _FLUSH, _LINGER_S, _STOP, OnRecordingsReady, Op, Writer, _line, writer_main
from ivr.journal import Journal, default_folder
from ivr.tables import Call
from recordings import store as rec_store

__all__ = ["CallStore", "OnRecordingsReady", "active_calls"]

log = logging.getLogger("ivr.callstore")


class CallStore:
    """Writer of calls, menu steps, call events and recording rows (a thread or a process).

    Every op goes first to the journal (ivr/journal.py, fsync'd by a small thread, a batch at
    a time), then to the writer, which retries it with backoff until it lands; the writer
    tells which op number landed and the journal marks it. A dead writer process is started
    again and given every op not yet landed; a new store replays what an old one left."""

    def __init__(self, url: str, *, on_recordings_ready: OnRecordingsReady | None = None,
                 recording_wait_s: float = 3.0, linger_s: float = _LINGER_S, process: bool = False,
                 journal_dir: Path | None = None) -> None:
        self.url = url
        self.process = process
        self.journal_dir = journal_dir or default_folder(url)
        self._options = (on_recordings_ready, recording_wait_s, linger_s, str(self.journal_dir))
        self._q: Any = None
        self._worker: threading.Thread | Any = None
        self._writer: Writer | None = None
        self._results: threading.Thread | None = None
        self._journaler: threading.Thread | None = None
        self._journal: Journal | None = None
        self._tokens = itertools.count(1)
        self._waiting: dict[int, threading.Event] = {}
        self._lock = threading.Lock()  # _waiting, _unsent
        self._wake = threading.Condition(self._lock)
        self._qlock = threading.RLock()  # _q, _pending, the journal file
        self._unsent: list[tuple[str, tuple[Any, ...]]] = []
        self._pending: dict[int, Op] = {}  # journaled, not yet landed: n -> op
        self._next_n = 1
        self._closing = False
        self.written = 0
        self.failed = 0
        self.enqueued = 0
        self.restarts = 0  # writer processes started again after dying
        self.replayed = 0  # ops taken over from an earlier store's journal

    @property
    def backlog(self) -> int:
        """Ops journaled but not yet in the database (status, metrics)."""
        with self._qlock:
            return len(self._pending)

    # ----- lifecycle --------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> CallStore:
        """Open the journal, take over what earlier stores left, start the writer.

        The schema is migrated here when the database answers; when it does not, the store
        starts anyway (ops wait in the journal) and the writer migrates once it can."""
        if self._worker is not None:
            return self
        try:
            db.sessions(self.url)  # migrate here, once, so a child process finds the schema ready
        except OperationalError as exc:
            log.warning("database not reachable at start (%s); calls are journaled until it is", _line(exc))
        self._journal = Journal(self.journal_dir)
        self._pending, self.replayed = {}, 0
        self._start_writer(timeout)
        self.take_over_journals()
        self._closing = False
        self._journaler = threading.Thread(target=self._journal_loop, name="callstore-journal", daemon=True)
        self._journaler.start()
        return self

    def take_over_journals(self) -> set[str]:
        """Replay the ops that stores which died left unlanded in their journals: at start, and
        when a standby takes the lease (the active service was killed just after a call ended,
        its close still in its journal). Returns the Uniqueids of the calls those ops close."""
        assert self._journal is not None, "CallStore.start() opens the journal"
        with self._qlock:
            left = self._journal.take_over()
            entries = [(self._n(), name, args) for name, args in left]
            self._journal.append(entries)
            self._journal.drop_orphans()
            for n, name, args in entries:
                self._pending[n] = (name, args)
                self._q.put((name, args, n, True))
        if entries:
            log.warning("replaying %d call store op(s) left in the journal %s", len(entries), self.journal_dir)
        self.replayed += len(entries)
        return {str(args[0]) for _, name, args in entries if name == "close" and args}

    def _n(self) -> int:
        n = self._next_n
        self._next_n += 1
        return n

    def _start_writer(self, timeout: float) -> None:
        if not self.process:
            self._q = queue.Queue()
            self._writer = Writer(self.url, *self._options, done=self._flushed, landed=self._landed)
            self._worker = threading.Thread(target=self._writer.run, args=(self._q.get,), name="callstore",
                                            daemon=True)
            self._worker.start()
            return
        ctx = mp.get_context("spawn")  # the service has threads and a loop: never fork it
        q = ctx.Queue()
        results = ctx.Queue()
        worker = ctx.Process(target=writer_main, args=(self.url, self._options, q, results),
                             name="hotline-callstore", daemon=True)
        worker.start()
        ready = results.get(timeout=timeout)
        if ready != "ready":
            raise RuntimeError(f"call store process did not start: {ready}")
        self._q, self._worker = q, worker
        self._results = threading.Thread(target=self._read_results, args=(results, worker),
                                         name="callstore-results", daemon=True)
        self._results.start()

    @property
    def writer_pid(self) -> int | None:
        return self._worker.pid if self.process and self._worker is not None else None

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued (and pending file checks), then stop the writer.

        Ops the database did not take in ``timeout`` stay in the journal for the next start."""
        if self._worker is None:
            return
        self.flush(timeout)
        with self._lock:
            self._closing = True
            self._wake.notify_all()
        if self._journaler is not None:
            self._journaler.join(timeout)
        with self._qlock:
            self._q.put((_STOP, ()))
            worker = self._worker
            self._worker = None
        if self._writer is not None:
            self._writer.stopping.set()
        worker.join(timeout)
        if self.process and worker.is_alive():
            worker.terminate()
        if self._results is not None:
            self._results.join(5)
        with self._qlock:
            left = len(self._pending)
            if self._journal is not None:
                self._journal.close(remove=left == 0)
                if left:
                    log.warning("%d call store op(s) not yet in the database stay in %s; the next start writes "
                                "them", left, self._journal.path)
            self._journal = None

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Block until everything queued so far, and every pending file check, is written."""
        if self._worker is None:
            return True
        token = next(self._tokens)
        event = threading.Event()
        with self._lock:
            self._waiting[token] = event
            self._unsent.append((_FLUSH, (token,)))
            self._wake.notify()
        ok = event.wait(timeout)
        with self._lock:
            self._waiting.pop(token, None)
        return ok

    def journaled(self, timeout: float = 10.0) -> bool:
        """Block until every op put so far is fsync'd in the journal (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._unsent and not self._journaling:
                    return True
            time.sleep(0.01)
        return False

    _journaling = False

    def _journal_loop(self) -> None:
        """Take what sessions put, fsync it into the journal, then hand it to the writer."""
        while True:
            with self._lock:
                while not self._unsent and not self._closing:
                    self._wake.wait()
                if not self._unsent and self._closing:
                    return
                items, self._unsent = self._unsent, []
                self._journaling = True
            try:
                with self._qlock:
                    numbered = [(self._n() if name not in (_STOP, _FLUSH) else 0, name, args)
                                for name, args in items]
                    assert self._journal is not None
                    try:
                        self._journal.append([e for e in numbered if e[0]])
                    except OSError as exc:  # a full disk: the ops still go to the writer, not lost here
                        log.error("call store journal %s: %s", self._journal.path, exc)
                    for n, name, args in numbered:
                        if n:
                            self._pending[n] = (name, args)
                            self._q.put((name, args, n, False))
                        else:
                            self._q.put((name, args))
            finally:
                with self._lock:
                    self._journaling = False

    def _landed(self, n: int) -> None:
        with self._qlock:
            for k in [k for k in self._pending if k <= n]:
                del self._pending[k]
            if self._journal is not None:
                self._journal.landed(n)
                if not self._pending:
                    self._journal.restart_if_large()

    def _flushed(self, token: int, stats: tuple[int, int, int]) -> None:
        self.written, self.failed, self.enqueued = stats
        with self._lock:
            event = self._waiting.get(token)
        if event is not None:
            event.set()

    def _read_results(self, results: Any, worker: Any) -> None:
        while True:
            try:
                item = results.get(timeout=0.5)
            except queue.Empty:
                if worker.is_alive():
                    continue
                if self._worker is worker:  # died under us, not stopped by close()
                    self._restart_writer(worker.exitcode)
                return
            except (EOFError, OSError):
                return
            if item == _STOP:
                return
            if item[0] == "landed":
                self._landed(item[1])
            else:
                self._flushed(*item)

    def _restart_writer(self, exitcode: int | None) -> None:
        """A dead writer process: start another and give it every op not yet landed, in order."""
        delay = 0.5
        while True:
            with self._qlock:
                if self._worker is None:  # closing
                    return
                log.error("call store process died (exit code %s); starting another with %d op(s) not yet "
                          "written", exitcode, len(self._pending))
                try:
                    self._start_writer(60.0)
                except Exception as exc:
                    log.error("call store process did not start again: %s; retrying in %.0fs", _line(exc), delay)
                else:
                    self.restarts += 1
                    for n in sorted(self._pending):
                        name, args = self._pending[n]
                        self._q.put((name, args, n, True))
                    with self._lock:
                        tokens = list(self._waiting)
                    for token in tokens:
                        self._q.put((_FLUSH, (token,)))
                    return
            time.sleep(delay)
            delay = min(delay * 2, 10.0)

    # ----- what sessions call (never blocks) --------------------------------------

    def open_call(self, uniqueid: str, *, at: datetime, **fields: Any) -> None:
        """The call row, at AsyncAGIStart. Reopening an existing Uniqueid updates it."""
        self._put("open", uniqueid, at, fields)

    def update_call(self, uniqueid: str, **fields: Any) -> None:
        self._put("update", uniqueid, fields)

    def add_step(self, uniqueid: str, **fields: Any) -> None:
        # Stamped here, not by the writer: a replayed step keeps its time and is recognised.
        self._put("step", uniqueid, {**fields, "at": fields.get("at") or db.now()})

    def add_event(self, uniqueid: str, kind: str, data: dict[str, Any] | None = None, *,
                  at: datetime | None = None) -> None:
        self._put("event", uniqueid, kind, data or {}, at or db.now())

    def add_recordings(self, uniqueid: str, files: list[rec_store.Track], *, at: datetime) -> None:
        self._put("recordings", uniqueid, files, at)

    def close_call(self, uniqueid: str, **fields: Any) -> None:
        """End the call row (status ended/lost, times, cause...), check files, queue transcription."""
        fields.setdefault("status", "ended")
        fields.setdefault("ended_at", db.now())  # the hang-up time, even if the database is away
        self._put("close", uniqueid, fields)

    def _put(self, name: str, *args: Any) -> None:
        if self._q is None:
            raise RuntimeError("CallStore.start() was not called")
        with self._lock:
            self._unsent.append((name, args))
            self._wake.notify()



# ----- reading (the CLI, the demo, reconcile after a restart) ---------------------------


def active_calls(url: str) -> list[tuple[int, str, str]]:
    """(id, uniqueid, channel) of every call row still marked active."""
    with db.transaction(url) as s:
        rows = s.execute(select(Call.id, Call.uniqueid, Call.channel).where(Call.status == "active"))
        return [(i, u, c) for i, u, c in rows]
