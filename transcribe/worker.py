"""The transcription worker pool: processes, not threads, one model per process, loaded once.

FINDINGS: a second CTranslate2 thread in one process does not help, two single-thread
processes double throughput; so the pool runs ``asr.workers`` processes (0 = one per core),
each with ``asr.cpu_threads`` (1) threads.

The parent (inside `hotline serve`, or `hotline transcribe --pending`) starts the workers
with the *spawn* method (the service process has threads and an asyncio loop, which fork
would copy half-alive), relays their events, restarts a worker that dies, and gives a dead
worker's job back to the queue. Workers claim jobs themselves; a heartbeat thread in each
keeps its claim alive while the decoder holds the main thread.

For `hotline serve` the pool runs in a supervised background thread: transcribe/pool_handle.py.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import queue
import resource
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from db import dispose_all, transaction
from db import now as db_now
from settings import AsrSettings, Config
from transcribe import jobs
from transcribe.model import ModelError, resolve_model_dir
from transcribe.runner import Heartbeat, QaScan, run_job
from transcribe.settings_map import load_worker_transcriber, model_dir_setting

log = logging.getLogger("hotline.transcribe")


class PoolError(RuntimeError):
    """The pool cannot run (model missing, workers dying at start); str() is one line."""


@dataclass(frozen=True)
class PoolOptions:
    heartbeat_s: float = 10.0  # how often a busy worker refreshes its claim
    stale_after_s: float = jobs.STALE_AFTER_S  # no heartbeat for this long: the claimant is dead
    poll_s: float = 1.0  # how often an idle worker looks for work
    recover_every_s: float = 30.0  # how often the parent looks for dead claims (other hosts too)
    stop_grace_s: float = 30.0  # on stop, how long a worker may take to finish its job
    max_restarts: int = 10  # more worker deaths than this within restart_window_s stop the pool
    restart_window_s: float = 600.0
    enqueue_missing_days: float | None = 7.0  # at start, queue recent ended calls that have no job
    log_level: int = logging.WARNING  # of the worker processes (spawned: they log to the same stderr)


@dataclass(frozen=True)
class PoolEvent:
    """What a worker reports to the parent (and the parent to ``on_event``).

    kind: ready | started | done | retry | failed | lost | exit | fatal | died | recovered"""

    kind: str
    worker: str
    job_id: int | None = None
    call_id: int | None = None
    audio_s: float | None = None
    elapsed_s: float | None = None
    message: str | None = None
    peak_rss_mb: float | None = None


@dataclass
class PoolStats:
    workers: int
    done: int = 0
    failed: int = 0
    retried: int = 0
    lost: int = 0
    died: int = 0
    recovered: int = 0
    audio_s: float = 0.0  # audio of the calls transcribed
    wall_s: float = 0.0
    load_s: dict[str, float] = field(default_factory=dict)  # model load time per worker
    peak_rss_mb: dict[str, float] = field(default_factory=dict)  # per worker process


def pool_size(settings: AsrSettings) -> int:
    """asr.workers, or one per core this process may run on."""
    if settings.workers:
        return settings.workers
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


# -- the worker process -------------------------------------------------------------------


def _outcome_event(worker: str, outcome: Any) -> PoolEvent:
    kind = {"done": "done", "queued": "retry", "failed": "failed", "lost": "lost"}[outcome.status]
    message = outcome.message
    if outcome.status == "done" and outcome.qa_error:
        message = f"QA failed: {outcome.qa_error}"
    return PoolEvent(kind, worker, outcome.job_id, outcome.call_id, outcome.audio_s, outcome.elapsed_s, message)


def worker_main(
    config: Config,
    options: PoolOptions,
    stop: Any,
    events: Any,
    drain: bool,
    parent_pid: int,
    qa_scan: QaScan | None = None,
) -> None:
    """One worker process: load the model, then claim and run jobs until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if not logging.getLogger().handlers:  # a spawned process starts with no logging set up
        logging.basicConfig(level=options.log_level, format="%(asctime)s %(levelname)s transcribe worker: %(message)s")
    dispose_all()  # never share the parent's database connections
    me = jobs.worker_id()
    try:
        transcriber = load_worker_transcriber(config)
    except Exception as exc:
        events.put(PoolEvent("fatal", me, message=f"cannot load the ASR model: {exc}".splitlines()[0]))
        raise SystemExit(3) from None
    events.put(PoolEvent("ready", me, elapsed_s=transcriber.load_seconds, peak_rss_mb=_peak_rss_mb()))
    url = config.database_url
    while not stop.is_set() and os.getppid() == parent_pid:  # an orphan stops too
        try:
            with transaction(url) as session:
                job = jobs.claim(session, me)
        except Exception as exc:  # database locked or unreachable: wait and try again
            log.warning("worker %s: cannot claim: %s", me, str(exc).splitlines()[0])
            stop.wait(options.poll_s)
            continue
        if job is None:
            if drain and not _backing_off(url):
                break
            stop.wait(options.poll_s)
            continue

        def started(audio_s: float, job: Any = job) -> None:
            events.put(PoolEvent("started", me, job.id, job.call_id, audio_s=audio_s))

        with Heartbeat(url, job, options.heartbeat_s):
            outcome = run_job(config, transcriber, job, on_start=started, qa_scan=qa_scan)
        events.put(_outcome_event(me, outcome))
    events.put(PoolEvent("exit", me, peak_rss_mb=_peak_rss_mb()))


def _backing_off(url: str) -> bool:
    """Whether a job waits out a back-off (jobs.backing_off), so a drain must wait for it; an unreadable database is
    taken as yes, as a claim that failed waits and tries again."""
    try:
        with transaction(url) as session:
            return jobs.backing_off(session)
    except Exception as exc:
        log.warning("worker: cannot read the queue: %s", str(exc).splitlines()[0])
        return True


# -- the parent ---------------------------------------------------------------------------


def _recover(
    url: str, options: PoolOptions, stats: PoolStats, emit: Callable[[PoolEvent], None], *, startup: bool = False
) -> None:
    try:
        with transaction(url) as session:
            touched = jobs.recover(session, stale_after_s=options.stale_after_s)
            missing: list[int] = []
            if startup and options.enqueue_missing_days is not None:
                since = db_now() - timedelta(days=options.enqueue_missing_days)
                missing = jobs.enqueue_missing(session, since=since)
    except Exception as exc:
        log.warning("cannot recover dead claims: %s", str(exc).splitlines()[0])
        return
    for job_id, status in touched:
        stats.recovered += 1
        emit(PoolEvent("recovered", "parent", job_id, message=f"worker died; job is {status}"))
    if missing:
        log.warning("queued %d ended call(s) that had no transcription job: %s", len(missing), missing[:20])


def run_pool(
    config: Config,
    stop_event: threading.Event | None = None,
    *,
    drain: bool = False,
    workers: int | None = None,
    options: PoolOptions | None = None,
    on_event: Callable[[PoolEvent], None] | None = None,
    qa_scan: QaScan | None = None,
) -> PoolStats:
    """Run the worker pool until ``stop_event`` is set, or (drain) until no job is queued (one backing off after a
    transient failure is waited for).

    Blocks. Recovers dead workers' jobs at start, periodically, and when a worker dies.
    Raises PoolError if the model cannot be loaded or workers keep dying."""
    opts = options or PoolOptions()
    stop_event = stop_event or threading.Event()
    size = workers or pool_size(config.asr)
    stats = PoolStats(workers=size)
    url = config.database_url
    try:  # assemble/check the model once here, so N workers do not all fail the same way
        resolve_model_dir(model_dir_setting(config))
    except ModelError as exc:
        raise PoolError(str(exc)) from None

    def emit(event: PoolEvent) -> None:
        _count(stats, event)
        if on_event is not None:
            try:
                on_event(event)
            except Exception:  # a progress bar's bug must not kill the pool
                log.exception("pool event handler failed")

    started = time.perf_counter()
    _recover(url, opts, stats, emit, startup=True)
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    events = ctx.Queue()
    procs: list[Any] = []

    def spawn() -> None:
        proc = ctx.Process(
            target=worker_main, args=(config, opts, stop, events, drain, os.getpid(), qa_scan),
            name="transcribe-worker", daemon=True,
        )  # fmt: skip
        proc.start()
        procs.append(proc)

    for _ in range(size):
        spawn()
    fatal: str | None = None
    deaths: deque[float] = deque()
    interrupted = False
    deadline: float | None = None
    next_recover = time.monotonic() + opts.recover_every_s
    try:
        while procs:
            try:
                event = events.get(timeout=0.2)
                if event.kind == "fatal" and fatal is None:
                    fatal = event.message
                    stop.set()
                emit(event)
                continue
            except queue.Empty:
                pass
            if stop_event.is_set() and not stop.is_set():
                stop.set()
            if stop.is_set() and deadline is None:
                deadline = time.monotonic() + opts.stop_grace_s
            for proc in list(procs):
                if proc.exitcode is None:  # also reaps a dead child, so its pid counts as gone
                    continue
                procs.remove(proc)
                if proc.exitcode != 0 and fatal is None:
                    stats.died += 1
                    deaths.append(time.monotonic())
                    emit(PoolEvent("died", jobs.worker_id(proc.pid), message=f"exit code {proc.exitcode}"))
                    _recover(url, opts, stats, emit)
                    while deaths and deaths[0] < time.monotonic() - opts.restart_window_s:
                        deaths.popleft()
                    if len(deaths) > opts.max_restarts:
                        fatal = (f"{len(deaths)} workers died within {opts.restart_window_s:.0f} s "
                                 f"(last exit code {proc.exitcode}); stopping")  # fmt: skip
                        stop.set()
                    elif not stop.is_set():
                        spawn()
            if deadline is not None and time.monotonic() > deadline:
                _terminate(procs)
            if time.monotonic() >= next_recover:
                _recover(url, opts, stats, emit)
                next_recover = time.monotonic() + opts.recover_every_s
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
        _terminate(procs)
    finally:
        _terminate(procs)
        with contextlib.suppress(Exception):
            while True:
                emit(events.get_nowait())
        _recover(url, opts, stats, emit)  # jobs of workers cut short go straight back to the queue
        events.close()
        stats.wall_s = time.perf_counter() - started
    if interrupted:
        raise KeyboardInterrupt
    if fatal:
        raise PoolError(fatal)
    return stats


def _terminate(procs: list[Any]) -> None:
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()
    procs.clear()


def _count(stats: PoolStats, event: PoolEvent) -> None:
    if event.kind == "done":
        stats.done += 1
        stats.audio_s += event.audio_s or 0.0
    elif event.kind == "failed":
        stats.failed += 1
    elif event.kind == "retry":
        stats.retried += 1
    elif event.kind == "lost":
        stats.lost += 1
    elif event.kind == "ready" and event.elapsed_s is not None:
        stats.load_s[event.worker] = event.elapsed_s
    elif event.kind == "exit" and event.peak_rss_mb is not None:
        stats.peak_rss_mb[event.worker] = event.peak_rss_mb
