"""The review app served by a real uvicorn on a free 127.0.0.1 port, in a thread (tests and benches)."""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def running(app: Any, start_timeout_s: float = 20.0) -> Iterator[str]:
    """Serve ``app`` for the length of a with-block; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    waited = 0.0
    while not server.started:
        thread.join(0.05)
        waited += 0.05
        if not thread.is_alive() or waited > start_timeout_s:
            raise RuntimeError("uvicorn did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def p50_p95(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Milliseconds of ``fn`` over ``runs`` calls: median and 95th percentile (the web benches)."""
    ms = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t) * 1000)
    ms.sort()
    return statistics.median(ms), ms[max(0, round(0.95 * len(ms)) - 1)]
