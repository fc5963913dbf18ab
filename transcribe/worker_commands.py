"""`hotline worker`: transcription workers on this host, taking tasks from PostgreSQL (Procrastinate).

Run one per worker host (docs/deploy.md); `serve` queues a task per finished call. The heavy
imports (SQLAlchemy models, Procrastinate, the engine) happen inside the command so
`hotline --help` stays quick.

Before taking work the command checks what a worker needs, and stops with one line and exit
status 2 if it is missing: the engine configured, PostgreSQL, and the recordings folder
readable here (``workers.path_map`` maps serve's paths to this host's mount).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cliutil import ConfigOpt, fail, load
from settings import Config

if TYPE_CHECKING:
    from transcribe.runner import QaScan

log = logging.getLogger("hotline.transcribe")


def recordings_problem(config: Config) -> str | None:
    """Why this host cannot read the recordings, in one line; None if it can.

    Every mapped folder (or the recordings directory when nothing is mapped) must be a readable
    folder, and the newest ready recording in the database must be found where it maps to."""
    from sqlalchemy import select

    from db import transaction
    from recordings.store import recording_file
    from recordings.tables import Recording

    mapped = config.workers.path_map
    folders = [Path(p) for p in mapped.values()] or [config.path(config.recording.directory)]
    for folder in folders:
        how = "workers.path_map" if mapped else "recording.directory"
        try:
            os.listdir(folder)  # lists: a stale NFS handle or a missing mount fails here, not mid-job
        except OSError as exc:
            return f"cannot read the recordings folder {folder} ({how}): {exc.strerror or exc}"
    with transaction(config.database_url) as s:
        newest = s.scalars(select(Recording).where(Recording.status == "ready").order_by(Recording.id.desc())).first()
        if newest is None:
            return None
        stored, path = newest.path, recording_file(config, newest.path)
    if not os.access(path, os.R_OK):
        return (f"recording {stored} (the newest) is {path} on this host, which cannot be read: "
                "is the monitor folder mounted, and workers.path_map set?")
    return None


def worker_command(qa_scan: QaScan | None = None) -> Any:
    """The `hotline worker` command; ``qa_scan`` runs on every stored transcript (the app wires QA)."""

    def worker(
        config: ConfigOpt = None,
        concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=64,
                                                 help="Worker processes (one model and one core each).")] = 1,
        name: Annotated[str | None, typer.Option("--name", help="This worker's identity on job rows "
                                                 "[default: the host name].")] = None,
    ) -> None:
        """Transcribe calls queued by `serve`, taking tasks from PostgreSQL (workers.engine: procrastinate).

        Runs until SIGTERM or Ctrl-C; a job in progress is finished first."""
        from transcribe.procrastinate_app import EngineError, uses_procrastinate

        cfg = load(config)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        try:
            if not uses_procrastinate(cfg):
                fail("worker: workers.engine is 'pool' (serve transcribes on its own host); "
                     "set workers.engine: procrastinate and a PostgreSQL database.url")
        except EngineError as exc:
            fail(f"worker: {exc}")
        ident = (name or socket.gethostname())[:48]
        _prepare(cfg)
        if concurrency == 1:
            _serve_one(cfg, ident, qa_scan)
        else:
            _supervise(cfg, ident, qa_scan, concurrency)

    return worker


def _prepare(cfg: Config) -> None:
    """Schema, readable recordings, recent calls that never got a job: once, before any process starts."""
    from datetime import timedelta

    from sqlalchemy.exc import SQLAlchemyError

    from db import engine_for, transaction
    from db import now as db_now
    from transcribe import jobs
    from transcribe.procrastinate_app import sweep

    try:
        engine_for(cfg.database_url)  # migrates (under an advisory lock): 0010 holds Procrastinate's tables
    except SQLAlchemyError as exc:
        fail(f"worker: database {cfg.database.url}: {str(exc).splitlines()[0]}", code=1)
    problem = recordings_problem(cfg)
    if problem:
        fail(f"worker: {problem}")
    with transaction(cfg.database_url) as s:
        jobs.enqueue_missing(s, since=db_now() - timedelta(days=7))
    with transaction(cfg.database_url) as s:
        sweep(s)


def _serve_one(cfg: Config, ident: str, qa_scan: QaScan | None) -> None:
    """One worker process: load the model, then run Procrastinate's worker until stopped."""
    import asyncio

    from db import dispose_all
    from transcribe.model import ModelError
    from transcribe.procrastinate_app import WorkerRuntime, run_worker
    from transcribe.settings_map import load_worker_transcriber

    dispose_all()  # a spawned child must not use connections opened before it
    me = f"{ident}:{os.getpid()}"
    try:
        transcriber = load_worker_transcriber(cfg)
    except ModelError as exc:
        fail(f"worker: {exc}", code=1)
    rt = WorkerRuntime(cfg, me, transcriber, qa_scan)
    log.info("worker %s ready (model loaded in %.1f s)", me, transcriber.load_seconds)
    asyncio.run(run_worker(rt, me))
    log.info("worker %s stopped: %d done, %d repeat deliveries ignored", me, rt.done, rt.skipped)


def _child(cfg: Config, ident: str, qa_scan: QaScan | None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    try:
        _serve_one(cfg, ident, qa_scan)
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None


def _supervise(cfg: Config, ident: str, qa_scan: QaScan | None, n: int) -> None:
    """N worker processes; one that dies is started again (a crash in one job must not idle a core)."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # no half-copied threads or connections
    stopping = False

    def start() -> Any:
        proc = ctx.Process(target=_child, args=(cfg, ident, qa_scan), name=f"worker-{ident}")
        proc.start()
        return proc

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for p in procs:
            if p.is_alive() and p.pid is not None:
                os.kill(p.pid, signal.SIGTERM)  # each finishes its job in progress, then exits

    procs = [start() for _ in range(n)]
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    restarts: list[float] = []
    while procs:
        time.sleep(0.5)
        for i, p in enumerate(list(procs)):
            if p.is_alive():
                continue
            procs.remove(p)
            if stopping or p.exitcode == 0:
                continue
            restarts = [t for t in restarts if t > time.monotonic() - 600] + [time.monotonic()]
            if len(restarts) > 10:
                log.error("worker process %d exited %s; too many restarts, not starting it again", i, p.exitcode)
                continue
            log.error("worker process %s exited %s; starting another", p.pid, p.exitcode)
            procs.append(start())
