"""What `hotline status` shows: the running `serve` writes a small JSON status file every few
seconds (AMI link, lease, calls in progress, call store backlog, worker health, counters); the
database gives the queue (depth, oldest pending job) and the flag count. The same figures feed
/metrics (app/metrics.py).

A file rather than an HTTP endpoint: `status` then works with nothing listening, and a file
older than a few intervals says plainly that `serve` is not running (or is stuck).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

import db
from qa.tables import Flag
from settings import Config
from transcribe.procrastinate_app import engine_figures
from transcribe.tables import Job

INTERVAL_S = 2.0
STALE_AFTER_S = 3 * INTERVAL_S


def status_path(cfg: Config) -> Path:
    """var/status.json beside the config (where the default database lives too)."""
    return cfg.path("var/status.json")


def service_snapshot(service: Any, pool: Any, started: float) -> dict[str, Any]:
    """The running service's own figures (no database reads: this runs on the event loop)."""
    ami = service.ami
    store = service.store
    return {
        "pid": os.getpid(), "updated_at": time.time(), "started_at": started,
        "ami": {"connected": bool(ami.connected), "host": ami.host, "port": ami.port,
                "reconnects": ami.stats.reconnects},
        "lease": {"active": bool(getattr(service, "active", True))},
        "calls": {"in_progress": len(service.sessions), "finished": len(service.finished)},
        "store": {"backlog": store.backlog, "failed": store.failed, "writer_restarts": store.restarts},
        "workers": pool.health() if pool is not None else None,
    }  # fmt: skip


def write_status(path: Path, snapshot: dict[str, Any]) -> None:
    """Atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(snapshot), encoding="utf-8")
    os.replace(tmp, path)


def queue_figures(url: str) -> dict[str, Any]:
    """Jobs waiting (queued or running), the oldest queued one's age, and flags raised so far."""
    with db.transaction(url) as s:
        depth = s.scalar(select(func.count()).select_from(Job).where(Job.status.in_(("queued", "running")))) or 0
        oldest = s.scalar(select(func.min(Job.created_at)).where(Job.status == "queued"))
        failed = s.scalar(select(func.count()).select_from(Job).where(Job.status == "failed")) or 0
        flags = s.scalar(select(func.count()).select_from(Flag)) or 0
    age = (db.now() - oldest).total_seconds() if oldest is not None else None
    return {"depth": depth, "oldest_pending_s": age, "failed": failed, "flags": flags}


def read_status(cfg: Config) -> dict[str, Any]:
    """The status file (if fresh) and the queue, as `hotline status --json` prints them."""
    path = status_path(cfg)
    out: dict[str, Any] = {"serve": None, "serving": False, "status_file": str(path)}
    try:
        snap = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        snap = None
    if snap is not None:
        age = time.time() - float(snap.get("updated_at", 0))
        out.update(serve=snap, serving=age <= STALE_AFTER_S, status_age_s=round(age, 1))
    out.update(database_figures(cfg))
    return out


def database_figures(cfg: Config) -> dict[str, Any]:
    """What the database says, for `status` and for each /metrics scrape alike: the queue, and on
    the procrastinate engine its workers and tasks (they are `hotline worker` processes on other
    hosts, seen only by their heartbeats and task rows)."""
    out: dict[str, Any] = {"queue": queue_figures(cfg.database_url)}
    if cfg.workers.engine == "procrastinate":
        out["procrastinate"] = engine_figures(cfg.database_url, cfg.workers.stalled_after_s)
    return out
