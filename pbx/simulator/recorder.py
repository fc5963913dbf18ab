"""MixMonitor: real WAV files from what the call heard and said, laid out by call time.

Each call keeps two timelines of audio segments: ``rx`` (read from the caller's
channel: the caller's voice) and ``tx`` (written to it: prompts, ringback, the agent's
voice). A MixMonitor is a window [start, stop) on those timelines, less what MixMonitorMute
silenced; when it stops (hangup or StopMixMonitor) the three tracks are rendered and written
in a worker thread:
``<file>`` = rx + tx (saturating, as Asterisk mixes), ``r()`` = rx, ``t()`` = tx. All
three have the same length and are aligned sample for sample, digital zero where silent.

Paths: Asterisk writes where it is told (``/var/spool/asterisk/monitor/x.wav``); the
simulator writes the same basename into ``monitor_dir``. A relative name lands in
``monitor_dir`` under that relative path, as Asterisk resolves it against its monitor
directory. Only WAV (8 kHz, mono, 16-bit) is written, whatever the extension says.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import numpy as np

from recordings.audio import PHONE_RATE, write_wav

if TYPE_CHECKING:
    from pbx.simulator.call import SimCall

log = logging.getLogger("pbx.simulator")
FRAME = 160  # Asterisk mixes 20 ms frames


@dataclass
class Segment:
    """Audio placed on a timeline at call time ``start``; ``cut`` ends it early (call time)."""

    start: float
    pcm: np.ndarray | None = None
    pending: asyncio.Future[np.ndarray] | None = None
    cut: float | None = None
    maker: Callable[[int], np.ndarray] | None = None  # endless audio (ringback), made when rendered

    def stop_at(self, when: float) -> None:
        if self.cut is None or when < self.cut:
            self.cut = when

    async def samples(self, until: float) -> np.ndarray:
        if self.maker is not None:
            end = until if self.cut is None else min(until, self.cut)
            return self.maker(max(0, round((end - self.start) * PHONE_RATE)))
        if self.pcm is None:
            self.pcm = await asyncio.shield(self.pending) if self.pending is not None else np.zeros(0, np.int16)
        pcm = self.pcm
        if self.cut is not None:
            pcm = pcm[: max(0, round((self.cut - self.start) * PHONE_RATE))]
        return pcm


def monitor_path(monitor_dir: Path, name: str) -> Path:
    """Where the file Asterisk was asked to write lands (see the module docstring)."""
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts:
        return monitor_dir / pure.name
    return monitor_dir / pure


_OPTION = re.compile(r"([a-zA-Z])(?:\(([^)]*)\))?")


def parse_mixmonitor_args(data: str) -> tuple[str, dict[str, str]]:
    """``file.wav,r(a.wav)t(b.wav)`` -> (file, {"r": "a.wav", "t": "b.wav"})."""
    filename, _, rest = data.partition(",")
    options_text = rest.split(",", 1)[0]
    return filename.strip(), {m.group(1): m.group(2) or "" for m in _OPTION.finditer(options_text)}


@dataclass
class MixMonitor:
    """One running recording of a call's channel."""

    filename: str  # as Asterisk was given it (MIXMONITOR_FILENAME); "" = no mixed file
    mix: Path | None
    rx: Path | None
    tx: Path | None
    start: float
    stop: float | None = None
    written: list[Path] = field(default_factory=list)
    # MixMonitorMute: per timeline, the [from, until) call times recorded as silence (until None: still muted)
    muted: dict[str, list[tuple[float, float | None]]] = field(default_factory=lambda: {"rx": [], "tx": []})

    @property
    def paths(self) -> list[Path]:
        return [p for p in (self.mix, self.rx, self.tx) if p is not None]


def _render(start: float, length: int, segments: list[tuple[float, np.ndarray]]) -> np.ndarray:
    out = np.zeros(length, dtype=np.int32)
    for seg_start, pcm in segments:
        offset = round((seg_start - start) * PHONE_RATE)
        a, b = max(0, offset), min(length, offset + pcm.size)
        if a < b:
            out[a:b] += pcm[a - offset : b - offset]
    return np.clip(out, -32768, 32767).astype(np.int16)


def _write_atomic(path: Path, pcm: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    write_wav(tmp, pcm, PHONE_RATE)
    os.replace(tmp, path)


def _silence_muted(pcm: np.ndarray, mon: MixMonitor, side: str) -> np.ndarray:
    for a, b in mon.muted[side]:
        i = max(0, round((a - mon.start) * PHONE_RATE))
        j = pcm.size if b is None else min(pcm.size, round((b - mon.start) * PHONE_RATE))
        pcm[i:j] = 0
    return pcm


def _write_tracks(mon: MixMonitor, length: int, rx_segs: list, tx_segs: list) -> list[Path]:
    rx = _silence_muted(_render(mon.start, length, rx_segs), mon, "rx")
    tx = _silence_muted(_render(mon.start, length, tx_segs), mon, "tx")
    mix = np.clip(rx.astype(np.int32) + tx.astype(np.int32), -32768, 32767).astype(np.int16)
    written = []
    for path, pcm in ((mon.mix, mix), (mon.rx, rx), (mon.tx, tx)):
        if path is not None:
            _write_atomic(path, pcm)
            written.append(path)
    return written


async def finish(mon: MixMonitor, stop: float, rx: list[Segment], tx: list[Segment]) -> list[Path]:
    """Stop ``mon`` at call time ``stop`` and write its files; returns the paths written."""
    mon.stop = stop
    length = max(0, round((stop - mon.start) * PHONE_RATE / FRAME) * FRAME)
    rx_segs = [(s.start, await s.samples(stop)) for s in rx if s.start < stop]
    tx_segs = [(s.start, await s.samples(stop)) for s in tx if s.start < stop]
    try:
        mon.written = await asyncio.to_thread(_write_tracks, mon, length, rx_segs, tx_segs)
    except OSError as exc:
        log.error("simulator: MixMonitor cannot write %s: %s", mon.filename or mon.rx or mon.tx, exc)
    return mon.written


# -- a call's recordings ---------------------------------------------------------------------------------
def start(call: SimCall, filename: str, options: dict[str, str]) -> MixMonitor:
    """MixMonitor attaches: VarSet MIXMONITOR_FILENAME (main file only), then MixMonitorStart."""
    mon = MixMonitor(
        filename=filename,
        mix=monitor_path(call.sim.monitor_dir, filename) if filename else None,
        rx=monitor_path(call.sim.monitor_dir, options["r"]) if options.get("r") else None,
        tx=monitor_path(call.sim.monitor_dir, options["t"]) if options.get("t") else None,
        start=call.now(),
    )
    call.monitors.append(mon)
    if filename:
        call.varset(call.chan, "MIXMONITOR_FILENAME", filename)
    call.emit(call.chan.event("MixMonitorStart", "call,all"))
    return mon


def stop_all(call: SimCall) -> bool:
    """StopMixMonitor: the files are written (in the background), then MixMonitorStop."""
    running = [m for m in call.monitors if m.stop is None]
    if not running:
        return False
    stop = call.now()
    for mon in running:
        mon.stop = stop
        call._pending.append(asyncio.ensure_future(_write(call, mon, stop)))
    call.emit(call.chan.event("MixMonitorStop", "call,all"))
    return True


MUTE_SIDES = {"read": ("rx",), "write": ("tx",), "both": ("rx", "tx")}


def set_mute(call: SimCall, direction: str, on: bool) -> bool:
    """MixMonitorMute: from now on, record silence (on) or the audio again (off) in ``direction``
    (read: from the channel, the r() track; write: to it, the t() track) of every running
    MixMonitor, then the MixMonitorMute event; False when nothing records (Asterisk's error)."""
    running = [m for m in call.monitors if m.stop is None]
    if not running:
        return False
    at = call.now()
    for mon in running:
        for side in MUTE_SIDES[direction]:
            spans = mon.muted[side]
            open_span = bool(spans) and spans[-1][1] is None
            if on and not open_span:
                spans.append((at, None))
            elif not on and open_span:
                spans[-1] = (spans[-1][0], at)
    call.emit(call.chan.event("MixMonitorMute", "call,all", ("Direction", direction), ("State", "1" if on else "0")))
    return True


async def finish_all(call: SimCall) -> None:
    """At hangup: stop what still records and wait until every file of the call is written."""
    stop = call.now()
    for mon in call.monitors:
        if mon.stop is None:
            mon.stop = stop
            call._pending.append(asyncio.ensure_future(_write(call, mon, stop)))
    if call._pending:
        await asyncio.gather(*call._pending, return_exceptions=True)


async def _write(call: SimCall, mon: MixMonitor, stop: float) -> None:
    try:
        call.recordings.extend(await finish(mon, stop, call.rx, call.tx))
    except Exception:  # a recording that cannot be made must not take the call down
        log.exception("simulator: %s: MixMonitor %s not written", call.channel, mon.filename)
