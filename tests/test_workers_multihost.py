"""Transcription workers on two "hosts" through Procrastinate on a real PostgreSQL (issue 17).

Each host is a `hotline worker` process with its own working folder, its own config (its own
``workers.path_map`` onto the shared recordings folder, standing in for an NFS mount) and its
own name, so a dead worker can only be found by its heartbeat in the database, as across hosts.
The server is the throwaway one of tests/test_fault_callstore.py; without PostgreSQL's server
binaries every test here is skipped with that reason.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from audio_factory import OPENING, build_call, long_call
from ruamel.yaml import YAML
from sqlalchemy import func, select, text
from test_fault_callstore import PgServer
from test_worker import wait_for
from typer.testing import CliRunner

import cli
import db
from app.pipeline import after_call_distributed
from db import transaction
from ivr.tables import Call
from recordings.tables import Recording
from settings import load_config
from transcribe.procrastinate_app import WorkerRuntime, deliver
from transcribe.tables import Job, Transcript

ROOT = Path(__file__).resolve().parents[1]
HOTLINE = [sys.executable, "-m", "cli"]
STALLED_AFTER_S, RECOVER_EVERY_S, HEARTBEAT_S = 3.0, 0.5, 0.5


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    with PgServer.running(migrated=True) as pg:  # migrated: revision 0010 holds Procrastinate's tables
        yield pg


@pytest.fixture
def clean(server: PgServer) -> PgServer:
    """The module's server with no calls, jobs or tasks left by an earlier test."""
    with transaction(server.url) as s:
        s.execute(text("TRUNCATE calls, jobs, transcripts, segments, recordings, procrastinate_jobs CASCADE"))
    return server


def host_config(tmp_path: Path, host: str, url: str, path_map: dict[str, str], **workers: Any) -> Path:
    """A worker host's own config file in its own folder: shipped config + PostgreSQL + the engine."""
    home = tmp_path / host
    home.mkdir(parents=True, exist_ok=True)
    yaml = YAML()
    data = yaml.load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["database"]["url"] = url
    data["workers"] = {"engine": "procrastinate", "path_map": path_map, "heartbeat_s": HEARTBEAT_S,
                       "stalled_after_s": STALLED_AFTER_S, "recover_every_s": RECOVER_EVERY_S, **workers}
    path = home / "config.yaml"
    with path.open("w", encoding="utf-8") as f:
        yaml.dump(data, f)
    return path


def add_call(url: str, tracks: dict[str, Path]) -> int:
    """A call as serve leaves it at hang-up: its row, its recordings, its job and task in one transaction."""
    with transaction(url) as s:
        call = Call(uniqueid=f"{time.time():.6f}", channel="PJSIP/caller", status="ended")
        s.add(call)
        s.flush()
        for kind, path in tracks.items():
            s.add(Recording(call_id=call.id, kind=kind, path=str(path), status="ready"))
        s.flush()
        after_call_distributed(s, call.id)
        return call.id


def start_worker(cfg: Path, name: str) -> subprocess.Popen[str]:
    log = (cfg.parent / "worker.log").open("w")
    return subprocess.Popen([*HOTLINE, "worker", "--config", str(cfg), "--name", name], cwd=cfg.parent,
                            stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def job_of(url: str, call_id: int) -> Job:
    with transaction(url) as s:
        job = s.scalars(select(Job).where(Job.call_id == call_id)).one()
        s.expunge(job)
        return job


def live_tasks(url: str) -> int:
    with transaction(url) as s:
        return int(s.scalar(text("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")))


# -- fast: start-up checks, repeat delivery, concurrent migrations ---------------------------


def worker_cli(cfg: Path) -> Any:
    """`hotline worker --config cfg` in this process (its refusals come before any worker starts)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        return CliRunner().invoke(cli.app, ["worker", "--config", str(cfg)])
    finally:  # the command logs to the runner's stream, closed once it returns
        root.handlers[:], root.level = handlers, level


def test_worker_refuses_in_one_line_when_the_recordings_are_not_mounted(clean: PgServer, tmp_path: Path) -> None:
    cfg = host_config(tmp_path, "host-a", clean.url, {"/var/spool/asterisk/monitor": str(tmp_path / "no-mount")})
    run = worker_cli(cfg)
    assert run.exit_code == 2, run.output
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "cannot read the recordings folder" in lines[0] and "no-mount" in lines[0], lines


def test_worker_refuses_when_the_mount_misses_the_newest_recording(clean: PgServer, tmp_path: Path) -> None:
    serve_dir, empty = tmp_path / "serve-monitor", tmp_path / "host-a" / "empty-mount"
    serve_dir.mkdir()
    empty.mkdir(parents=True)
    (serve_dir / "1-rx.wav").write_bytes(b"RIFF")
    add_call(clean.url, {"caller": serve_dir / "1-rx.wav"})
    run = worker_cli(host_config(tmp_path, "host-a", clean.url, {str(serve_dir): str(empty)}))
    assert run.exit_code == 2 and "workers.path_map" in run.stderr and "1-rx.wav" in run.stderr, run.output


def test_worker_needs_the_engine_configured(clean: PgServer, tmp_path: Path) -> None:
    run = worker_cli(host_config(tmp_path, "host-a", clean.url, {}, engine="pool"))
    assert run.exit_code == 2 and "workers.engine is 'pool'" in run.stderr, run.output


def test_a_repeat_delivery_of_a_finished_job_writes_nothing(clean: PgServer, tmp_path: Path) -> None:
    call_id = add_call(clean.url, {"caller": tmp_path / "x.wav"})
    job_id = job_of(clean.url, call_id).id
    with transaction(clean.url) as s:  # finished elsewhere, as a first delivery would have
        s.execute(text("UPDATE jobs SET status = 'done', finished_at = now() WHERE id = :id"), {"id": job_id})
    before = job_of(clean.url, call_id)
    cfg = load_config(host_config(tmp_path, "host-a", clean.url, {}))
    rt = WorkerRuntime(cfg, "host-a:1", transcriber=None)  # never reached: nothing to transcribe
    assert deliver(rt, job_id) == "skipped"
    after = job_of(clean.url, call_id)
    assert (after.status, after.attempts, after.worker, after.finished_at) == (
        before.status, before.attempts, before.worker, before.finished_at)
    with transaction(clean.url) as s:
        assert s.scalar(select(func.count()).select_from(Transcript)) == 0


def test_status_shows_the_engines_workers_tasks_and_stalled_jobs(clean: PgServer, tmp_path: Path) -> None:
    """`hotline status` on this engine: serve runs no workers, so their heartbeats in the database say it."""
    cfg = host_config(tmp_path, "status", clean.url, {})
    with transaction(clean.url) as s:  # workers left by the tests before (tasks name them: cascade)
        s.execute(text("TRUNCATE procrastinate_workers CASCADE"))
    wav = tmp_path / "mix.wav"
    waiting, stuck = add_call(clean.url, {"mix": wav}), add_call(clean.url, {"mix": wav})
    with transaction(clean.url) as s:
        s.execute(text("INSERT INTO procrastinate_workers (last_heartbeat)"
                       " VALUES (now()), (now() - interval '1 hour')"))  # one alive, one long gone
        # a worker died mid-job: its row still 'running', its task 'doing', its heartbeat an hour old
        s.execute(text("UPDATE jobs SET status = 'running', claimed_at = now() - interval '1 hour',"
                       " heartbeat_at = now() - interval '1 hour' WHERE call_id = :c"), {"c": stuck})
        s.execute(text("UPDATE procrastinate_jobs SET status = 'doing' WHERE args->>'job_id' = :j"),
                  {"j": str(job_of(clean.url, stuck).id)})
    assert job_of(clean.url, waiting).status == "queued"
    r = CliRunner().invoke(cli.app, ["status", "--json", "--config", str(cfg)])
    assert r.exit_code == 1  # no serve running
    assert json.loads(r.stdout)["procrastinate"] == {"workers": 1, "tasks_todo": 1, "tasks_doing": 1, "stalled": 1}
    r = CliRunner().invoke(cli.app, ["status", "--config", str(cfg)])
    shown = " ".join(r.stdout.split())  # the console wraps at its width
    assert "procrastinate: 1 worker(s) beating; tasks 1 waiting, 1 delivered; 1 job(s) stalled" in shown


def test_concurrent_migrations_of_a_fresh_database_all_succeed(server: PgServer) -> None:
    server.run("createdb", "-h", str(server.home), "-U", "hotline", "fresh")
    url = server.url.replace("/hotline?", "/fresh?")
    code = f"import db; db.upgrade({url!r})"
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    results = [(p.wait(120), p.stderr.read() if p.stderr else "") for p in procs]
    assert all(rc == 0 for rc, _ in results), results
    with db.make_engine(url).connect() as conn:
        heads = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert heads == [ScriptDirectory.from_config(db.alembic_config(url)).get_current_head()]


# -- slow: two worker hosts, the real model, one SIGKILLed mid-job ---------------------------


@pytest.mark.slow
def test_two_hosts_one_killed_mid_job_every_call_transcribed_once(clean: PgServer, tmp_path: Path) -> None:
    url = clean.url
    shared = tmp_path / "serve-monitor"  # serve's host writes here; each worker host mounts it
    long = build_call(long_call(90.0), shared, "long")  # seconds of decoding even on a fast CPU
    short = [build_call([("agent", None, OPENING), ("caller", None, "我想查一下我的订单。")], shared, f"s{i}")
             for i in range(2)]
    first_call = add_call(url, {"caller": long.caller, "agent": long.agent})
    hosts: dict[str, subprocess.Popen[str]] = {}
    for host in ("host-a", "host-b"):
        mount = tmp_path / host / "mnt" / "monitor"
        mount.parent.mkdir(parents=True)
        mount.symlink_to(shared, target_is_directory=True)  # the NFS mount, at another path on each host
        hosts[host] = start_worker(host_config(tmp_path, host, url, {str(shared): str(mount)}), host)
    try:
        wait_for(lambda: job_of(url, first_call).status == "running", 180, "the long call's job to start")
        time.sleep(0.5)  # a 90 s call takes 3 s or more to transcribe and check (0.037x on an Intel Xeon)
        first = job_of(url, first_call)
        assert first.status == "running" and first.attempts == 1
        victim_host, _, victim_pid = (first.worker or "").rpartition(":")
        assert hosts[victim_host].pid == int(victim_pid)
        os.kill(int(victim_pid), signal.SIGKILL)  # the other host is idle: it must take the job over
        killed_at = datetime.now(UTC)
        hosts[victim_host].wait(10)
        wait_for(lambda: job_of(url, first_call).attempts == 2, 60, "the killed worker's job to be taken over")
        # serve goes on queueing while the survivor works; the dead host's task, sent back, finds its row taken
        calls = [first_call, *(add_call(url, {"caller": c.caller, "agent": c.agent}) for c in short)]
        wait_for(lambda: all(job_of(url, c).status == "done" for c in calls), 600, "every job to be done")
        wait_for(lambda: live_tasks(url) == 0, 30, "no task left waiting or running")
    finally:
        for proc in hosts.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in hosts.values():
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
    taken = job_of(url, first_call)
    assert taken.attempts == 2 and taken.worker and not taken.worker.startswith(victim_host + ":"), taken.worker
    assert taken.claimed_at is not None
    takeover_s = (taken.claimed_at - killed_at).total_seconds()
    bound = STALLED_AFTER_S + RECOVER_EVERY_S + 1.0 + 6.0  # + fetch polling + a busy 2-core machine
    print(f"takeover {takeover_s:.1f} s after SIGKILL (bound {bound:.1f} s)")
    assert takeover_s <= bound, takeover_s
    assert [job_of(url, c).attempts for c in calls[1:]] == [1, 1]
    with transaction(url) as s:
        per_call = dict(s.execute(select(Transcript.call_id, func.count()).group_by(Transcript.call_id)).all())
        assert per_call == {c: 1 for c in calls}, "every call transcribed exactly once"
        assert len(set(s.scalars(select(Transcript.job_id)).all())) == len(calls)
        paths = s.scalars(select(Recording.path)).all()  # the redacted copies the workers wrote too
        assert len(paths) > 2 * len(calls) and all(Path(p).is_relative_to(shared) for p in paths), paths
    survivor = next(h for h in hosts if h != victim_host)
    assert hosts[survivor].returncode == 0, (tmp_path / survivor / "worker.log").read_text()[-2000:]
