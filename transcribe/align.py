"""Pin the IVR's timeline to the agent track by finding the prompts' own audio in it.

The timeline's times are the service's clock (when a command was sent, when an event
came) measured from ``Call.recording_started_at``. The track's times are MixMonitor's
frames. On a real Asterisk 20 the two drift apart: on a loaded machine the files came
out 1-2.4 s shorter than the call (tests/pbx/test_pbx_timeline.py), so a prompt sent at
11.0 s by our clock was in the file at 10.0 s, and an agent stretch taken as is would
skip the agent's first second (the opening line). The prompts are known audio (the
rendered files Asterisk plays), so each one is looked for near where the timeline puts
it and moved there; the agent's stretch moves with the next anchor (see :func:`align`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from ivr.timeline import Stretch, Timeline
from recordings.audio import PHONE_RATE, AudioError, read_pcm16

REF_S = 1.0  # how much of a prompt's start is looked for (an interrupted menu plays little more)
SEARCH_S = 4.0  # how far from the timeline's time to look, each way
MIN_SCORE = 0.6  # normalised correlation: the same samples through G.711 score ~0.95+, speech or music ~0.2
MAX_LOSS_S = 15.0  # a larger loss before an anchor is taken for a wrong anchor (a late call end), not believed


def locate(track: np.ndarray, ref: np.ndarray, lo_s: float, hi_s: float, rate: int = PHONE_RATE) -> float | None:
    """Where ``ref`` starts in ``track`` between ``lo_s`` and ``hi_s`` (seconds), or None if it is not there."""
    x = track.astype(np.float64)
    r = ref.astype(np.float64)
    r = r - r.mean()
    rn = float(np.sqrt((r * r).sum()))
    lo, hi = max(0, int(lo_s * rate)), min(x.size - r.size, int(hi_s * rate))
    if rn == 0.0 or hi <= lo:
        return None
    win = x[lo: hi + r.size]
    n = 1 << int(np.ceil(np.log2(win.size + r.size)))
    corr = np.fft.irfft(np.fft.rfft(win, n) * np.conj(np.fft.rfft(r, n)), n)[: hi - lo + 1]
    sq = np.concatenate(([0.0], np.cumsum(win * win)))
    sums = np.concatenate(([0.0], np.cumsum(win)))
    energy = sq[r.size:r.size + corr.size] - sq[:corr.size]
    mean = (sums[r.size:r.size + corr.size] - sums[:corr.size]) / r.size
    denom = np.sqrt(np.maximum(energy - r.size * mean * mean, 1e-9)) * rn
    score = corr / denom
    best = int(np.argmax(score))
    return (lo + best) / rate if score[best] >= MIN_SCORE else None


def align(timeline: Timeline, track: np.ndarray, prompts: Mapping[str, np.ndarray]) -> tuple[Timeline, list[float]]:
    """The timeline moved onto the track (8 kHz samples); also each shift measured at a prompt, in seconds.

    A prompt found in the track moves itself and is the anchor for what follows. The file
    loses time where nothing is written to the caller (a queue with no music files, the
    pause between two commands), so the agent's stretch takes the shift of the NEXT anchor:
    the next prompt found (the goodbye after an agent hung up) or the end of the file (the
    hangup); the wait before it (ringback) absorbs the loss. The file never gains time: a
    later anchor that says so is not believed. Taking the agent's start too early only
    decodes a moment of ringback; too late would lose the opening line."""
    stretches = timeline.stretches
    found: dict[int, float] = {}
    shift = 0.0
    for i, s in enumerate(stretches):
        ref = prompts.get(s.name or "") if s.kind == "ivr" else None
        if ref is not None and ref.size:
            guess = s.start + shift
            at = locate(track, ref[: int(REF_S * PHONE_RATE)], guess - SEARCH_S, guess + SEARCH_S)
            if at is not None:
                shift = found[i] = at - s.start
    end_shift = track.size / PHONE_RATE - timeline.end if timeline.end is not None else None
    out: list[Stretch] = []
    prev = 0.0
    for i, s in enumerate(stretches):
        if i in found or s.kind == "ivr":
            prev = found.get(i, prev)
            out.append(replace(s, start=max(0.0, s.start + prev), end=max(0.0, s.end + prev)))
            continue
        nxt = next((found[j] for j in range(i + 1, len(stretches)) if j in found), end_shift)
        if nxt is None or nxt > prev or nxt < prev - MAX_LOSS_S:
            nxt = prev
        first = prev if s.kind == "ringback" else nxt
        start = max(0.0, s.start + first)
        out.append(replace(s, start=start, end=max(start, s.end + nxt)))
    return Timeline(tuple(out), timeline.end), [round(found[i], 3) for i in sorted(found)]


def align_to_file(timeline: Timeline, agent_wav: str | Path, prompt_dir: Path) -> Timeline:
    """:func:`align` with the agent track and the rendered prompts read from disk; the timeline
    as it was if the track cannot be read (the engine reports a bad file itself)."""
    try:
        track = read_pcm16(agent_wav)
    except (AudioError, OSError):
        return timeline
    prompts: dict[str, np.ndarray] = {}
    for s in timeline.of("ivr"):
        name = s.name or ""
        if name and name not in prompts:
            try:
                prompts[name] = read_pcm16(prompt_dir / f"{name}.wav")
            except (AudioError, OSError):
                continue  # not rendered here: that stretch keeps the shift before it
    return align(timeline, track, prompts)[0]
