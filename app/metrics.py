"""Prometheus /metrics for `hotline serve --metrics-port N` (off unless a port is given; bound
to 127.0.0.1). The figures are those of `hotline status`, read when Prometheus scrapes: a
custom collector over the latest snapshot, so there is one source for both. On the procrastinate
engine that includes its workers' heartbeats and tasks (`hotline_procrastinate_*`) in place of the
pool's worker figures (`hotline_workers_*`, `hotline_pool_*`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

Snapshot = Callable[[], dict[str, Any]]


class _Figures(Collector):
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Any]:
        snap = self.snapshot()
        serve, queue = snap.get("serve") or {}, snap.get("queue") or {}
        ami, calls, store = serve.get("ami") or {}, serve.get("calls") or {}, serve.get("store") or {}
        workers = serve.get("workers") or {}

        def gauge(name: str, doc: str, value: Any) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"hotline_{name}", doc, value=float(value or 0))

        def counter(name: str, doc: str, value: Any) -> CounterMetricFamily:
            return CounterMetricFamily(f"hotline_{name}", doc, value=float(value or 0))

        yield gauge("ami_connected", "1 while the AMI link is up", ami.get("connected"))
        lease = serve.get("lease") or {}
        yield gauge("lease_active", "1 while this serve drives calls (0: standby)", lease.get("active"))
        yield gauge("calls_in_progress", "Calls being driven now", calls.get("in_progress"))
        yield gauge("store_backlog", "Call store ops journaled, not yet in the database", store.get("backlog"))
        yield gauge("jobs_pending", "Transcription jobs queued or running", queue.get("depth"))
        yield gauge("oldest_pending_job_seconds", "Age of the oldest queued job", queue.get("oldest_pending_s"))
        yield counter("calls", "Calls finished since serve started", calls.get("finished"))
        yield counter("flags", "QA flags raised (all time, from the database)", queue.get("flags"))
        yield counter("job_failures", "Transcription jobs failed (all time, from the database)", queue.get("failed"))
        yield counter("ami_reconnects", "AMI link reconnects since serve started", ami.get("reconnects"))
        # Each engine's own series only: the other's zeros would read as "no worker alive".
        engine = snap.get("procrastinate")
        if engine is None:  # the pool beside serve
            yield gauge("workers_ready", "Transcription workers with the model loaded", workers.get("ready"))
            yield gauge("workers_busy", "Transcription workers running a job", workers.get("busy"))
            yield gauge("pool_running", "1 while the transcription pool runs", workers.get("running"))
            yield counter("pool_restarts", "Transcription pool restarts since serve started", workers.get("restarts"))
        else:
            yield gauge("procrastinate_workers_beating", "Procrastinate workers whose heartbeat is fresh",
                        engine["workers"])
            yield gauge("procrastinate_tasks_waiting", "Transcription tasks not yet delivered to a worker",
                        engine["tasks_todo"])
            yield gauge("procrastinate_tasks_delivered", "Transcription tasks a worker has taken",
                        engine["tasks_doing"])
            yield gauge("procrastinate_jobs_stalled", "Jobs running whose heartbeat stopped (the reaper retakes them)",
                        engine["stalled"])


def serve_metrics(port: int, snapshot: Snapshot, addr: str = "127.0.0.1") -> Any:
    """Start the /metrics HTTP server in a thread; returns (server, thread)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Figures(snapshot))
    return start_http_server(port, addr=addr, registry=registry)
