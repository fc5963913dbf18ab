"""The durable job queue on a real SQLite file: claims, back-off, failures, recovery, exactly-once."""

from __future__ import annotations

import multiprocessing as mp
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

import db
from db import transaction
from ivr.tables import Call
from transcribe import jobs
from transcribe.engine import AsrSegment, CallResult, TrackResult, Word, merge
from transcribe.tables import Job, Segment, Transcript


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hotline.db'}"


def add_calls(url: str, n: int) -> list[int]:
    with transaction(url) as s:
        tag = uuid.uuid4().hex[:8]  # unique across tests sharing one server
        calls = [Call(uniqueid=f"{tag}.{i}", channel=f"PJSIP/caller-{i}", status="ended") for i in range(n)]
        s.add_all(calls)
        s.flush()
        return [c.id for c in calls]


def enqueue(url: str, call_ids: list[int], **kw: int) -> list[int]:
    with transaction(url) as s:
        return [jobs.enqueue_call(s, c, **kw).id for c in call_ids]


def claim(url: str, worker: str = "host:1", **kw: object) -> Job | None:
    with transaction(url) as s:
        return jobs.claim(s, worker, **kw)  # type: ignore[arg-type]


def get(url: str, job_id: int) -> Job:
    with transaction(url) as s:
        job = s.get(Job, job_id)
        assert job is not None
        return job


def a_result() -> CallResult:
    """A real engine result: two tracks, merged by time."""
    words = (Word(0.5, 0.9, "您好", 0.91),)
    agent = TrackResult("agent", "a.wav", 12.0, 4.0, (AsrSegment(0.5, 2.0, "您好", "agent", -0.3, 0.01, words),), (),
                        False, None, 0.4)  # fmt: skip
    caller = TrackResult("caller", "c.wav", 12.0, 3.0, (AsrSegment(3.0, 5.5, "我想退货", "caller", -0.5, 0.02),), (),
                         False, None, 0.3)  # fmt: skip
    return merge([caller, agent])


def transcripts(url: str) -> int:
    with transaction(url) as s:
        return s.scalar(select(func.count()).select_from(Transcript)) or 0


# -- enqueue ------------------------------------------------------------------------------


def test_enqueue_is_idempotent_one_job_per_call(url: str) -> None:
    call_id, other = add_calls(url, 2)
    first = enqueue(url, [call_id])[0]
    assert enqueue(url, [call_id, call_id])[0] == first
    job = claim(url)
    assert job is not None
    with transaction(url) as s:
        jobs.complete(s, job, a_result(), model="m", options={}, elapsed_s=1.0)
    # After it is done, enqueueing again (an IVR retry, a CLI user) neither adds nor re-runs it.
    assert enqueue(url, [call_id])[0] == first
    assert get(url, first).status == "done"
    assert claim(url) is None
    enqueue(url, [other])
    with transaction(url) as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 2
        with pytest.raises(LookupError, match="no call with id 999"):
            jobs.enqueue_call(s, 999)


def _enqueue_all(url: str, call_ids: list[int]) -> None:
    db.dispose_all()
    for c in call_ids:
        with transaction(url) as s:
            jobs.enqueue_call(s, c)


def race_enqueue(url: str, call_ids: list[int], processes: int) -> None:
    """Several forked processes each enqueue every call, at once."""
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_enqueue_all, args=(url, call_ids)) for _ in range(processes)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0


def test_enqueue_races_between_processes_make_one_job_per_call(url: str) -> None:
    call_ids = add_calls(url, 40)
    race_enqueue(url, call_ids, 3)
    with transaction(url) as s:
        per_call = s.execute(select(Job.call_id, func.count()).group_by(Job.call_id)).all()
    assert sorted(c for c, _ in per_call) == call_ids
    assert {n for _, n in per_call} == {1}


def test_enqueue_missing_queues_ended_calls_left_without_a_job(url: str) -> None:
    from recordings.tables import Recording

    ended, live, purged, queued, _no_audio = add_calls(url, 5)
    with transaction(url) as s:
        s.get(Call, live).status = "active"  # type: ignore[union-attr]
        for call_id, status in ((ended, "ready"), (live, "recording"), (purged, "purged"), (queued, "ready")):
            s.add(Recording(call_id=call_id, kind="caller", path=f"/rec/{call_id}-rx.wav", status=status))
    enqueue(url, [queued])
    with transaction(url) as s:
        assert jobs.enqueue_missing(s) == [ended]  # not in progress, not purged, not already queued, has audio
        assert jobs.enqueue_missing(s) == []
        assert jobs.enqueue_missing(s, since=db.now() + timedelta(seconds=1)) == []
        assert sorted(j.call_id for j in jobs.list_jobs(s)) == [ended, queued]  # the call without audio gets none


# -- claim --------------------------------------------------------------------------------


def test_claim_takes_the_oldest_queued_job_and_marks_it_running(url: str) -> None:
    ids = enqueue(url, add_calls(url, 2))
    job = claim(url, "box:42")
    assert job is not None and job.id == ids[0]
    row = get(url, ids[0])
    assert (row.status, row.worker, row.attempts) == ("running", "box:42", 1)
    assert row.claimed_at is not None and row.heartbeat_at is not None
    second = claim(url, "box:43")
    assert second is not None and second.id == ids[1]
    assert claim(url, "box:44") is None  # both running: nothing left


def _claim_all(url: str, worker: str, out: mp.Queue) -> None:  # type: ignore[type-arg]
    db.dispose_all()  # a forked child must open its own connections
    got = []
    while True:
        with transaction(url) as s:
            job = jobs.claim(s, worker)
        if job is None:
            break
        got.append(job.id)
    out.put((worker, got))


def race_claims(url: str, prefix: str, processes: int = 4) -> dict[str, list[int]]:
    """Forked workers claim until the queue is empty: worker name -> the job ids it got."""
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_claim_all, args=(url, f"{prefix}:{n}", out)) for n in range(processes)]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(30)
    return results


def test_claim_is_atomic_across_processes(url: str) -> None:
    ids = enqueue(url, add_calls(url, 150))
    results = race_claims(url, "host")
    claimed = [j for got in results.values() for j in got]
    assert sorted(claimed) == ids, "every job claimed exactly once"
    assert sum(1 for got in results.values() if got) >= 2, "the claimants really competed"
    with transaction(url) as s:
        rows = s.scalars(select(Job)).all()
        owner = {j: w for w, got in results.items() for j in got}
        assert all(r.status == "running" and r.attempts == 1 and r.worker == owner[r.id] for r in rows)


# -- failures -----------------------------------------------------------------------------


def test_transient_failure_retries_with_exponential_backoff_then_gives_up(url: str) -> None:
    (job_id,) = enqueue(url, add_calls(url, 1), max_attempts=3)
    t0 = db.now()
    job = claim(url, now=t0)
    assert job is not None
    with transaction(url) as s:
        assert jobs.fail(s, job, "database is locked", transient=True, now=t0) == "queued"
    row = get(url, job_id)
    assert row.status == "queued" and row.worker is None and "database is locked" in (row.error or "")
    assert row.run_after == t0 + timedelta(seconds=jobs.BACKOFF_BASE_S)
    assert claim(url, now=t0 + timedelta(seconds=jobs.BACKOFF_BASE_S - 1)) is None  # still backing off
    t1 = t0 + timedelta(seconds=jobs.BACKOFF_BASE_S)
    job = claim(url, now=t1)
    assert job is not None and job.attempts == 2
    with transaction(url) as s:
        assert jobs.fail(s, job, "out of memory", transient=True, now=t1) == "queued"
    assert get(url, job_id).run_after == t1 + timedelta(seconds=2 * jobs.BACKOFF_BASE_S)  # doubled
    job = claim(url, now=t1 + timedelta(seconds=2 * jobs.BACKOFF_BASE_S))
    assert job is not None and job.attempts == 3
    with transaction(url) as s:
        assert jobs.fail(s, job, "out of memory", transient=True) == "failed"
    row = get(url, job_id)
    assert row.status == "failed" and row.error == "out of memory (gave up after 3 attempts)"
    assert row.finished_at is not None
    assert claim(url, now=t1 + timedelta(days=1)) is None


def test_a_drain_waits_for_a_job_backing_off_and_not_for_a_failed_one(url: str) -> None:
    # A drained run (the demo, qa eval-calls) stopped once nothing was claimable; a call whose first attempt met a
    # locked database was left untranscribed, its retry due 30 s later (seen in CI under load).
    (job_id,) = enqueue(url, add_calls(url, 1), max_attempts=2)
    t0 = db.now()
    with transaction(url) as s:
        assert not jobs.backing_off(s, now=t0)  # queued and due: claimable, nothing to wait for
    job = claim(url, now=t0)
    assert job is not None
    with transaction(url) as s:
        jobs.fail(s, job, "database is locked", transient=True, now=t0)
    with transaction(url) as s:
        assert jobs.backing_off(s, now=t0) and jobs.runnable(s, now=t0) == []
        assert not jobs.backing_off(s, now=t0 + timedelta(seconds=jobs.BACKOFF_BASE_S))  # due again
    job = claim(url, now=t0 + timedelta(seconds=jobs.BACKOFF_BASE_S))
    assert job is not None
    with transaction(url) as s:
        jobs.fail(s, job, "database is locked", transient=True)  # out of attempts: failed, not waited for
    assert get(url, job_id).status == "failed"
    with transaction(url) as s:
        assert not jobs.backing_off(s, now=t0)


def test_permanent_failure_fails_at_once_with_the_reason(url: str) -> None:
    (job_id,) = enqueue(url, add_calls(url, 1), max_attempts=3)
    job = claim(url)
    assert job is not None
    with transaction(url) as s:
        assert jobs.fail(s, job, "/rec/1-rx.wav: not a RIFF/WAVE file", transient=False) == "failed"
    row = get(url, job_id)
    assert (row.status, row.attempts, row.error) == ("failed", 1, "/rec/1-rx.wav: not a RIFF/WAVE file")
    assert claim(url, now=db.now() + timedelta(days=1)) is None
    with transaction(url) as s:  # after the file is fixed, an operator can run it again
        jobs.retry(s, job_id)
    again = claim(url)
    assert again is not None and again.id == job_id and again.attempts == 1


def test_backoff_doubles_and_is_capped() -> None:
    assert [jobs.backoff_s(n, base=10, cap=100) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 80, 100]


# -- completion is exactly once -----------------------------------------------------------


def test_complete_saves_transcript_and_done_together(url: str) -> None:
    (call_id,) = add_calls(url, 1)
    (job_id,) = enqueue(url, [call_id])
    job = claim(url)
    assert job is not None
    with transaction(url) as s:
        saved = jobs.complete(s, job, a_result(), model="whisper-base", options={"beam_size": 5}, elapsed_s=0.7)
        transcript_id = saved.id
    row = get(url, job_id)
    assert (row.status, row.error, row.elapsed_s, row.audio_s) == ("done", None, 0.7, 12.0)
    with transaction(url) as s:
        t = s.get(Transcript, transcript_id)
        assert t is not None and (t.call_id, t.job_id, t.duration_s) == (call_id, job_id, 12.0)
        segs = s.scalars(select(Segment).where(Segment.transcript_id == t.id).order_by(Segment.seq)).all()
        assert [(x.speaker, x.start_s, x.text) for x in segs] == [("agent", 0.5, "您好"), ("caller", 3.0, "我想退货")]
        assert segs[0].words == [[0.5, 0.9, "您好", 0.91]] and segs[1].words is None
    # A second completion of the same claim (a retried commit, a confused worker) changes nothing.
    with pytest.raises(jobs.LostClaim), transaction(url) as s:
        jobs.complete(s, job, a_result(), model="m", options={}, elapsed_s=1.0)
    assert transcripts(url) == 1


def test_a_presumed_dead_worker_that_finishes_late_writes_nothing(url: str) -> None:
    (job_id,) = enqueue(url, add_calls(url, 1))
    slow = claim(url, "host:100")
    assert slow is not None
    later = db.now() + timedelta(seconds=61)
    with transaction(url) as s:  # its heartbeat is long overdue: recovery gives the job back
        touched = jobs.recover(s, stale_after_s=60, now=later)
    assert touched == [(job_id, "queued")]
    fresh = claim(url, "host:200", now=later)
    assert fresh is not None and fresh.attempts == 2
    with pytest.raises(jobs.LostClaim), transaction(url) as s:
        jobs.complete(s, slow, a_result(), model="m", options={}, elapsed_s=9.0)
    with transaction(url) as s:
        assert not jobs.heartbeat(s, slow)
        assert jobs.heartbeat(s, fresh)
    assert transcripts(url) == 0 and get(url, job_id).status == "running"
    with transaction(url) as s:
        jobs.complete(s, fresh, a_result(), model="m", options={}, elapsed_s=1.0)
    assert transcripts(url) == 1
    row = get(url, job_id)
    assert (row.status, row.worker, row.attempts) == ("done", "host:200", 2)


# -- recovery -----------------------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_recover_requeues_jobs_of_dead_local_workers_only(url: str) -> None:
    ids = enqueue(url, add_calls(url, 3))
    host = jobs.worker_id(0).rpartition(":")[0]
    dead, alive = claim(url, f"{host}:{_dead_pid()}"), claim(url, jobs.worker_id(os.getpid()))
    remote = claim(url, "other-host:1")  # not ours to judge by pid: only its heartbeat counts
    assert dead and alive and remote
    with transaction(url) as s:
        assert jobs.recover(s) == [(ids[0], "queued")]
    row = get(url, ids[0])
    assert (row.status, row.worker, row.attempts) == ("queued", None, 1)
    assert "died during attempt 1" in (row.error or "")
    assert get(url, ids[1]).status == "running" and get(url, ids[2]).status == "running"
    with transaction(url) as s:  # later, the remote worker's heartbeat is stale; ours is kept fresh
        assert jobs.heartbeat(s, alive, now=db.now() + timedelta(seconds=500))
        touched = jobs.recover(s, stale_after_s=120, now=db.now() + timedelta(seconds=500))
    assert touched == [(ids[2], "queued")]


def test_recover_fails_a_job_that_keeps_killing_its_worker(url: str) -> None:
    (job_id,) = enqueue(url, add_calls(url, 1), max_attempts=2)
    host = jobs.worker_id(0).rpartition(":")[0]
    for attempt in (1, 2):
        job = claim(url, f"{host}:{_dead_pid()}")
        assert job is not None and job.attempts == attempt
        with transaction(url) as s:
            jobs.recover(s)
    row = get(url, job_id)
    assert row.status == "failed" and "no attempts left" in (row.error or "")


def test_list_and_counts(url: str) -> None:
    ids = enqueue(url, add_calls(url, 3))
    job = claim(url)
    assert job is not None
    with transaction(url) as s:
        jobs.fail(s, job, "bad file", transient=False)
        assert [j.id for j in jobs.list_jobs(s)] == ids[::-1]
        assert [j.id for j in jobs.list_jobs(s, status="failed")] == [ids[0]]
        assert jobs.counts(s) == {"failed": 1, "queued": 2}
        assert [j.id for j in jobs.runnable(s)] == ids[1:]


# -- the same guarantees on PostgreSQL (FOR UPDATE SKIP LOCKED) ----------------------------


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL server on a Unix socket in a temp dir (no TCP port)."""
    import pwd
    import shutil
    import tempfile

    pytest.importorskip("psycopg")
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    as_user: list[str] = []
    home = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    if os.geteuid() == 0:  # postgres refuses to run as root
        pw = pwd.getpwnam("postgres")
        os.chown(home, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = home / "data"
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True, timeout=120)  # noqa: E731
    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "hotline", "-A", "trust", "--no-sync")
    opts = f"-k {home} -c listen_addresses='' -c fsync=off"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(home / "log"), "-w", "start")
    try:
        run(str(bin_dir / "createdb"), "-h", str(home), "-U", "hotline", "hotline")
        yield f"postgresql+psycopg://hotline@/hotline?host={home}"
    finally:
        db.dispose_all()
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.own_postgres
def test_postgresql_claims_are_atomic_and_enqueue_idempotent(pg_url: str) -> None:
    call_ids = add_calls(pg_url, 120)
    race_enqueue(pg_url, call_ids, 2)
    with transaction(pg_url) as s:
        ids = list(s.scalars(select(Job.id).where(Job.call_id.in_(call_ids)).order_by(Job.id)))
    assert len(ids) == len(call_ids)
    results = race_claims(pg_url, "pg")
    claimed = sorted(j for got in results.values() for j in got)
    assert claimed == ids and sum(1 for got in results.values() if got) >= 2


@pytest.mark.own_postgres
def test_postgresql_backoff_and_exactly_once_completion(pg_url: str) -> None:
    (call_id,) = add_calls(pg_url, 1)
    (job_id,) = enqueue(pg_url, [call_id])
    job = claim(pg_url, "pg:1", job_id=job_id)
    assert job is not None
    t0 = db.now()
    with transaction(pg_url) as s:
        assert jobs.fail(s, job, "connection reset", transient=True, now=t0) == "queued"
    row = get(pg_url, job_id)
    assert row.status == "queued" and row.run_after == t0 + timedelta(seconds=jobs.BACKOFF_BASE_S)
    job = claim(pg_url, "pg:2", job_id=job_id)
    assert job is not None and job.attempts == 2
    with transaction(pg_url) as s:
        jobs.complete(s, job, a_result(), model="m", options={"beam_size": 5}, elapsed_s=1.0)
    with pytest.raises(jobs.LostClaim), transaction(pg_url) as s:
        jobs.complete(s, job, a_result(), model="m", options={}, elapsed_s=1.0)
    with transaction(pg_url) as s:
        n = s.scalar(select(func.count()).select_from(Transcript).where(Transcript.call_id == call_id))
    assert n == 1 and get(pg_url, job_id).status == "done"
