"""Throughput of the transcription worker pool: one process per core vs one process, same run.

    .venv/bin/python bench/asr_pool.py                    # 10 calls of 60 s, pool sizes 1 and cores
    .venv/bin/python bench/asr_pool.py --calls 4 --sizes 1,2,3

Each call is a synthesized two-track MixMonitor recording (tests/audio_factory.py: several
scripts back to back, espeak-ng via pinyin, G.711 mu-law round trip, padded to --seconds).
The audio is synthesized once into --audio-dir and reused by every run (and by later runs).
Each pool size gets a fresh SQLite database with the calls queued, and drains it with
`run_pool(drain=True)` exactly as `hotline transcribe --pending` does: spawned worker
processes, model loaded once per process, jobs claimed from the database, transcripts
saved. Throughput is call audio (minutes) per wall-clock minute, with and without the start
(spawning + model load); peak RSS is each worker process's own maximum (ru_maxrss).
Targets (issue 4): the pool >= 15x real time, <= 1 GB per worker.

Measured here (2 vCPU, 10 x 60 s calls, shipped settings: beam 5, VAD, word timestamps; other
processes taking 17-22% of the CPU during the run): 1 worker 11.7x real time, 2 workers 18.5x
(19.2x without the start), 1.58x speed-up; model load 0.4-0.7 s; peak RSS 558-582 MB per worker;
11.5x call audio per CPU second. With 50-63% of the CPU taken by other runs the 2-worker pool
fell to 10.6-11.9x: read the "other CPU" column before the verdict.
Since then the worker also checks phrases against the audio (issue 11) and decodes lost stretches
again. 2026-12-02, 6 calls, no other load, beam 1, encoder windows trimmed: 1 worker 5.4x, 2
workers 9.0x (1.68x speed-up), 585 MB peak per worker, 4.9x call audio per CPU second.
On a faster machine the same day (Whisper's encoder 0.67 s for a 30 s window, against 1.6 s),
6 calls, --tracks 1,2: 1 worker 13.1x, or 15.6x decoding a call's two tracks at once; 2 workers
20.4x, and 19.7x at once (no gain once every core has a worker; 757-773 MB peak per worker
against 581-609).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from audio_factory import CLEAN_CALLS, FLAGGED_CALLS, build_call, long_call  # noqa: E402

from db import dispose_all, transaction  # noqa: E402
from ivr.tables import Call  # noqa: E402
from recordings.tables import Recording  # noqa: E402
from settings import DatabaseSettings, load_config  # noqa: E402
from transcribe import jobs  # noqa: E402
from transcribe.worker import PoolEvent, PoolOptions, PoolStats, pool_size, run_pool  # noqa: E402

TARGET_X = 15.0
TARGET_RSS_MB = 1024.0


def make_calls(n: int, seconds: float, out: Path) -> list[tuple[Path, Path, float]]:
    """n different calls of about `seconds` each (scripts rotated), reused if already there."""
    scripts = list(FLAGGED_CALLS) + list(CLEAN_CALLS)
    calls = []
    for i in range(n):
        order = scripts[i % len(scripts):] + scripts[: i % len(scripts)]
        lines = long_call(seconds, order)
        key = hashlib.sha256(repr((lines, seconds)).encode()).hexdigest()[:12]
        name = f"call{i:02d}-{key}"
        caller, agent = out / f"{name}-caller.wav", out / f"{name}-agent.wav"
        if not (caller.is_file() and agent.is_file()):
            build_call(lines, out, name, min_duration=seconds, mulaw=True)
        from recordings.audio import probe_wav

        calls.append((caller, agent, probe_wav(caller).duration))
    return calls


def busy_cpu_s() -> float:
    """CPU seconds all processes on this machine have used (/proc/stat: everything but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """CPU seconds of this process and its reaped children (the workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_once(size: int, tracks: int, calls: list[tuple[Path, Path, float]], work: Path
             ) -> tuple[PoolStats, float, float, float]:
    """Queue every call in a fresh database and drain it with `size` workers, each decoding
    `tracks` tracks of a call at once (asr.parallel_tracks)."""
    base = load_config(ROOT / "config.yaml")
    db_file = work / f"pool-{size}-{tracks}.db"
    db_file.unlink(missing_ok=True)
    config = base.model_copy(update={"database": DatabaseSettings(url=f"sqlite:///{db_file}"),
                                     "asr": base.asr.model_copy(update={"parallel_tracks": tracks})})
    dispose_all()
    with transaction(config.database_url) as s:
        for i, (caller, agent, _) in enumerate(calls):
            call = Call(uniqueid=f"bench.{size}.{tracks}.{i}", channel="PJSIP/bench", status="ended")
            s.add(call)
            s.flush()
            s.add_all([Recording(call_id=call.id, kind="caller", path=str(caller), status="ready"),
                       Recording(call_id=call.id, kind="agent", path=str(agent), status="ready")])  # fmt: skip
            jobs.enqueue_call(s, call.id)
    first_start: list[float] = []

    def on_event(ev: PoolEvent) -> None:
        if ev.kind == "started" and not first_start:
            first_start.append(time.perf_counter())
        if ev.kind in ("failed", "retry", "lost"):
            print(f"  job {ev.job_id} {ev.kind}: {ev.message}", file=sys.stderr)

    busy, own = busy_cpu_s(), own_cpu_s()
    stats = run_pool(config, drain=True, workers=size, options=PoolOptions(log_level=logging.ERROR),
                     on_event=on_event)  # fmt: skip
    end = time.perf_counter()
    # Others on this machine (other test runs) take CPU from the pool: say how much.
    used = own_cpu_s() - own  # this process and its workers (reaped, so counted)
    other = max(0.0, (busy_cpu_s() - busy) - used) / (stats.wall_s * (os.cpu_count() or 1))
    steady = end - first_start[0] if first_start else stats.wall_s
    return stats, steady, other, used


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=60.0, help="length of each call")
    ap.add_argument("--sizes", default=None, help="pool sizes, comma separated [default: 1,<cores>]")
    ap.add_argument("--tracks", default=None,
                    help="asr.parallel_tracks values to compare, comma separated [default: the config's]")
    ap.add_argument("--audio-dir", type=Path, default=Path(tempfile.gettempdir()) / "hotline-bench-asr-pool")
    args = ap.parse_args()
    cores = pool_size(load_config(ROOT / "config.yaml").asr.model_copy(update={"workers": 0}))
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else sorted({1, cores})
    shipped_tracks = load_config(ROOT / "config.yaml").asr.parallel_tracks
    track_modes = [int(x) for x in args.tracks.split(",")] if args.tracks else [shipped_tracks]

    t = time.perf_counter()
    args.audio_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HOTLINE_TTS_CACHE", str(args.audio_dir / "tts"))
    calls = make_calls(args.calls, args.seconds, args.audio_dir)
    audio_s = sum(d for _, _, d in calls)
    print(f"{len(calls)} calls, {audio_s / 60:.1f} min of call audio (2 tracks each) in {args.audio_dir} "
          f"({time.perf_counter() - t:.1f} s to prepare); {cores} cores")  # fmt: skip

    rows = []
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        for size in sizes:
            for tracks in track_modes:
                stats, steady, other, used = run_once(size, tracks, calls, Path(tmp))
                if stats.done != len(calls):
                    sys.exit(f"pool of {size}: only {stats.done} of {len(calls)} calls transcribed")
                rows.append((size, tracks, stats, steady, other, used))
                print(f"  pool of {size}, {tracks} track(s) at once: {stats.wall_s:.1f} s", file=sys.stderr)

    base_wall = rows[0][2].wall_s
    head = (f"{'workers':>7} {'tracks':>6} {'calls':>5} {'audio min':>9} {'wall s':>7} {'x real time':>11} "
            f"{'x excl. start':>13} {'speed-up':>8} {'load s':>6} {'peak RSS MB/worker':>19} {'other CPU':>9} "
            f"{'CPU s':>6} {'x per CPU s':>11}")
    print()
    print(head)
    print("-" * len(head))
    for size, tracks, stats, steady, other, used in rows:
        x = audio_s / stats.wall_s
        x_steady = audio_s / steady
        loads = max(stats.load_s.values(), default=0.0)
        rss = ", ".join(f"{v:.0f}" for v in sorted(stats.peak_rss_mb.values()))
        print(f"{size:>7} {tracks:>6} {stats.done:>5} {audio_s / 60:>9.1f} {stats.wall_s:>7.1f} {x:>11.1f} "
              f"{x_steady:>13.1f} "
              f"{base_wall / stats.wall_s:>7.2f}x {loads:>6.2f} {rss:>19} {other:>9.0%} {used:>6.0f} "
              f"{audio_s / used:>11.1f}")  # fmt: skip
    best = max(audio_s / r[2].wall_s for r in rows)
    worst_rss = max((v for r in rows for v in r[2].peak_rss_mb.values()), default=0.0)
    print()
    print("tracks: a call's tracks decoded at once in each worker (asr.parallel_tracks)")
    print("baseline: the first row, same calls, same run. speed-up = wall(1 worker) / wall(N workers)")
    print("other CPU: share of all cores used by other processes during the run (it slows the pool)")
    print("x per CPU s: call audio per CPU second the pool used (start included): what one dedicated core gives")
    print(f"target pool >= {TARGET_X:.0f}x real time: {'PASS' if best >= TARGET_X else 'FAIL'} ({best:.1f}x)")
    print(f"target <= {TARGET_RSS_MB:.0f} MB per worker: {'PASS' if worst_rss <= TARGET_RSS_MB else 'FAIL'} "
          f"({worst_rss:.0f} MB)")  # fmt: skip


if __name__ == "__main__":
    main()
