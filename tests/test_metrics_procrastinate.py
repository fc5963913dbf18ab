"""/metrics on the procrastinate engine shows what `hotline status` shows of it: workers beating,
tasks waiting and delivered, jobs stalled. Real PostgreSQL (the throwaway server of
tests/test_fault_callstore.py, skipped without its binaries), a real HTTP scrape, and the
workers' and tasks' rows written by Procrastinate's own SQL functions and by Hotline's queue code."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from test_fault_callstore import PgServer
from test_workers_multihost import add_call, host_config

from app.metrics import serve_metrics
from app.status import database_figures
from db import transaction
from settings import Config, load_config
from transcribe import jobs
from transcribe.procrastinate_app import QUEUE

ENGINE = ("procrastinate_workers_beating", "procrastinate_tasks_waiting", "procrastinate_tasks_delivered",
          "procrastinate_jobs_stalled")


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    with PgServer.running(migrated=True) as pg:  # migrated: revision 0010 holds Procrastinate's tables
        yield pg


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def scrape(server: PgServer, tmp_path: Path) -> Iterator[tuple[str, Config]]:
    """serve's /metrics (as `_report_status` starts it) over this server; yields (url, config)."""
    cfg = load_config(host_config(tmp_path, "serve", server.url, {}))
    with transaction(server.url) as s:
        s.execute(text("TRUNCATE calls, jobs, procrastinate_jobs, procrastinate_workers CASCADE"))
    port = _free_port()
    httpd, thread = serve_metrics(port, lambda: {"serve": {}, **database_figures(cfg)})
    try:
        yield f"http://127.0.0.1:{port}/metrics", cfg
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        return str(r.read().decode())


def _values(body: str) -> dict[str, float]:
    return {s.name: s.value for fam in text_string_to_metric_families(body) for s in fam.samples}


def _engine(url: str) -> tuple[float, ...]:
    got = _values(_get(url))
    return tuple(got[f"hotline_{name}"] for name in ENGINE)


def test_metrics_follow_the_workers_heartbeats_and_the_tasks(scrape: tuple[str, Config], tmp_path: Path) -> None:
    url, cfg = scrape
    body = _get(url)
    for name in ENGINE:  # Prometheus needs both lines to type the series
        assert f"# HELP hotline_{name} " in body and f"# TYPE hotline_{name} gauge\n" in body, name
    assert _engine(url) == (0, 0, 0, 0)
    assert "hotline_workers_ready" not in body and "hotline_pool_" not in body  # the pool's: 0 would read as dead

    with transaction(cfg.database_url) as s:  # a worker starts: Procrastinate registers it, beating now
        worker = int(s.scalar(text("SELECT worker_id FROM procrastinate_register_worker_v1()")))
    assert _engine(url) == (1, 0, 0, 0)
    with transaction(cfg.database_url) as s:  # its last beat an hour ago: gone quiet
        s.execute(text("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'"))
    assert _engine(url) == (0, 0, 0, 0)
    with transaction(cfg.database_url) as s:  # it beats again
        s.execute(text("SELECT procrastinate_update_heartbeat_v1(:w)"), {"w": worker})
    assert _engine(url) == (1, 0, 0, 0)

    call = add_call(cfg.database_url, {"mix": tmp_path / "mix.wav"})  # serve queues a call's job and its task
    got = _values(_get(url))
    assert (got["hotline_procrastinate_tasks_waiting"], got["hotline_jobs_pending"]) == (1, 1)

    # the worker takes the task, claims the job row and dies before its first heartbeat, an hour ago
    with transaction(cfg.database_url) as s:
        job_id = s.execute(text("SELECT args->>'job_id' FROM procrastinate_fetch_job_v2(ARRAY[:q]::varchar[], :w)"),
                           {"q": QUEUE, "w": worker}).scalar_one()
        job = jobs.claim(s, "host-a:1", now=jobs.utcnow() - timedelta(hours=1), job_id=int(job_id))
        assert job is not None and job.call_id == call
    assert _engine(url) == (1, 0, 1, 1)


def test_the_pool_engine_has_no_procrastinate_series(tmp_path: Path) -> None:
    """Zeros there would read as "no worker alive" on a host whose workers are its own pool."""
    cfg = load_config(host_config(tmp_path, "pool", f"sqlite:///{tmp_path}/h.db", {}, engine="pool"))
    port = _free_port()
    httpd, thread = serve_metrics(port, lambda: {"serve": {}, **database_figures(cfg)})
    try:
        body = _get(f"http://127.0.0.1:{port}/metrics")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
    assert "hotline_jobs_pending 0.0" in body and "procrastinate" not in body
    assert "hotline_workers_ready 0.0" in body and "hotline_pool_running 0.0" in body
