"""Running one claimed job: find the call's tracks, transcribe, save, QA, or fail with a reason.

Used by the worker pool (one Transcriber per process) and by `hotline transcribe --call`.
Every outcome is written to the job row; nothing here raises for a bad call or file, so a
worker goes on with the next job whatever this one held.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from db import transaction
from ivr.tables import Call
from ivr.timeline import Timeline, call_timeline
from menus.prompts import prompt_dir
from recordings.audio import AudioError, probe_wav
from recordings.store import recording_file
from recordings.tables import Recording
from settings import Config
from transcribe import jobs
from transcribe.align import align_to_file
from transcribe.engine import TrackPlan, merge
from transcribe.redact_audio import redact_call
from transcribe.settings_map import options_record
from transcribe.spotting import spot_phrases
from transcribe.tables import Job

log = logging.getLogger("hotline.transcribe")

# What runs on a stored transcript in the job's transaction (the app passes QA's scan_call; it returns
# the flags raised). None: nothing runs. Module-level functions only: workers are spawned processes.
QaScan = Callable[[Session, Config, int], list[Any]]


class PermanentJobError(Exception):
    """This job can never succeed as it stands (no recordings, recording purged...)."""


class TransientJobError(Exception):
    """Try again later (the call is still in progress...)."""


@dataclass(frozen=True)
class SpeakerTrack:
    speaker: str  # caller | agent | unknown
    path: Path


@dataclass(frozen=True)
class Outcome:
    """What happened to one job; ``status`` is the job's status afterwards."""

    job_id: int
    call_id: int | None
    status: str  # done | queued (retry later) | failed | lost (someone else owns it now)
    audio_s: float | None = None
    elapsed_s: float | None = None
    message: str | None = None  # the failure reason, one line
    segments: int | None = None
    needs_review: bool = False
    qa_flags: int | None = None
    qa_error: str | None = None


def call_tracks(session: Session, config: Config, call_id: int) -> list[SpeakerTrack]:
    """The files to transcribe for a call: caller + agent tracks, else the mix (speakers unknown)."""
    call = session.get(Call, call_id)
    if call is None:
        raise PermanentJobError(f"call {call_id} no longer exists")
    if call.status == "active":
        raise TransientJobError(f"call {call_id} is still in progress")
    recs = {r.kind: r for r in session.scalars(select(Recording).where(Recording.call_id == call_id))}
    if "caller" in recs or "agent" in recs:
        chosen = [(k, recs[k]) for k in ("caller", "agent") if k in recs]
    elif "mix" in recs:
        chosen = [("unknown", recs["mix"])]
    else:
        raise PermanentJobError(f"call {call_id} has no recordings")
    tracks = []
    for speaker, rec in chosen:
        path = recording_file(config, rec.path)
        if rec.status in ("missing", "purged", "corrupt"):
            why = f": {rec.error}" if rec.error else ""
            raise PermanentJobError(f"{path}: recording is {rec.status}{why}")
        tracks.append(SpeakerTrack(speaker, path))
    return tracks


def plan_from(timeline: Timeline | None) -> TrackPlan | None:
    """The agent track's plan from the IVR's timeline: decode only where the agent can be
    heard; the prompts the IVR played are known text. None (no timeline): decode it all."""
    if timeline is None:
        return None
    known = tuple((p.start, p.end, p.text or "") for p in timeline.prompts())
    return TrackPlan(decode=tuple(timeline.agent_spans()), known=known)


def agent_plan(config: Config, timeline: Timeline | None, tracks: list[SpeakerTrack]) -> TrackPlan | None:
    """The plan for the agent track, its timeline pinned to the track by the prompts' audio
    (transcribe/align.py: the service's clock and MixMonitor's frames drift apart)."""
    agent = next((t.path for t in tracks if t.speaker == "agent"), None)
    if timeline is None or agent is None:
        return None
    return plan_from(align_to_file(timeline, agent, prompt_dir(config)))


def transcribe_tracks(transcriber: Any, tracks: list[SpeakerTrack], plan: TrackPlan | None = None) -> Any:
    """An engine CallResult for the tracks (both sides, one side, or one mixed file).

    ``plan`` applies to the agent track only (a mono mix holds the caller too)."""
    by = {t.speaker: t.path for t in tracks}
    if "caller" in by and "agent" in by:
        return transcriber.transcribe_call(by["caller"], by["agent"], plan)
    return merge([transcriber.transcribe_track(t.path, t.speaker, plan if t.speaker == "agent" else None)
                  for t in tracks])


def verify_agent(config: Config, transcriber: Any, tracks: list[SpeakerTrack], result: Any,
                 plan: TrackPlan | None = None) -> list[Any] | None:
    """The policy's phrases checked against the agent track (transcribe/spotting.py); None when
    there is no agent track or the check failed (the transcript still stands: one log line)."""
    agent = next((t.path for t in tracks if t.speaker == "agent"), None)
    if agent is None:
        return None
    try:
        return spot_phrases(transcriber, config, agent, result, plan)
    except Exception as exc:  # a verification bug must not cost the call its transcript
        log.warning("phrase check on %s failed, flags stay unverified: %s: %s", agent, type(exc).__name__,
                    str(exc).splitlines()[0] if str(exc) else "")
        return None


def _run_qa(session: Session, config: Config, call_id: int, qa_scan: QaScan | None) -> tuple[int | None, str | None]:
    """QA on the saved transcript inside a savepoint: its failure rolls back only its own writes."""
    if qa_scan is None:
        return None, None
    try:
        with session.begin_nested():
            flags = qa_scan(session, config, call_id)
        return len(flags), None
    except Exception as exc:  # QA is another package: its bug must not fail a transcription
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
        log.warning("call %s: QA scan failed, transcript kept: %s", call_id, reason)
        return None, reason


def _redact(url: str, config: Config, call_id: int) -> None:
    """Redacted copies of the call's tracks from the saved transcript (transcribe/redact_audio.py);
    a failure leaves the transcript standing (one log line), and reviewers get no audio yet."""
    try:
        with transaction(url) as session:
            done = redact_call(session, config, call_id)
    except Exception as exc:  # the transcript is saved: redaction trouble must not fail the job
        log.warning("call %s: redacted audio not written: %s: %s", call_id, type(exc).__name__,
                    str(exc).splitlines()[0] if str(exc) else "")
    else:
        log.info("call %s: redacted copies written (%s)", call_id,
                 ", ".join(f"{t.kind}: {t.seconds:.1f} s covered" for t in done))


def run_job(
    config: Config,
    transcriber: Any,
    job: Job,
    *,
    on_start: Callable[[float], None] | None = None,
    qa_scan: QaScan | None = None,
) -> Outcome:
    """Run a job this process has claimed and record the result on its row."""
    url = config.database_url
    started = time.perf_counter()
    audio_s: float | None = None
    try:
        if job.call_id is None:
            raise PermanentJobError("job has no call")
        with transaction(url) as session:
            tracks = call_tracks(session, config, job.call_id)
            call = session.get(Call, job.call_id)
            timeline = call_timeline(session, call) if call is not None else None
        audio_s = max(probe_wav(t.path).duration for t in tracks)  # a bad header fails here, cheaply
        if on_start is not None:
            on_start(audio_s)
        plan = agent_plan(config, timeline, tracks)
        result = transcribe_tracks(transcriber, tracks, plan)
        verified = verify_agent(config, transcriber, tracks, result, plan)
        elapsed = time.perf_counter() - started
        with transaction(url) as session:
            saved = jobs.complete(
                session, job, result, model=str(transcriber.model_dir),
                options=options_record(transcriber.options), elapsed_s=elapsed, audio_s=result.duration,
            )  # fmt: skip
            saved.verified = verified
            flags, qa_error = _run_qa(session, config, job.call_id, qa_scan)
            jobs.note_qa(session, job.id, flags=flags, error=qa_error)
        _redact(url, config, job.call_id)
        return Outcome(
            job.id, job.call_id, "done", result.duration, elapsed, segments=len(saved.segments),
            needs_review=bool(result.needs_review), qa_flags=flags, qa_error=qa_error,
        )  # fmt: skip
    except jobs.LostClaim as exc:
        log.warning("job %s: %s; result discarded", job.id, exc)
        return Outcome(job.id, job.call_id, "lost", audio_s, time.perf_counter() - started, str(exc))
    except (AudioError, PermanentJobError) as exc:
        return _fail(url, job, str(exc), transient=False, audio_s=audio_s, started=started)
    except Exception as exc:  # model/runtime/database trouble: worth another try later
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
        return _fail(url, job, reason, transient=True, audio_s=audio_s, started=started)


def _fail(url: str, job: Job, reason: str, *, transient: bool, audio_s: float | None, started: float) -> Outcome:
    elapsed = time.perf_counter() - started
    log.warning("job %s (call %s) %s: %s", job.id, job.call_id, "error" if transient else "failed", reason)
    try:
        with transaction(url) as session:
            status = jobs.fail(session, job, reason, transient=transient, elapsed_s=elapsed, audio_s=audio_s)
    except jobs.LostClaim as exc:
        return Outcome(job.id, job.call_id, "lost", audio_s, elapsed, str(exc))
    except SQLAlchemyError as exc:  # the database is down: recovery requeues the job later
        log.error("job %s: cannot record the failure: %s", job.id, str(exc).splitlines()[0])
        return Outcome(job.id, job.call_id, "lost", audio_s, elapsed, reason)
    return Outcome(job.id, job.call_id, status, audio_s, elapsed, reason)


class Heartbeat:
    """Keeps a claim alive from a thread while the job runs (decoding holds the main thread)."""

    def __init__(self, url: str, job: Job, every_s: float) -> None:
        self.url, self.job, self.every_s = url, job, every_s
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job.id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                with transaction(self.url) as session:
                    if not jobs.heartbeat(session, self.job):
                        self.lost = True
                        return
            except SQLAlchemyError as exc:  # a locked or unreachable DB: try again next beat
                log.warning("job %s: heartbeat failed: %s", self.job.id, str(exc).splitlines()[0])
