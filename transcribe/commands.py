"""`hotline transcribe ...` and `hotline jobs ...`: transcribe files or calls, drain and inspect the queue.

Heavy imports (faster-whisper, the engine) happen inside the commands, so `hotline --help`
and `hotline jobs list` stay quick.

Transcript text is printed with personal data masked (``qa.pii.mask_kinds``, or every kind
when there is no config); ``--unmask`` prints it whole for an account allowed to (``--as NAME``
or $HOTLINE_USER; transcribe/privacy.py), checked before any work, and each use is recorded in
the access log (so it needs the config's database, also for a file).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table

from cliutil import ConfigOpt, JsonOpt, command_group, config_path, console, err_console, fail, load, print_json
from settings import AsrSettings, Config

if TYPE_CHECKING:  # the runner loads SQLAlchemy models: only its hook type is needed here
    from transcribe.runner import QaScan

jobs_app = command_group("The transcription job queue.")
log = logging.getLogger("hotline.transcribe")


# -- hotline transcribe --------------------------------------------------------------------


def transcribe_command(qa_scan: QaScan | None = None) -> Callable[..., None]:
    """The `hotline transcribe` command; ``qa_scan`` runs on every transcript it stores (the app wires QA)."""

    def transcribe(
        file: Annotated[Path | None, typer.Argument(help="A mono recording (both sides on one track).")] = None,
        caller: Annotated[Path | None, typer.Option("--caller", help="The caller's track of a call (WAV).")] = None,
        agent: Annotated[Path | None, typer.Option("--agent", help="The agent's track of a call (WAV).")] = None,
        call: Annotated[
            int | None, typer.Option("--call", help="Transcribe this call's recordings now, store it.")
        ] = None,
        pending: Annotated[bool, typer.Option("--pending", help="Run every queued job, then exit.")] = False,
        workers: Annotated[
            int | None, typer.Option("--workers", min=1, help="Worker processes for --pending.")
        ] = None,
        unmask: Annotated[bool, typer.Option("--unmask", help="Show personal data in full (an account whose "
                                             "role may: --as or $HOTLINE_USER); each use is recorded.")] = False,
        acting: Annotated[str | None, typer.Option("--as", help="Your account, for --unmask "
                                                   "[default: $HOTLINE_USER].")] = None,
        config: ConfigOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Transcribe recordings with speakers and timestamps: a file, two tracks, a call, or the queue.

        Personal data in the text (ID, card and phone numbers, codes, names, addresses) is masked unless
        --unmask."""
        modes = [m for m, on in (("FILE", file), ("--caller/--agent", caller or agent), ("--call", call is not None),
                                 ("--pending", pending)) if on]  # fmt: skip
        if len(modes) != 1:
            got = f" (got {', '.join(modes)})" if modes else ""
            fail(f"give one of FILE, --caller/--agent, --call ID or --pending{got}")
        if pending:
            _drain(load(config), workers, as_json, qa_scan)
            return
        who = _unmasker(load(config), acting) if unmask else None  # refused before any work
        if call is not None:
            _one_call(load(config), call, as_json, qa_scan, who)
        else:
            tracks = [(file, "unknown")] if file else [(p, s) for p, s in ((caller, "caller"), (agent, "agent")) if p]
            _files(_asr_settings(config), tracks, as_json, who)  # type: ignore[arg-type]

    return transcribe


def _unmasker(cfg: Config, acting: str | None) -> str:
    """The account --unmask runs as (exit 2 with what to do when there is none allowed)."""
    from accounts.identity import IdentityError
    from transcribe.privacy import unmasker

    try:
        return unmasker(cfg.database_url, acting)
    except IdentityError as exc:
        fail(f"--unmask: {exc}")


def _asr_settings(config: Path | None) -> tuple[AsrSettings, Config | None]:
    """Transcribing a file needs no database: without a config file the shipped defaults apply."""
    if config is None and not config_path(None).is_file():
        return AsrSettings(), None
    cfg = load(config)
    return cfg.asr, cfg


def _files(settings: tuple[AsrSettings, Config | None], tracks: list[tuple[Path, str]], as_json: bool,
           unmasker: str | None) -> None:
    """Transcribe files; shown in full when ``unmasker`` (an account allowed to) asked."""
    from recordings.audio import AudioError, probe_wav
    from transcribe.engine import Transcriber, merge
    from transcribe.model import ModelError
    from transcribe.settings_map import asr_options, model_dir_setting

    asr, cfg = settings
    for path, _ in tracks:
        try:
            probe_wav(path)  # before loading the model: a bad file is a quick, clear error
        except AudioError as exc:
            fail(str(exc))
    try:
        model_dir = model_dir_setting(cfg) if cfg is not None else asr.model_dir
        engine = Transcriber(model_dir, asr_options(asr))
    except ModelError as exc:
        fail(str(exc), code=1)
    try:
        by = dict((s, p) for p, s in tracks)
        if "caller" in by and "agent" in by:
            result = engine.transcribe_call(by["caller"], by["agent"])
        else:
            result = merge([engine.transcribe_track(p, s) for p, s in tracks])
    except AudioError as exc:
        fail(str(exc))
    if unmasker is not None and cfg is not None:  # --unmask loaded the config (_unmasker)
        from transcribe.privacy import record_unmask

        record_unmask(cfg.database_url, unmasker, [f"file {p}" for p, _ in tracks], "transcribe")
    _show(result.to_dict(), as_json, None if unmasker else _mask_kinds(cfg))


def _mask_kinds(cfg: Config | None) -> list[str]:
    from transcribe.pii import KINDS

    return list(cfg.qa.pii.mask_kinds) if cfg is not None else list(KINDS)


def _show(data: dict[str, Any], as_json: bool, mask_kinds: list[str] | None) -> None:
    """Print a transcript; masked with ``mask_kinds`` unless None (--unmask)."""
    if mask_kinds is not None:
        from transcribe.privacy import mask_transcript

        data = mask_transcript(data, mask_kinds)
    if as_json:
        print_json(data)
        return
    table = Table(box=None, show_header=True, header_style="bold")
    for name, kw in (("start", {"justify": "right"}), ("end", {"justify": "right"}), ("speaker", {}), ("text", {})):
        table.add_column(name, **kw)  # type: ignore[arg-type]
    for s in data["segments"]:
        ivr = s["speaker"] == "ivr"  # the IVR's prompts, from their known text: greyed
        table.add_row(f"{s['start']:.2f}", f"{s['end']:.2f}", "IVR" if ivr else s["speaker"], s["text"],
                      style="dim" if ivr else None)
    console.print(table)
    summary = f"{len(data['segments'])} segments, {data['duration']:.1f} s of audio"
    if data.get("call_id") is not None:
        summary = f"call {data['call_id']}: " + summary
    console.print(summary, highlight=False)
    for reason in data.get("review_reasons") or []:
        console.print(f"[yellow]needs review:[/] {reason}", highlight=False)


def _one_call(cfg: Config, call_id: int, as_json: bool, qa_scan: QaScan | None, unmasker: str | None) -> None:
    """Run the call's job in this process now (claimed like any worker would), then show it (in full
    when ``unmasker``, an account allowed to, asked)."""
    from db import transaction
    from ivr.tables import Call
    from transcribe import jobs
    from transcribe.model import ModelError
    from transcribe.runner import Heartbeat, run_job
    from transcribe.settings_map import load_transcriber
    from transcribe.store import transcript_dict, transcript_for_call

    url = cfg.database_url
    me = jobs.worker_id()
    with transaction(url) as s:
        if s.get(Call, call_id) is None:
            fail(f"no call with id {call_id} in {cfg.database.url}")
        job = jobs.enqueue_call(s, call_id)
        if job.status == "running":
            jobs.recover(s)  # its worker may be dead
            job = jobs.enqueue_call(s, call_id)
        if job.status == "running":
            fail(f"call {call_id}: job {job.id} is being transcribed by worker {job.worker}", code=1)
        if job.status == "failed":
            jobs.retry(s, job.id)
    if job.status != "done":
        try:
            transcriber = load_transcriber(cfg)
        except ModelError as exc:
            fail(str(exc), code=1)
        with transaction(url) as s:
            claimed = jobs.claim(s, me, job_id=job.id)
        if claimed is None:
            fail(f"call {call_id}: job {job.id} was taken by another worker", code=1)
        with Heartbeat(url, claimed, 10.0):
            outcome = run_job(cfg, transcriber, claimed, qa_scan=qa_scan)
        if outcome.status != "done":
            fail(f"call {call_id}: job {job.id} {outcome.status}: {outcome.message}", code=1)
        if outcome.qa_error:
            err_console.print(f"[yellow]warning:[/] QA scan failed: {outcome.qa_error}", highlight=False)
    elif not as_json:
        err_console.print(f"call {call_id} was already transcribed (job {job.id}); showing the stored transcript")
    with transaction(url) as s:
        row = transcript_for_call(s, call_id)
        if row is None:
            fail(f"call {call_id}: job {job.id} is done but its transcript is gone", code=1)
        data = transcript_dict(row)
    if unmasker is not None:
        from transcribe.privacy import record_unmask

        record_unmask(url, unmasker, [f"call {call_id}"], "transcribe --call")
    _show(data, as_json, None if unmasker else _mask_kinds(cfg))


def _pending_audio(url: str, cfg: Config) -> tuple[int, float]:
    """How many runnable jobs there are and how much audio they hold (for the progress bar)."""
    from db import transaction
    from recordings.audio import AudioError, probe_wav
    from transcribe import jobs
    from transcribe.runner import PermanentJobError, TransientJobError, call_tracks

    total = 0.0
    with transaction(url) as s:
        todo = jobs.runnable(s)
        for job in todo:
            try:
                tracks = call_tracks(s, cfg, job.call_id) if job.call_id is not None else []
                total += max((probe_wav(t.path).duration for t in tracks), default=0.0)
            except (AudioError, PermanentJobError, TransientJobError):
                pass  # it will fail quickly; it adds no audio
    return len(todo), total


def _drain(cfg: Config, workers: int | None, as_json: bool, qa_scan: QaScan | None) -> None:
    from datetime import timedelta

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from db import now as db_now
    from db import transaction
    from transcribe import jobs
    from transcribe.worker import PoolError, PoolEvent, PoolOptions, pool_size, run_pool

    # What the pool does at start, done first so the progress bar counts those jobs too:
    # dead workers' jobs back in the queue, recent calls a crash left without a job queued.
    days = PoolOptions().enqueue_missing_days or 0.0
    with transaction(cfg.database_url) as s:
        jobs.recover(s)
        jobs.enqueue_missing(s, since=db_now() - timedelta(days=days))
    count, audio = _pending_audio(cfg.database_url, cfg)
    size = workers or pool_size(cfg.asr)
    failures: list[str] = []
    progress = Progress(
        TextColumn("[bold]transcribing"),
        BarColumn(),
        TextColumn("{task.fields[calls]} calls"),
        TextColumn("{task.fields[minutes]} audio min"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err_console,
        disable=as_json,
    )
    finished = 0
    done_audio = 0.0

    def fields() -> dict[str, str]:
        return {"calls": f"{finished}/{count}", "minutes": f"{done_audio / 60:.1f}/{audio / 60:.1f}"}

    task = progress.add_task("pool", total=max(audio, 1e-9), **fields())

    def on_event(ev: PoolEvent) -> None:
        nonlocal finished, done_audio
        if ev.kind in ("done", "failed", "retry", "lost"):
            finished += 1
            done_audio += ev.audio_s or 0.0
            if ev.kind != "done":
                failures.append(f"job {ev.job_id} (call {ev.call_id}) {ev.kind}: {ev.message}")
                progress.console.print(f"[red]{ev.kind}[/] job {ev.job_id} (call {ev.call_id}): {ev.message}")
            progress.update(task, completed=min(done_audio, audio), **fields())
        elif ev.kind in ("died", "recovered"):
            progress.console.print(f"[yellow]{ev.kind}[/] {ev.worker} job {ev.job_id or ''}: {ev.message}")

    if count == 0:  # nothing to do: do not spend seconds starting workers and loading models
        if as_json:
            print_json({"done": 0, "failed": 0, "retry_later": 0, "lost": 0, "audio_s": 0.0, "wall_s": 0.0,
                        "x_real_time": 0.0, "workers": 0, "failures": []})  # fmt: skip
        else:
            console.print("no queued jobs")
        return
    if not as_json:
        err_console.print(f"{count} queued jobs, {audio / 60:.1f} min of audio, {size} worker processes")
    try:
        with progress:
            # Workers log errors only: failures are printed here, above the progress bar.
            quiet = PoolOptions(log_level=logging.ERROR)
            stats = run_pool(cfg, threading.Event(), drain=True, workers=size, options=quiet, on_event=on_event,
                             qa_scan=qa_scan)
    except PoolError as exc:
        fail(str(exc), code=1)
    except KeyboardInterrupt:
        fail("interrupted: unfinished jobs are back in the queue", code=130)
    speed = stats.audio_s / stats.wall_s if stats.wall_s else 0.0
    summary = {
        "done": stats.done, "failed": stats.failed, "retry_later": stats.retried, "lost": stats.lost,
        "audio_s": round(stats.audio_s, 1), "wall_s": round(stats.wall_s, 1), "x_real_time": round(speed, 1),
        "workers": size, "failures": failures,
    }  # fmt: skip
    if as_json:
        print_json(summary)
    else:
        console.print(
            f"done {stats.done}, failed {stats.failed}, retry later {stats.retried}: "
            f"{stats.audio_s / 60:.1f} audio min in {stats.wall_s:.0f} s ({speed:.1f}x real time)",
            highlight=False,
        )
    if stats.failed:
        raise typer.Exit(1)


# -- hotline jobs ---------------------------------------------------------------------------


def _job_dict(job: Any) -> dict[str, Any]:
    return {
        "id": job.id, "call_id": job.call_id, "status": job.status, "attempts": job.attempts,
        "max_attempts": job.max_attempts, "worker": job.worker, "created_at": job.created_at,
        "run_after": job.run_after, "finished_at": job.finished_at, "audio_s": job.audio_s,
        "elapsed_s": job.elapsed_s, "error": job.error, "qa_flags": job.qa_flags, "qa_error": job.qa_error,
    }  # fmt: skip


@jobs_app.command("list")
def jobs_list(
    status: Annotated[str | None, typer.Option("--status", help="queued, running, done or failed.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest N jobs.")] = 50,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The newest jobs: status, attempts, worker, audio, time taken, error."""
    from db import transaction
    from transcribe import jobs

    if status is not None and status not in jobs.STATUSES:
        fail(f"--status: '{status}' is not one of {', '.join(jobs.STATUSES)}")
    cfg = load(config)
    with transaction(cfg.database_url) as s:
        rows = [_job_dict(j) for j in jobs.list_jobs(s, status=status, limit=limit)]
        totals = jobs.counts(s)
    if as_json:
        print_json(rows)
        return
    colors = {"done": "green", "failed": "red", "running": "cyan", "queued": "yellow"}
    title = ", ".join(f"{n} {k}" for k, n in sorted(totals.items())) or "no jobs"
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("job", "call", "status", "tries", "worker", "audio", "took", "when", "error"):
        # Short fields stay on one line; worker and error (long) fold when the terminal is narrow.
        folds = name in ("worker", "when", "error")
        table.add_column(name, no_wrap=not folds, overflow="fold", ratio=1 if name == "error" else None)
    for r in rows:
        when = r["finished_at"] or (r["run_after"] if r["status"] == "queued" else r["created_at"])
        err = r["error"] or (f"QA: {r['qa_error']}" if r["qa_error"] else "")
        table.add_row(
            str(r["id"]), str(r["call_id"]), f"[{colors.get(r['status'], 'white')}]{r['status']}[/]",
            f"{r['attempts']}/{r['max_attempts']}", r["worker"] or "",
            "" if r["audio_s"] is None else f"{r['audio_s']:.1f}s",
            "" if r["elapsed_s"] is None else f"{r['elapsed_s']:.1f}s",
            when.strftime("%m-%d %H:%M:%S") if when else "", err,
        )  # fmt: skip
    console.print(table)


@jobs_app.command("retry")
def jobs_retry(
    job_id: Annotated[int, typer.Argument(help="A failed job's id (see `hotline jobs list --status failed`).")],
    config: ConfigOpt = None,
) -> None:
    """Queue a failed job again with fresh attempts (after fixing its recording)."""
    from db import transaction
    from transcribe import jobs

    cfg = load(config)
    try:
        with transaction(cfg.database_url) as s:
            jobs.retry(s, job_id)
    except (LookupError, ValueError) as exc:
        fail(str(exc))
    console.print(f"job {job_id} queued again")
