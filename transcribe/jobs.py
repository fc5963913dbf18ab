"""The durable transcription queue: jobs are rows, so a crash or restart loses none and repeats none.

The life of a job::

    queued --claim--> running --complete--> done
       ^                 |
       |                 +--fail(transient), attempts left--> queued (run_after = now + backoff)
       |                 +--fail(permanent) or no attempts left--> failed
       +--recover (its worker died: pid gone on this host, or no heartbeat for a while)

Three rules keep "never lost, never run twice" true:

* ``claim`` is one UPDATE ... WHERE id = (SELECT ... LIMIT 1) AND status = 'queued' RETURNING.
  On PostgreSQL the inner SELECT takes ``FOR UPDATE SKIP LOCKED`` so concurrent workers pick
  different rows instead of queueing behind one lock; on SQLite the whole statement runs under
  the database's single write lock, and the repeated ``status = 'queued'`` makes a second
  claimant of the same row update nothing. Claim in a fresh transaction (on SQLite a
  transaction that has already read cannot take the write lock if someone wrote since).
* A claim is a token: (job id, worker, attempt number). ``complete`` and ``fail`` change the
  row only while that token still holds, so a worker presumed dead that wakes up late finds
  its claim gone (``LostClaim``) and writes nothing.
* ``complete`` writes the transcript and ``status = 'done'`` in the caller's one transaction:
  either both are committed or neither, so a finished job is never picked up again.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from db import now as utcnow
from ivr.tables import Call
from recordings.tables import Recording
from transcribe.store import ResultLike, save_transcript
from transcribe.tables import Job, Transcript

TRANSCRIBE = "transcribe"
DEFAULT_MAX_ATTEMPTS = 3
BACKOFF_BASE_S = 30.0  # first retry after 30 s, then 60 s, 120 s ... (a busy disk or DB recovers)
BACKOFF_MAX_S = 3600.0
STALE_AFTER_S = 120.0  # no heartbeat for this long: the claimant is presumed dead
STATUSES = ("queued", "running", "done", "failed")


class LostClaim(RuntimeError):
    """The job is no longer ours (recovered after a missed heartbeat, or finished elsewhere)."""


def worker_id(pid: int | None = None) -> str:
    """``host:pid`` of a worker process: recovery checks the pid when the host is this one."""
    host = socket.gethostname()[:48]
    return f"{host}:{pid if pid is not None else os.getpid()}"


def backoff_s(attempts: int, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_MAX_S) -> float:
    """Delay before retry number ``attempts`` (1-based): base, 2*base, 4*base ... capped."""
    return min(cap, base * 2 ** max(0, attempts - 1))


# -- enqueue --------------------------------------------------------------------------------


def enqueue_call(session: Session, call_id: int, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Job:
    """The call's transcription job, created if there is none (idempotent, safe under races).

    A second enqueue of the same call returns the existing job whatever its status: a done job
    is not run again; use ``retry`` to run a failed one again."""
    if session.get(Call, call_id) is None:
        raise LookupError(f"no call with id {call_id}")
    at = utcnow()
    values: dict[str, Any] = {
        "kind": TRANSCRIBE, "call_id": call_id, "status": "queued", "attempts": 0,
        "max_attempts": max_attempts, "run_after": at, "created_at": at,
    }  # fmt: skip
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite_insert if dialect == "sqlite" else pg_insert
        # ON CONFLICT on the (kind, call_id) unique key: two enqueuers racing both succeed.
        session.execute(insert(Job).values(**values).on_conflict_do_nothing(index_elements=["kind", "call_id"]))
    elif _job_for(session, call_id) is None:
        session.add(Job(**values))
        session.flush()
    job = _job_for(session, call_id)
    assert job is not None
    return job


def enqueue_missing(session: Session, *, since: datetime | None = None) -> list[int]:
    """Queue every ended call that has recordings but no transcription job; returns the call ids.

    A safety net for a service that crashed between closing a call and queueing its job."""
    # 'ready' is what the IVR sets once a file is closed and checked; it enqueues on the same rule.
    usable = exists().where(Recording.call_id == Call.id, Recording.status == "ready")
    has_job = exists().where(Job.call_id == Call.id, Job.kind == TRANSCRIBE)
    stmt = select(Call.id).where(Call.status != "active", usable, ~has_job).order_by(Call.id)
    if since is not None:
        stmt = stmt.where(Call.started_at >= since)
    found = list(session.scalars(stmt))
    for call_id in found:
        enqueue_call(session, call_id)
    return found


def _job_for(session: Session, call_id: int) -> Job | None:
    stmt = select(Job).where(Job.kind == TRANSCRIBE, Job.call_id == call_id)
    return session.scalars(stmt.execution_options(populate_existing=True)).first()


# -- claim, heartbeat -----------------------------------------------------------------------


def claim(
    session: Session, worker: str, *, now: datetime | None = None, job_id: int | None = None
) -> Job | None:
    """Take the oldest runnable queued job (or the given one, if it is queued) for ``worker``.

    Atomic across processes on SQLite and PostgreSQL; returns None when nothing is runnable.
    ``now`` exists for tests of the back-off (a job waits until its run_after)."""
    at = now or utcnow()
    row = aliased(Job)  # its own FROM: the subquery must not correlate with the UPDATE's table
    pick = select(row.id).where(row.status == "queued", row.kind == TRANSCRIBE)
    pick = pick.where(row.id == job_id) if job_id is not None else pick.where(row.run_after <= at)
    pick = pick.order_by(row.id).limit(1).with_for_update(skip_locked=True)  # no-op on SQLite
    stmt = (
        update(Job)
        .where(Job.id == pick.scalar_subquery(), Job.status == "queued")
        .values(
            status="running", worker=worker, attempts=Job.attempts + 1,
            claimed_at=at, heartbeat_at=at, finished_at=None,
        )
        .returning(Job)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return session.scalars(stmt).first()


def _held(job: Job) -> Any:
    """The claim token as a WHERE clause: still running, by this worker, on this attempt."""
    return and_(Job.id == job.id, Job.status == "running", Job.worker == job.worker, Job.attempts == job.attempts)


def heartbeat(session: Session, job: Job, *, now: datetime | None = None) -> bool:
    """Mark the claim alive; False means it was lost (recovered by someone else)."""
    stmt = update(Job).where(_held(job)).values(heartbeat_at=now or utcnow())
    return session.execute(stmt.execution_options(synchronize_session=False)).rowcount == 1  # type: ignore[attr-defined]


# -- finish ---------------------------------------------------------------------------------


def complete(
    session: Session,
    job: Job,
    result: ResultLike,
    *,
    model: str,
    options: dict[str, Any],
    elapsed_s: float,
    audio_s: float | None = None,
) -> Transcript:
    """Save the transcript and mark the job done, in ``session``'s one transaction.

    Raises LostClaim (and changes nothing) if the claim no longer holds: the caller must
    roll back, which the ``db.transaction`` context manager does on the exception."""
    stmt = update(Job).where(_held(job)).values(
        status="done", finished_at=utcnow(), error=None, elapsed_s=elapsed_s,
        audio_s=audio_s if audio_s is not None else float(result.duration),
    )  # fmt: skip
    if session.execute(stmt.execution_options(synchronize_session=False)).rowcount != 1:  # type: ignore[attr-defined]
        raise LostClaim(f"job {job.id}: claim by {job.worker} (attempt {job.attempts}) no longer holds")
    return save_transcript(session, result, call_id=job.call_id, job_id=job.id, model=model, options=options)


def fail(
    session: Session,
    job: Job,
    reason: str,
    *,
    transient: bool,
    now: datetime | None = None,
    elapsed_s: float | None = None,
    audio_s: float | None = None,
) -> str:
    """Record a failure; returns the job's new status: 'queued' (retry later) or 'failed'.

    Transient errors go back to the queue with exponential back-off until max_attempts;
    permanent ones (a file that will never decode) fail at once."""
    at = now or utcnow()
    retry = transient and job.attempts < job.max_attempts
    if retry:
        values: dict[str, Any] = {
            "status": "queued", "worker": None, "error": f"attempt {job.attempts}: {reason}",
            "run_after": at + timedelta(seconds=backoff_s(job.attempts)),
        }  # fmt: skip
    else:
        gave_up = f" (gave up after {job.attempts} attempts)" if transient else ""
        values = {"status": "failed", "error": reason + gave_up, "finished_at": at}
    values.update(elapsed_s=elapsed_s, audio_s=audio_s)
    stmt = update(Job).where(_held(job)).values(**values)
    if session.execute(stmt.execution_options(synchronize_session=False)).rowcount != 1:  # type: ignore[attr-defined]
        raise LostClaim(f"job {job.id}: claim by {job.worker} (attempt {job.attempts}) no longer holds")
    return str(values["status"])


def note_qa(session: Session, job_id: int, *, flags: int | None, error: str | None) -> None:
    """What the QA scan after the transcript did (it never changes the job's status)."""
    stmt = update(Job).where(Job.id == job_id).values(qa_flags=flags, qa_error=error)
    session.execute(stmt.execution_options(synchronize_session=False))


def retry(session: Session, job_id: int) -> Job:
    """Put a failed job back in the queue with a fresh set of attempts (after fixing its files)."""
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        raise LookupError(f"no job with id {job_id}")
    if job.status != "failed":
        raise ValueError(f"job {job_id} is {job.status}, only a failed job can be retried")
    job.status, job.attempts, job.run_after, job.worker, job.finished_at = "queued", 0, utcnow(), None, None
    session.flush()
    return job


# -- recovery -------------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    """True if a process with this pid runs here (a zombie counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill()
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _dead_here(worker: str | None, host: str) -> bool:
    if not worker or ":" not in worker:
        return True
    name, _, pid = worker.rpartition(":")
    return name == host and pid.isdigit() and not pid_alive(int(pid))


def recover(
    session: Session, *, stale_after_s: float = STALE_AFTER_S, now: datetime | None = None
) -> list[tuple[int, str]]:
    """Give back jobs whose worker died: queued again, or failed once out of attempts.

    A worker is dead if its pid is gone on this host, or (any host) if its heartbeat is older
    than ``stale_after_s``. Returns (job id, new status) for each job it touched."""
    at = now or utcnow()
    host = worker_id(0).rpartition(":")[0]
    stale = at - timedelta(seconds=stale_after_s)
    running = session.scalars(
        select(Job).where(Job.status == "running").execution_options(populate_existing=True)
    ).all()
    touched: list[tuple[int, str]] = []
    for job in running:
        beat = job.heartbeat_at or job.claimed_at
        if not (_dead_here(job.worker, host) or beat is None or beat < stale):
            continue
        why = f"worker {job.worker} died during attempt {job.attempts}"
        if job.attempts >= job.max_attempts:
            # A job that kills its worker every time (a file that crashes the decoder) must stop.
            values: dict[str, Any] = {"status": "failed", "error": why + " (no attempts left)", "finished_at": at}
        else:
            values = {"status": "queued", "worker": None, "run_after": at, "error": why}
        stmt = update(Job).where(_held(job)).values(**values)
        if session.execute(stmt.execution_options(synchronize_session=False)).rowcount == 1:  # type: ignore[attr-defined]
            touched.append((job.id, str(values["status"])))
    return touched


# -- reading --------------------------------------------------------------------------------


def list_jobs(session: Session, *, status: str | None = None, limit: int = 100) -> list[Job]:
    """Newest first."""
    stmt = select(Job).order_by(Job.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(Job.status == status)
    return list(session.scalars(stmt))


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
    return {status: n for status, n in rows}


def runnable(session: Session, *, now: datetime | None = None) -> list[Job]:
    """Queued jobs whose back-off has passed, oldest first (what a drain will run)."""
    at = now or utcnow()
    stmt = select(Job).where(Job.status == "queued", Job.kind == TRANSCRIBE, Job.run_after <= at)
    return list(session.scalars(stmt.order_by(Job.id)))


def backing_off(session: Session, *, now: datetime | None = None) -> bool:
    """Whether a queued job waits out its back-off after a transient failure: a drain that stopped now would leave
    it untranscribed until the next run."""
    at = now or utcnow()
    stmt = select(Job.id).where(Job.status == "queued", Job.kind == TRANSCRIBE, Job.run_after > at).limit(1)
    return session.scalar(stmt) is not None
