"""The transcription pool inside `hotline serve` / `hotline demo`: a supervised background thread.

:func:`start_pool` returns a :class:`PoolHandle` at once; the handle runs
:func:`transcribe.worker.run_pool` in a thread, starts it again after a backoff when it ends
with an error, and keeps the counts `hotline status` and /metrics show. :func:`check_model`
loads the model once in a child process before `serve` takes calls. The pool itself (worker
processes, restarts, recovery of dead claims) is transcribe/worker.py.

    handle = start_pool(config)      # a background thread running run_pool
    ...
    handle.stop()                    # workers finish their current job (grace period), then exit
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
import threading
from collections.abc import Callable
from typing import Any

from settings import Config
from transcribe.model import ModelError, resolve_model_dir
from transcribe.runner import QaScan
from transcribe.settings_map import load_transcriber, model_dir_setting
from transcribe.worker import PoolError, PoolEvent, PoolOptions, PoolStats, pool_size, run_pool

log = logging.getLogger("hotline.transcribe")


class PoolHandle:
    """A pool running in a background thread of the calling process, supervised: a pool that
    ends with an error (workers dying, the database away) is started again after a backoff
    (5 s doubling to 5 min), so `serve` never runs on with dead transcription."""

    def __init__(self, config: Config, *, restart_s: tuple[float, float] = (5.0, 300.0), **kwargs: Any) -> None:
        self._stop = threading.Event()
        self.stats: PoolStats | None = None
        self.error: BaseException | None = None  # the last error the pool ended with
        self.restarts = 0
        self.workers = kwargs.get("workers") or pool_size(config.asr)
        self.counts: dict[str, int] = {}  # pool events by kind since start (metrics, status)
        self.busy: dict[str, int | None] = {}  # worker -> job it runs (None: idle)
        self._restart_s = restart_s
        user_event = kwargs.pop("on_event", None)

        def on_event(event: PoolEvent) -> None:
            self.counts[event.kind] = self.counts.get(event.kind, 0) + 1
            if event.kind in ("ready", "started"):
                self.busy[event.worker] = event.job_id
            elif event.kind in ("done", "retry", "failed", "lost"):
                self.busy[event.worker] = None
            elif event.kind in ("exit", "died", "fatal"):
                self.busy.pop(event.worker, None)
            if user_event is not None:
                user_event(event)

        self._thread = threading.Thread(target=self._run, args=(config,), kwargs={**kwargs, "on_event": on_event},
                                        name="transcribe-pool")
        self._thread.start()

    def _run(self, config: Config, **kwargs: Any) -> None:
        delay, most = self._restart_s
        while not self._stop.is_set():
            try:
                self.stats = run_pool(config, self._stop, **kwargs)
                return
            except KeyboardInterrupt:
                return
            except BaseException as exc:
                self.error = exc
                self.busy.clear()
                log.error("transcription pool stopped: %s; starting it again in %.0fs", exc, delay)
            if self._stop.wait(delay):
                return
            self.restarts += 1
            delay = min(delay * 2, most)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def health(self) -> dict[str, Any]:
        """What `hotline status` and /metrics show of the pool."""
        return {"running": self.running, "workers": self.workers, "ready": len(self.busy),
                "busy": sum(1 for j in self.busy.values() if j is not None), "restarts": self.restarts,
                "done": self.counts.get("done", 0), "failed": self.counts.get("failed", 0),
                "died": self.counts.get("died", 0),
                "last_error": str(self.error).splitlines()[0] if self.error else None}

    def stop(self, timeout: float | None = None) -> PoolStats | None:
        """Ask the workers to finish their current job and exit; wait for the pool to end."""
        self._stop.set()
        self._thread.join(timeout)
        return self.stats


def check_model(config: Config, timeout: float = 300.0) -> None:
    """Find and load the ASR model once, in a child process (the service keeps no copy of it);
    raise PoolError with one line if it cannot be. `serve` calls this before taking calls."""
    try:
        resolve_model_dir(model_dir_setting(config))
    except ModelError as exc:
        raise PoolError(str(exc)) from None
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_load_once, args=(config, out), name="model-check", daemon=True)
    proc.start()
    try:
        problem = out.get(timeout=timeout)
    except queue.Empty:
        problem = f"the ASR model did not load in {timeout:.0f}s"
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.kill()
    if problem:
        raise PoolError(problem)


def _load_once(config: Config, out: Any) -> None:
    try:
        load_transcriber(config)
    except BaseException as exc:
        out.put(f"cannot load the ASR model: {exc}".splitlines()[0])
        return
    out.put(None)


def start_pool(
    config: Config,
    *,
    workers: int | None = None,
    options: PoolOptions | None = None,
    on_event: Callable[[PoolEvent], None] | None = None,
    qa_scan: QaScan | None = None,
    **kw: Any,
) -> PoolHandle:
    """Start the worker pool in the background (for `hotline serve` / `hotline demo`).

    Returns at once; the pool runs until ``handle.stop()``. A model problem ends the pool
    and is kept in ``handle.error`` (and logged), it does not raise here."""
    return PoolHandle(config, workers=workers, options=options, on_event=on_event, qa_scan=qa_scan, **kw)
