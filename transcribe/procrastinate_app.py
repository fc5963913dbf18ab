"""Transcription workers on many hosts: Procrastinate tasks on the PostgreSQL the service already runs.

Used when ``workers.engine: procrastinate`` and ``database.url`` is PostgreSQL; the default
(``pool``: this host's process pool, SQLite or PostgreSQL) is transcribe/worker.py.

Why Procrastinate and not Celery with Redis: production already runs PostgreSQL, so the broker
is a table there (one server fewer to run, back up and watch), and a task can be queued in the
same transaction that writes its job row: a call is never left with a job and no task, or a task
and no job (:func:`defer_in`).

Our ``jobs`` row stays the record of truth; a Procrastinate task carries only the job id:

* A delivery claims the row (``jobs.claim``: one UPDATE ... WHERE status = 'queued'); a second
  delivery of a done, failed or running job claims nothing and writes nothing.
* A running task is never delivered again on a timer: Procrastinate has no visibility timeout,
  its fetch takes only ``status = 'todo'`` rows (procrastinate/sql/schema.sql, function
  ``procrastinate_fetch_job_v2``: ``AND jobs.status = 'todo'``); a ``doing`` row stays with its
  worker until that worker finishes it or is found dead. A two-hour call is safe.
* A dead worker is found by heartbeats in the database, so on any host: the running job row's
  ``heartbeat_at`` (runner.Heartbeat, every ``workers.heartbeat_s``) and Procrastinate's own
  worker heartbeat (``procrastinate_workers``). Every worker runs :func:`reap` every
  ``workers.recover_every_s``: stalled Procrastinate jobs go back to ``todo``, job rows with no
  heartbeat for ``workers.stalled_after_s`` go back to ``queued``, and a queued row with no live
  task gets one. A killed worker's job is thus taken over within about
  ``stalled_after_s + recover_every_s`` (plus the polling second).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import procrastinate
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from db import transaction
from settings import Config
from transcribe import jobs
from transcribe.runner import Heartbeat, QaScan, run_job

log = logging.getLogger("hotline.transcribe")

TASK = "hotline.transcribe_job"
QUEUE = "transcribe"
SWEEP_LOCK = 0x686F746D  # advisory lock key: one worker at a time gives queued rows their missing task


class EngineError(RuntimeError):
    """The configured engine cannot run here (str() is one line)."""


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def conninfo(url: str) -> str:
    """The libpq URI psycopg takes, from our SQLAlchemy URL (``postgresql+psycopg://...``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def uses_procrastinate(config: Config) -> bool:
    """True when transcription runs on Procrastinate workers; raises EngineError if misconfigured."""
    if config.workers.engine != "procrastinate":
        return False
    if not is_postgres(config.database_url):
        raise EngineError(f"workers.engine: procrastinate needs database.url on PostgreSQL, not {config.database.url}")
    return True


# -- enqueue ------------------------------------------------------------------------


_DEFER = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, NULL, CAST(:args AS jsonb),"
    " CAST(:at AS timestamptz))::procrastinate_job_to_defer_v1])"
)


def defer_in(session: Session, job_id: int, at: datetime | None = None) -> None:
    """Queue a task for the job in ``session``'s transaction: committed with the job row, or not at all.

    Procrastinate's own ``defer`` uses its own connection; this calls the same SQL function so the
    task cannot reach a worker before the row it names is visible."""
    args = json.dumps({"job_id": job_id})
    session.execute(_DEFER, {"queue": QUEUE, "task": TASK, "args": args, "at": at})


def enqueue_and_defer(session: Session, call_id: int) -> Any:
    """The call's job row and, if it is queued, its task (the IVR's after-call hook on this engine)."""
    job = jobs.enqueue_call(session, call_id)
    if job.status == "queued" and not _has_live_task(session, job.id):
        defer_in(session, job.id, job.run_after)
    return job


def _has_live_task(session: Session, job_id: int) -> bool:
    stmt = text("SELECT 1 FROM procrastinate_jobs WHERE task_name = :task AND status IN ('todo', 'doing')"
                " AND args->>'job_id' = :id LIMIT 1")
    return session.execute(stmt, {"task": TASK, "id": str(job_id)}).first() is not None


# -- recovery -------------------------------------------------------------------------------


_ORPHANS = text(
    "SELECT j.id, j.run_after FROM jobs j WHERE j.status = 'queued' AND j.kind = :kind AND NOT EXISTS ("
    " SELECT 1 FROM procrastinate_jobs p WHERE p.task_name = :task AND p.status IN ('todo', 'doing')"
    " AND p.args->>'job_id' = j.id::text) ORDER BY j.id"
)


def sweep(session: Session) -> list[int]:
    """Give every queued job row without a waiting or running task a task; returns their ids.

    Covers a row requeued by ``jobs.recover``, a transient failure's retry (due at its run_after),
    and rows queued by the pool engine or ``enqueue_missing``. One sweeper at a time."""
    if not session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK}).scalar():
        return []
    found = session.execute(_ORPHANS, {"kind": jobs.TRANSCRIBE, "task": TASK}).all()
    for job_id, run_after in found:
        defer_in(session, job_id, run_after)
    return [job_id for job_id, _ in found]


Reaped = tuple[int, list[tuple[int, str]], list[int]]


async def reap(app: procrastinate.App, url: str, stalled_after_s: float) -> Reaped:
    """One recovery round: (stalled tasks sent back, job rows taken back, rows given a task)."""
    stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after_s, task_name=TASK))
    alive = await asyncio.to_thread(_beating, url, [int(j.task_kwargs["job_id"]) for j in stalled], stalled_after_s)
    stalled = [j for j in stalled if int(j.task_kwargs["job_id"]) not in alive]
    for job in stalled:  # a dead worker's delivery: back to todo (it finds the row and acts on it)
        await app.job_manager.retry_job(job)

    def rows() -> tuple[list[tuple[int, str]], list[int]]:
        with transaction(url) as s:
            recovered = jobs.recover(s, stale_after_s=stalled_after_s)
        with transaction(url) as s:
            return recovered, sweep(s)

    recovered, deferred = await asyncio.to_thread(rows)
    return len(stalled), recovered, deferred


def _beating(url: str, job_ids: list[int], stalled_after_s: float) -> set[int]:
    """Of these jobs, those whose row still beats: a worker stopping gracefully stops Procrastinate's
    heartbeat while it finishes its job, and that delivery must not be sent again."""
    if not job_ids:
        return set()
    stmt = text("SELECT id FROM jobs WHERE id = ANY(:ids) AND status = 'running'"
                " AND heartbeat_at > now() - make_interval(secs => :s)")
    with transaction(url) as s:
        return set(s.scalars(stmt, {"ids": job_ids, "s": stalled_after_s}))


_ENGINE_FIGURES = text(
    "SELECT (SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > now() - make_interval(secs => :s))"
    " AS workers,"
    " (SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task AND status = 'todo') AS tasks_todo,"
    " (SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task AND status = 'doing') AS tasks_doing,"
    " (SELECT count(*) FROM jobs WHERE status = 'running' AND kind = :kind"
    "  AND coalesce(heartbeat_at, claimed_at) <= now() - make_interval(secs => :s)) AS stalled"
)


def engine_figures(url: str, stalled_after_s: float) -> dict[str, int]:
    """What `hotline status` shows of this engine (the workers run on other hosts, not in serve):
    workers whose heartbeat is fresh, tasks waiting and delivered, and job rows running whose
    heartbeat stopped (a dead worker's: the next reaper round takes them back)."""
    with transaction(url) as s:
        row = s.execute(_ENGINE_FIGURES, {"s": stalled_after_s, "task": TASK, "kind": jobs.TRANSCRIBE}).mappings()
        return {k: int(v) for k, v in row.one().items()}


# -- the worker -----------------------------------------------------------------------------


@dataclass
class WorkerRuntime:
    """What a worker process holds for its tasks: the config, its identity, the loaded model."""

    config: Config
    me: str  # name:pid, the claimant written on job rows
    transcriber: Any
    qa_scan: QaScan | None = None
    done: int = 0
    skipped: int = 0


def deliver(rt: WorkerRuntime, job_id: int) -> str:
    """Run one delivered task: claim the row, transcribe with a heartbeat, record the outcome."""
    url = rt.config.database_url
    with transaction(url) as s:
        job = jobs.claim(s, rt.me, job_id=job_id)
    if job is None:  # done, failed, or running elsewhere: this delivery is a repeat
        rt.skipped += 1
        log.info("job %s: not queued any more, delivery ignored", job_id)
        return "skipped"
    with Heartbeat(url, job, rt.config.workers.heartbeat_s):
        outcome = run_job(rt.config, rt.transcriber, job, qa_scan=rt.qa_scan)
    if outcome.status == "queued":  # a transient failure: its retry is due at the row's run_after
        with transaction(url) as s:
            sweep(s)
    rt.done += outcome.status == "done"
    log.info("job %s (call %s): %s%s", job_id, outcome.call_id, outcome.status,
             f": {outcome.message}" if outcome.message else "")
    return outcome.status


def make_app(rt: WorkerRuntime) -> procrastinate.App:
    # psycopg_pool keeps 4 connections by default; one task at a time needs the listener and one more
    connector = procrastinate.PsycopgConnector(conninfo=conninfo(rt.config.database_url), min_size=1, max_size=3)
    app = procrastinate.App(connector=connector)

    @app.task(name=TASK, queue=QUEUE)
    def transcribe_job(job_id: int) -> str:  # sync: Procrastinate runs it in a thread, its loop beats on
        return deliver(rt, job_id)

    return app


async def run_worker(rt: WorkerRuntime, name: str) -> None:
    """Run a Procrastinate worker (one task at a time: one model, one core) and the recovery loop."""
    w = rt.config.workers
    app = make_app(rt)
    async with app.open_async():
        reaper = asyncio.create_task(_reap_forever(app, rt.config.database_url, w.stalled_after_s, w.recover_every_s))
        try:
            await app.run_worker_async(
                queues=[QUEUE], name=name, concurrency=1, update_heartbeat_interval=w.heartbeat_s,
                stalled_worker_timeout=w.stalled_after_s, fetch_job_polling_interval=1.0, delete_jobs="successful",
            )  # fmt: skip
        finally:
            reaper.cancel()


async def _reap_forever(app: procrastinate.App, url: str, stalled_after_s: float, every_s: float) -> None:
    while True:
        try:
            stalled, recovered, deferred = await reap(app, url, stalled_after_s)
            if stalled or recovered or deferred:
                log.warning("recovery: %d stalled task(s) sent back, job rows taken back %s, tasks given to %s",
                            stalled, recovered, deferred)
        except Exception as exc:  # the database away: the next round tries again
            log.warning("recovery round failed: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        await asyncio.sleep(every_s)
