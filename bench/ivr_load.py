"""IVR under load: the time the app adds per AGI command with 500 concurrent calls.

Setup: the Asterisk simulator runs in a **separate process** (spawned; its own core and
event loop), the real service in this one (AMI client, sessions, the call store writing
a real SQLite file on its thread). Every call: opening line, the main menu, key 2 typed
during the menu prompt, the transfer prompt, ``EXEC Dial`` to an agent who answers after
2 s and hangs up after 5 s, ``GET VARIABLE DIALSTATUS``, goodbye, ``HANGUP``: 9 AGI
commands. MixMonitor writes three real WAV files per call.

Two figures per command, p50 / p99 / max:

- **app**: in this process, from the read() that delivered the AsyncAGIExec (or the
  AsyncAGIStart) to the moment the next ``Action: AGI`` for that channel is written:
  parsing, dispatch, the session's own work. This is the time the app adds.
- **seen by Asterisk**: in the simulator process, from writing the AsyncAGIExec to
  parsing the next ``Action: AGI`` of the channel: the app's time plus loopback TCP and
  both event loops' scheduling delays (an upper bound).

Plus the app's event-loop lag (a 10 ms ticker's oversleep), p99 and max. The baseline is
the same run with 10 calls; ratios compare to it. Target: app p99 < 20 ms at 500 calls.
The service runs as `hotline serve` does: call store writer in its own process, start-up
objects frozen out of the garbage collector. ``--store thread`` compares the writer thread.

Run: .venv/bin/python bench/ivr_load.py [--calls 500] [--speed 4] [--spread 2]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.demo import prompt_seconds, render, write_config  # noqa: E402
from ivr.service import IvrService, wait_for  # noqa: E402
from pbx.protocol import FrameParser  # noqa: E402
from settings import load_config  # noqa: E402

BASE = ROOT / "config.yaml"


# ----- the simulator process -------------------------------------------------------------


def sim_main(conn: Any, sounds: str, monitor: str, speed: float) -> None:
    """Child: run the simulator; place calls on request; report its own view of the gaps."""
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_sim(conn, Path(sounds), Path(monitor), speed))


async def _sim(conn: Any, sounds: Path, monitor: Path, speed: float) -> None:
    from pbx.simulator import Agent, AsteriskSimulator, CallScript, Press, session
    from pbx.simulator import actions as actions_mod

    loop = asyncio.get_running_loop()
    sent: dict[str, float] = {}  # channel -> when its last AsyncAGIStart/Exec was written
    gaps: list[float] = []
    real_flush = session.AmiSession.flush
    real_handle = actions_mod.handle

    def flush(self: Any) -> None:
        stamp = loop.time()
        for frame in self._out:
            if frame.startswith(b"Event: AsyncAGIExec") or frame.startswith(b"Event: AsyncAGIStart"):
                i = frame.find(b"\r\nChannel: ")
                if i >= 0:
                    j = frame.find(b"\r\n", i + 11)
                    sent[frame[i + 11:j].decode()] = stamp
        real_flush(self)

    async def handle(sim: Any, session: Any, msg: Any) -> None:
        if msg.name == "AGI":
            t = sent.pop(msg.get("Channel") or "", None)
            if t is not None:
                gaps.append(loop.time() - t)
        await real_handle(sim, session, msg)

    session.AmiSession.flush = flush  # type: ignore[method-assign]
    actions_mod.handle = handle  # type: ignore[assignment]
    sim = AsteriskSimulator(sounds_dir=sounds, monitor_dir=monitor, speed=speed)
    conn.send(await sim.start())
    while True:
        req = await loop.run_in_executor(None, conn.recv)
        if req[0] == "stop":
            break
        _, n, spread, g = req
        gaps.clear()
        calls = []
        for i in range(n):
            script = CallScript(f"load{i}", caller_num=f"1390000{i:04d}", presses=(Press(g + 2.0, "2"),),
                                agent=Agent("SIP/agent1002", answer_after=2.0, hangs_up_after=5.0))
            calls.append(sim.place_call(script))
            await asyncio.sleep(spread / n)
        await asyncio.wait([c.done for c in calls], timeout=600)
        ok = sum(1 for c in calls if c.done.done() and c.commands and c.commands[-1] == "HANGUP")
        conn.send((list(gaps), ok, [c.uniqueid for c in calls]))
    await sim.stop()


# ----- the app side ----------------------------------------------------------------------


class _GcPauses:
    """Collector pauses in this process (any thread: a collection holds the GIL)."""

    pauses: ClassVar[list[tuple[int, float]]] = []
    _t = 0.0

    @classmethod
    def install(cls) -> None:
        def cb(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                cls._t = time.perf_counter()
            else:
                cls.pauses.append((info["generation"], time.perf_counter() - cls._t))

        gc.callbacks.append(cb)


class _ReadClock:
    """When the AMI client last got bytes from the socket (stamped before parsing)."""

    last = 0.0

    @classmethod
    def install(cls) -> None:
        real = FrameParser.feed

        def feed(self: Any, data: bytes) -> Any:
            cls.last = time.monotonic()
            return real(self, data)

        FrameParser.feed = feed  # type: ignore[method-assign]


async def _lag_probe(samples: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        t = time.monotonic()
        await asyncio.sleep(0.01)
        samples.append(time.monotonic() - t - 0.01)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


async def run_round(conn: Any, config_path: Path, n: int, spread: float, speed: float, g: float,
                    store_process: bool) -> dict[str, Any]:
    cfg = load_config(config_path)
    service = IvrService(cfg, config_path=None, render_prompts=False, measure=True, time_scale=speed,
                         rx_clock=lambda: _ReadClock.last, reload_interval=0,
                         freeze_gc=True, store_process=store_process)
    await service.start()
    lag: list[float] = []
    _GcPauses.pauses.clear()
    stop = asyncio.Event()
    probe = asyncio.create_task(_lag_probe(lag, stop))
    t0 = time.monotonic()
    await asyncio.to_thread(conn.send, ("place", n, spread, g))
    sim_gaps, ok, _uids = await asyncio.to_thread(conn.recv)
    await wait_for(lambda: len(service.finished) >= n, 60)
    wall = time.monotonic() - t0
    stop.set()
    await probe
    flush_t = time.monotonic()
    await asyncio.to_thread(service.store.flush, 120)
    flush_s = time.monotonic() - flush_t
    errors = sum(1 for s in service.finished if s.error or s.status != "ended")
    pauses = list(_GcPauses.pauses)
    tracked = len(gc.get_objects())
    app = list(service.gaps or [])
    await service.stop()
    return {"calls": n, "ok": ok, "errors": errors, "app": app, "sim": sim_gaps, "lag": lag, "wall": wall,
            "flush_s": flush_s, "written": service.store.written, "gc": pauses, "tracked": tracked}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=500)
    ap.add_argument("--baseline", type=int, default=10)
    ap.add_argument("--speed", type=float, default=4.0, help="simulated seconds per wall second")
    ap.add_argument("--spread", type=float, default=2.0, help="wall seconds over which the calls arrive")
    ap.add_argument("--store", choices=("process", "thread"), default="process", help="where the DB writer runs")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="hotline-ivr-load-"))
    path = write_config(BASE, work, port=1)
    cfg = load_config(path)
    render(cfg)
    g = prompt_seconds(cfg)["greeting"]
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=sim_main, args=(child, str(work / "sounds"), str(work / "monitor"), args.speed))
    proc.start()
    port = parent.recv()
    path = write_config(BASE, work, port=port)
    _ReadClock.install()
    _GcPauses.install()
    results = []
    for n in (args.baseline, args.calls):
        results.append(asyncio.run(run_round(parent, path, n, args.spread if n > args.baseline else 0.5,
                                             args.speed, g, args.store == "process")))
    parent.send(("stop",))
    proc.join(30)
    base = results[0]
    print(f"IVR load: simulator in a separate process, DB writer in a {args.store}, speed {args.speed:g}x, "
          "9 AGI commands per call, "
          f"calls arriving over {args.spread:g} s (baseline {args.baseline} calls). Times in ms.")
    print(f"Machine: {os.cpu_count()} cores, load average {load_before:.2f} before / {os.getloadavg()[0]:.2f} "
          "after (other processes competing for the cores inflate every figure).")
    header = f"{'calls':>6} {'ok':>5} {'err':>4} {'cmds':>6} | {'app p50':>8} {'app p99':>8} {'app max':>8} | " \
             f"{'seen p50':>8} {'seen p99':>8} | {'lag p99':>8} {'lag max':>8} | {'p99 vs base':>11}"
    print(header)
    print("-" * len(header))
    for r in results:
        ms = [x * 1000 for x in r["app"]]
        sim = [x * 1000 for x in r["sim"]]
        lag = [x * 1000 for x in r["lag"]]
        ratio = pct(ms, 99) / max(pct([x * 1000 for x in base["app"]], 99), 1e-9)
        print(f"{r['calls']:>6} {r['ok']:>5} {r['errors']:>4} {len(ms):>6} | {pct(ms, 50):8.2f} {pct(ms, 99):8.2f} "
              f"{max(ms):8.2f} | {pct(sim, 50):8.2f} {pct(sim, 99):8.2f} | {pct(lag, 99):8.2f} {max(lag):8.2f} | "
              f"{ratio:10.1f}x")
    big = results[-1]
    p99 = pct([x * 1000 for x in big["app"]], 99)
    print(f"\n{big['calls']} calls: app p99 {p99:.2f} ms ({'meets' if p99 < 20 else 'MISSES'} the 20 ms target); "
          f"mean {statistics.fmean(big['app']) * 1000:.2f} ms; {big['written']} DB records, the writer "
          f"caught up {big['flush_s']:.2f} s after the last call closed.")
    for r in results:
        full = [d * 1000 for gen, d in r["gc"] if gen == 2]
        print(f"{r['calls']} calls: {len(r['gc'])} collections, {len(full)} full, longest full "
              f"{max(full, default=0):.1f} ms, longest any {max((d for _, d in r['gc']), default=0) * 1000:.1f} ms; "
              f"{r['tracked']} objects tracked by the collector at the end")


if __name__ == "__main__":
    main()
