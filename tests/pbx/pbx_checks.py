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

    def heard(self, ref: np.ndarray, side: str, at: float, slack: float = 0.7, what: str = "speech") -> float:
        """Assert ``ref`` starts on ``side`` within ``slack`` s of ``at`` and nowhere on the other
        track; return where it starts."""
        m = find(self.track(side), ref, at - slack, at + slack)
        assert m.present, (f"{what} not on the {side} track near {at:.2f}s (best: {m.found} of {m.voiced} "
                           f"pieces at {m.at_s:.2f}s, recording {self.seconds:.1f}s)")
        other = "agent" if side == "caller" else "caller"
        wrong = find(self.track(other), ref, 0.0, self.seconds)
        assert wrong.absent, f"{what} also on the {other} track at {wrong.at_s:.2f}s ({wrong.found}/{wrong.voiced})"
        return m.at_s

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
    assert abs(t.seconds - lasted) < 1.5, f"recordings last {t.seconds:.1f}s, the call {lasted:.1f}s"
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
