"""Checks on what a real call left: the three MixMonitor files and who is heard on which.

MixMonitor (real Asterisk 20, traces' mixmonitor-tracks) writes ``<id>.wav`` (mix),
``<id>-rx.wav`` (r(): the caller) and ``<id>-tx.wav`` (t(): what the caller hears:
prompts, ringback, the agent), all from the moment it attaches to the hangup, aligned
sample for sample, and mix = rx + tx.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from pbx_media import find

from recordings.audio import PHONE_RATE, read_pcm16

# Where a sound should start is known from wall-clock times (the caller's script, Hotline's
# event times), but a recording holds the frames Asterisk handled, not wall time: on a
# busy machine a starved Asterisk plays a prompt slower than real time, MixMonitor drops
# frames to keep the directions aligned, and the recording falls seconds behind the clock
# (seen: 4 s by 45 s into a call). It does not run ahead but by a frame or two. So a sound
# is looked for between the previous one and SLACK_S after where the clock puts it.
SLACK_S = 2.5


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


@dataclass
class Tracks:
    mix: np.ndarray
    caller: np.ndarray  # -rx
    agent: np.ndarray  # -tx
    started: datetime  # recording_started_at

    @property
    def seconds(self) -> float:
        return self.caller.size / PHONE_RATE

    def offset(self, at: str) -> float:
        """Seconds into the recording of a timestamp from the call record."""
        return (when(at) - self.started).total_seconds()

    def track(self, side: str) -> np.ndarray:
        return {"caller": self.caller, "agent": self.agent, "mix": self.mix}[side]

    def heard(self, ref: np.ndarray, side: str, what: str, after: float = 0.0, by: float | None = None) -> float:
        """Assert ``ref`` starts on ``side`` between ``after`` and ``by`` seconds, and is nowhere on
        the other track (a leak, an echo or swapped tracks would put it there); return its start."""
        end = self.seconds if by is None else by
        m = find(self.track(side), ref, after, end)
        assert m.present, (f"{what} not on the {side} track between {after:.2f}s and {end:.2f}s "
                           f"(best: {m.found} of {m.voiced} frames from {m.at_s:.2f}s; recording {self.seconds:.1f}s)")
        other = "agent" if side == "caller" else "caller"
        self.absent(ref, other, what)
        return m.at_s

    def sequence(self, side: str, sounds: list[tuple[str, np.ndarray, float]]) -> list[float]:
        """Assert each (what, samples, clock time) is heard on ``side`` in this order, each
        after the one before (so a sound played twice is found twice), none later than
        SLACK_S after its clock time; return the starts."""
        starts: list[float] = []
        for what, ref, at in sounds:
            after = starts[-1] + 0.3 if starts else 0.0
            starts.append(self.heard(ref, side, what, after, max(at + SLACK_S, after + 0.5)))
        return starts

    def absent(self, ref: np.ndarray, side: str, what: str) -> None:
        m = find(self.track(side), ref, 0.0, self.seconds)
        assert m.absent, f"{what} found on the {side} track at {m.at_s:.2f}s ({m.found}/{m.voiced} pieces)"


def recordings(detail: dict[str, Any]) -> Tracks:
    """Assert the call has its three ready, valid, aligned recordings; return their samples."""
    recs = {r["kind"]: r for r in detail["recordings"]}
    assert sorted(recs) == ["agent", "caller", "mix"], f"recordings: {detail['recordings']}"
    samples = {}
    for kind, r in recs.items():
        assert r["status"] == "ready", f"{kind} recording is {r['status']}: {r['path']}"
        path = Path(r["path"])
        with wave.open(str(path)) as w:  # the standard library's reader: an independent check of the header
            fmt = (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getcomptype())
            frames = w.getnframes()
        assert fmt == (1, 2, PHONE_RATE, "NONE"), f"{path}: {fmt}, not 8 kHz 16-bit mono PCM"
        assert abs(frames / PHONE_RATE - r["duration_s"]) < 0.05, f"{path}: {frames} frames vs {r['duration_s']}s"
        samples[kind] = read_pcm16(path)
    sizes = {k: v.size for k, v in samples.items()}
    assert len(set(sizes.values())) == 1, f"tracks not aligned: {sizes}"
    mixed = np.clip(samples["caller"].astype(np.int32) + samples["agent"], -32768, 32767)
    assert np.array_equal(mixed, samples["mix"]), "the mix is not caller + agent"
    t = Tracks(samples["mix"], samples["caller"], samples["agent"], when(detail["recording_started_at"]))
    lasted = (when(detail["ended_at"]) - t.started).total_seconds()
    # As long as the call, from MixMonitor's start to the hangup; never longer, and shorter
    # only by what a starved Asterisk drops (see SLACK_S; seen: 6.4 s of 50.9 s on a machine
    # running other test suites). The content checks find what a late start or an early
    # stop would lose.
    assert lasted * 0.75 - 1.0 <= t.seconds <= lasted + 0.5, f"recordings last {t.seconds:.1f}s, the call {lasted:.1f}s"
    return t


def prompt(sounds: Path, name: str, seconds: float | None = None) -> np.ndarray:
    """A rendered prompt's samples (the first ``seconds`` of it)."""
    pcm = read_pcm16(sounds / f"{name}.wav")
    return pcm if seconds is None else pcm[: int(seconds * PHONE_RATE)]


def event(detail: dict[str, Any], kind: str) -> dict[str, Any]:
    found = [e for e in detail["events"] if e["kind"] == kind]
    assert found, f"no '{kind}' event; events: {[e['kind'] for e in detail['events']]}"
    return found[0]


def steps(detail: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The menu steps as (menu, digit, outcome, action, target, typeahead)."""
    return [(s["menu"], s["digit"], s["outcome"], s["action"], s["target"], s["typeahead"]) for s in detail["steps"]]
