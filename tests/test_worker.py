"""The worker pool with real processes, real WAV files and (slow tests) the real Whisper model."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from audio_factory import (
    OPENING,
    build_call,
    long_call,
    write_corrupt,
    write_empty,
    write_header_only,
    write_truncated,
)
from sqlalchemy import func, select

from db import transaction
from ivr.tables import Call
from recordings.tables import Recording
from settings import Config, DatabaseSettings, load_config
from transcribe import jobs
from transcribe.pool_handle import start_pool
from transcribe.runner import PermanentJobError, TransientJobError, call_tracks, run_job
from transcribe.tables import Job, Transcript
from transcribe.worker import PoolEvent, PoolOptions, pool_size, run_pool

ROOT = Path(__file__).resolve().parents[1]
FAST = PoolOptions(heartbeat_s=0.5, poll_s=0.2, recover_every_s=2.0, stop_grace_s=20.0)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    cfg = load_config(ROOT / "config.yaml")
    return cfg.model_copy(update={"database": DatabaseSettings(url=f"sqlite:///{tmp_path / 'hotline.db'}")})


def add_call(config: Config, tracks: dict[str, Path], *, status: str = "ended", rec_status: str = "ready") -> int:
    """A call row with its recordings, as the IVR leaves them at hang-up."""
    with transaction(config.database_url) as s:
        call = Call(uniqueid=f"{time.time():.6f}", channel="PJSIP/caller", status=status)
        s.add(call)
        s.flush()
        for kind, path in tracks.items():
            s.add(Recording(call_id=call.id, kind=kind, path=str(path), status=rec_status))
        return call.id


def enqueue(config: Config, call_id: int) -> int:
    with transaction(config.database_url) as s:
        return jobs.enqueue_call(s, call_id).id


def job_row(config: Config, job_id: int) -> Job:
    with transaction(config.database_url) as s:
        job = s.get(Job, job_id)
        assert job is not None
        return job


def transcripts_of(config: Config, call_id: int) -> list[Transcript]:
    with transaction(config.database_url) as s:
        rows = s.scalars(select(Transcript).where(Transcript.call_id == call_id)).all()
        for r in rows:
            _ = r.segments  # load before the session closes
        return list(rows)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


# -- fast: which files a job reads, and bad input refused before the model is touched -----


def test_call_tracks_picks_both_sides_else_the_mono_file(config: Config, tmp_path: Path) -> None:
    a, b, m = tmp_path / "a.wav", tmp_path / "b.wav", tmp_path / "m.wav"
    with transaction(config.database_url) as s:
        both = add_call(config, {"caller": a, "agent": b, "mix": m})
        mix = add_call(config, {"mix": m})
        one = add_call(config, {"agent": b})
        assert [(t.speaker, t.path) for t in call_tracks(s, config, both)] == [("caller", a), ("agent", b)]
        assert [(t.speaker, t.path) for t in call_tracks(s, config, mix)] == [("unknown", m)]
        assert [(t.speaker, t.path) for t in call_tracks(s, config, one)] == [("agent", b)]


def test_call_tracks_refuses_what_cannot_be_transcribed(config: Config, tmp_path: Path) -> None:
    none = add_call(config, {})
    live = add_call(config, {"caller": tmp_path / "a.wav"}, status="active")
    purged = add_call(config, {"caller": tmp_path / "gone.wav"}, rec_status="purged")
    relative = add_call(config, {"mix": Path("2024/call.wav")})
    with transaction(config.database_url) as s:
        with pytest.raises(PermanentJobError, match="has no recordings"):
            call_tracks(s, config, none)
        with pytest.raises(TransientJobError, match="still in progress"):
            call_tracks(s, config, live)
        with pytest.raises(PermanentJobError, match=r"gone\.wav: recording is purged"):
            call_tracks(s, config, purged)
        # Relative paths are under the configured recordings folder.
        (track,) = call_tracks(s, config, relative)
        assert track.path == config.path(config.recording.directory) / "2024/call.wav"


def test_a_corrupt_track_fails_its_job_permanently_naming_the_file(config: Config, tmp_path: Path) -> None:
    bad = write_corrupt(tmp_path / "42-rx.wav")
    job_id = enqueue(config, add_call(config, {"caller": bad, "agent": bad}))
    with transaction(config.database_url) as s:
        job = jobs.claim(s, jobs.worker_id())
    assert job is not None
    outcome = run_job(config, None, job)  # the header check comes first: no model needed to refuse it
    assert outcome.status == "failed"
    row = job_row(config, job_id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.error == f"{bad}: not a RIFF/WAVE file"


def test_pool_size_follows_the_config(config: Config) -> None:
    assert pool_size(config.asr.model_copy(update={"workers": 3})) == 3
    assert pool_size(config.asr.model_copy(update={"workers": 0})) == len(os.sched_getaffinity(0))


# -- slow: real processes, real model ------------------------------------------------------


@pytest.fixture(scope="module")
def short_call(tmp_path_factory: pytest.TempPathFactory) -> Any:
    script = [("agent", None, OPENING), ("caller", None, "我想查一下我的订单。")]
    return build_call(script, tmp_path_factory.mktemp("short"), "short")


@pytest.fixture(scope="module")
def minute_call(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """About 60 s of conversation: several seconds of decoding, long enough to be killed mid-job."""
    return build_call(long_call(60.0), tmp_path_factory.mktemp("minute"), "minute")


@pytest.mark.slow
def test_bad_files_fail_their_jobs_and_the_worker_goes_on(config: Config, tmp_path: Path, short_call: Any) -> None:
    bad = {
        "corrupt": (write_corrupt(tmp_path / "corrupt.wav"), "not a RIFF/WAVE file"),
        "empty": (write_empty(tmp_path / "empty.wav"), "empty file (0 bytes)"),
        "truncated": (write_truncated(tmp_path / "truncated.wav"), "truncated data chunk"),
        "gsm": (write_header_only(tmp_path / "gsm.wav", fmt_tag=0x31, bits=0, data=b"\x00" * 650),
                "unsupported format: GSM 6.10"),
    }  # fmt: skip
    bad_jobs = {name: enqueue(config, add_call(config, {"caller": path, "agent": short_call.agent}))
                for name, (path, _) in bad.items()}  # fmt: skip
    good_call = add_call(config, {"caller": short_call.caller, "agent": short_call.agent})
    good_job = enqueue(config, good_call)  # queued last: the same worker must still be there for it

    stats = run_pool(config, drain=True, workers=1, options=FAST)

    for name, (path, why) in bad.items():
        row = job_row(config, bad_jobs[name])
        assert row.status == "failed" and row.attempts == 1, name
        assert row.error is not None and row.error.startswith(f"{path}: {why}"), row.error
    good = job_row(config, good_job)
    assert good.status == "done" and good.attempts == 1
    assert good.worker == job_row(config, bad_jobs["corrupt"]).worker, "one worker process did every job"
    (transcript,) = transcripts_of(config, good_call)
    assert {s.speaker for s in transcript.segments} == {"caller", "agent"}
    assert (stats.done, stats.failed, stats.died) == (1, 4, 0)


def exploding_qa(session: Any, config: Config, call_id: int) -> list[Any]:
    """A QA scan that writes, then breaks: its writes must vanish, the transcript must stay."""
    session.add(Call(uniqueid=f"qa-side-effect-{call_id}", channel="x"))
    session.flush()
    raise RuntimeError("rule table is broken")


@pytest.mark.slow
def test_serve_mode_picks_up_new_jobs_and_a_qa_failure_keeps_the_transcript(
    config: Config, short_call: Any
) -> None:
    events: queue.Queue[PoolEvent] = queue.Queue()
    handle = start_pool(config, workers=1, options=FAST, on_event=events.put, qa_scan=exploding_qa)
    try:
        ready = events.get(timeout=120)
        assert ready.kind == "ready", ready
        call_id = add_call(config, {"caller": short_call.caller, "agent": short_call.agent})
        job_id = enqueue(config, call_id)  # enqueued while the pool runs, as the IVR does at hang-up
        wait_for(lambda: job_row(config, job_id).status == "done", 120, "the job to be done")
    finally:
        stats = handle.stop(timeout=60)
    assert not handle.running and handle.error is None and stats is not None
    row = job_row(config, job_id)
    assert row.qa_flags is None and row.qa_error == "RuntimeError: rule table is broken"
    assert len(transcripts_of(config, call_id)) == 1
    with transaction(config.database_url) as s:
        assert s.scalar(select(func.count()).select_from(Call).where(Call.uniqueid.like("qa-side-effect%"))) == 0
    assert stats.done == 1 and len(stats.peak_rss_mb) == 1


@pytest.mark.slow
def test_a_worker_killed_mid_job_is_replaced_and_the_job_finished_exactly_once(
    config: Config, minute_call: Any
) -> None:
    call_id = add_call(config, {"caller": minute_call.caller, "agent": minute_call.agent})
    job_id = enqueue(config, call_id)
    events: queue.Queue[PoolEvent] = queue.Queue()
    handle = start_pool(config, workers=1, options=FAST, on_event=events.put)
    try:
        started = None
        while started is None:
            ev = events.get(timeout=120)
            started = ev if ev.kind == "started" and ev.job_id == job_id else None
        time.sleep(1.0)  # decoding a minute of audio takes several seconds: we are mid-job
        victim = int(started.worker.rpartition(":")[2])
        running = job_row(config, job_id)
        assert running.status == "running" and running.worker == started.worker
        assert running.heartbeat_at and running.claimed_at and running.heartbeat_at > running.claimed_at, (
            "the heartbeat thread beats while the decoder holds the main thread"
        )
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: job_row(config, job_id).status == "done", 180, "the job to be finished after the kill")
    finally:
        stats = handle.stop(timeout=60)
    row = job_row(config, job_id)
    assert row.attempts == 2, "killed on attempt 1, finished on attempt 2"
    assert row.worker != started.worker
    assert len(transcripts_of(config, call_id)) == 1
    assert stats is not None and (stats.died, stats.recovered, stats.done) == (1, 1, 1)


@pytest.mark.slow
def test_a_killed_service_leaves_the_job_to_be_finished_exactly_once_after_restart(
    config: Config, tmp_path: Path, minute_call: Any
) -> None:
    cfg_file = tmp_path / "config.yaml"
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    cfg_file.write_text(text.replace("url: sqlite:///var/hotline.db", f"url: {config.database_url}"), "utf-8")
    call_id = add_call(config, {"caller": minute_call.caller, "agent": minute_call.agent})
    job_id = enqueue(config, call_id)
    hotline = [sys.executable, "-m", "cli", "transcribe", "--pending", "--workers", "1", "--json", "-c", str(cfg_file)]

    service = subprocess.Popen(hotline, cwd=ROOT, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(lambda: job_row(config, job_id).status == "running", 120, "a worker to claim the job")
        time.sleep(1.5)
        assert job_row(config, job_id).status == "running"
    finally:
        os.killpg(service.pid, signal.SIGKILL)  # the whole service: pool parent and worker alike
        service.wait(30)
    killed = job_row(config, job_id)
    assert (killed.status, killed.attempts) == ("running", 1), "left behind as a dead worker's claim"
    assert transcripts_of(config, call_id) == []

    again = subprocess.run(hotline, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert (summary["done"], summary["failed"]) == (1, 0)
    row = job_row(config, job_id)
    assert (row.status, row.attempts) == ("done", 2)
    assert "died during attempt 1" not in (row.error or "")  # done clears the error
    assert len(transcripts_of(config, call_id)) == 1
