"""Audio for the real-PBX tests: speech to send, pcaps for SIPp, and checks on MixMonitor files.

Speech is espeak-ng through ``recordings.speech`` (DESIGN.md's settings), encoded to raw
μ-law with sox, and packed with the lab's own ``mkpcap.py`` into a pcap of 20 ms PCMU
packets with RFC 2833 digits, which SIPp replays with ``play_pcap_audio``.

The checks find a known stretch of speech in a recorded track by normalised
cross-correlation: Asterisk passes the caller's (and the agent's) μ-law samples through
unchanged to MixMonitor, so the right track matches the sent speech almost exactly,
while the other track does not match it at all.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recordings.audio import PHONE_RATE
from recordings.speech import synthesize_pcm


@dataclass(frozen=True)
class Speech:
    """A phrase as raw μ-law (what goes into the pcap) and as int16 (what to look for)."""

    text: str
    ulaw: Path
    pcm: np.ndarray

    @property
    def seconds(self) -> float:
        return self.pcm.size / PHONE_RATE


def make_speech(text: str, folder: Path, name: str) -> Speech:
    """Synthesize ``text`` and encode it to raw 8 kHz μ-law (sox) as ``folder/name.ulaw``."""
    folder.mkdir(parents=True, exist_ok=True)
    pcm = synthesize_pcm(text)
    ulaw = folder / f"{name}.ulaw"
    subprocess.run(
        ["sox", "-D", "-t", "raw", "-r", str(PHONE_RATE), "-e", "signed-integer", "-b", "16", "-c", "1", "-L", "-",
         "-t", "raw", "-e", "mu-law", "-r", str(PHONE_RATE), "-c", "1", str(ulaw)],
        input=pcm.astype("<i2").tobytes(), check=True, capture_output=True,
    )  # fmt: skip
    return Speech(text, ulaw, pcm)


def make_pcap(
    mkpcap: Path,
    out: Path,
    seconds: float,
    dtmf: tuple[tuple[str, float], ...] = (),
    speech: tuple[tuple[Speech, float], ...] = (),
) -> Path:
    """A caller/agent media pcap: ``seconds`` long, digits and speech at seconds from the answer."""
    args = [f"dtmf:{digit}@{at:.2f}" for digit, at in dtmf]
    args += [f"speech:{s.ulaw}@{at:.2f}" for s, at in speech]
    subprocess.run([sys.executable, str(mkpcap), str(out), f"{seconds:.2f}", *args],
                   check=True, capture_output=True)
    return out


# ----- finding speech in a track -------------------------------------------------------
#
# Asterisk hands the sent μ-law samples to MixMonitor unchanged, so the speech or prompt
# sent is in the right track sample for sample. But not in one piece: when the two
# directions of a channel drift apart (more so on a busy machine, or when RTP comes in
# bursts: the lab has no jitter buffer) MixMonitor inserts or drops frames to keep them
# aligned, a few times a second at worst. So the match is made frame by frame: anchor the
# reference with a 0.5 s piece, then follow it one 20 ms frame at a time, each allowed to
# move a little from where the previous one was found.

ANCHOR_S = 0.5  # a piece this long, found almost exactly, says where the reference starts
FRAME = 160  # 20 ms at 8 kHz: what MixMonitor inserts or drops
FOLLOW_S = 0.04  # how far a frame may move from where the previous one put it (two slips)
REANCHOR_S = 0.2  # after three frames missed, a piece this long is looked for up to 0.5 s away


@dataclass(frozen=True)
class Match:
    found: int  # voiced 20 ms frames of the reference found in place, each almost sample-exact
    voiced: int  # voiced frames in the reference
    at_s: float  # where in the track the reference starts

    @property
    def present(self) -> bool:
        """Most of it. A slip costs a frame or a few; RTP that arrives in bursts (a sender
        catching up on a busy machine) costs more: seen, 85 of 101 frames of an agent's words
        and 127 of 199 of a prompt, where a sound that is not there scores 0 (no anchor)."""
        return self.found >= 10 and 10 * self.found >= 6 * self.voiced

    @property
    def absent(self) -> bool:
        """Next to nothing: no anchor, or an anchor the frames after it do not follow."""
        return 5 * self.found <= self.voiced


def _best(track: np.ndarray, ref: np.ndarray, lo: int, hi: int) -> tuple[float, int]:
    """Best normalised cross-correlation of ``ref`` starting at a sample in [lo, hi]: (score, sample)."""
    lo, hi = max(0, lo), min(track.size - ref.size, hi)
    if hi < lo:
        return 0.0, lo
    seg = track[lo: hi + ref.size].astype(np.float64)
    r = ref.astype(np.float64)
    if r.size <= FRAME:
        corr = np.correlate(seg, r, "valid")
    else:
        size = 1 << (seg.size + r.size - 1).bit_length()
        corr = np.fft.irfft(np.fft.rfft(seg, size) * np.conj(np.fft.rfft(r, size)), size)[: hi - lo + 1]
    energy = np.concatenate(([0.0], np.cumsum(seg * seg)))
    window = energy[r.size: r.size + hi - lo + 1] - energy[: hi - lo + 1]
    denom = np.sqrt(np.maximum(window, 1e-9) * float(np.dot(r, r)))
    scores = np.where(window > 1e3 * r.size, corr / denom, 0.0)  # a near-silent window matches nothing
    best = int(np.argmax(scores))
    return float(scores[best]), lo + best


def _voiced(pcm: np.ndarray) -> bool:
    return float(np.mean(pcm.astype(np.float64) ** 2)) > 1e4  # above about -50 dBFS


def find(track: np.ndarray, ref: np.ndarray, start_s: float, end_s: float) -> Match:
    """Where ``ref`` starts in [start_s, end_s] of ``track``, and how much of it is there."""
    frames = [k for k in range(0, ref.size - FRAME + 1, FRAME) if _voiced(ref[k: k + FRAME])]
    n = int(ANCHOR_S * PHONE_RATE)
    lo, hi = int(start_s * PHONE_RATE), int(end_s * PHONE_RATE)
    best = Match(0, len(frames), start_s)
    anchors = [k for k in range(0, ref.size - n + 1, n) if _voiced(ref[k: k + n])][:4]
    for a in anchors:  # the first pieces in turn, in case a slip spoiled one
        score, at = _best(track, ref[a: a + n], lo + a, hi + a)
        if score < 0.97:
            continue
        found = _follow(track, ref, frames, at - a)
        if found > best.found:
            best = Match(found, len(frames), (at - a) / PHONE_RATE)
        if best.present:
            break
    return best


def _follow(track: np.ndarray, ref: np.ndarray, frames: list[int], shift: int) -> int:
    """How many of ``frames`` (reference sample offsets) are in ``track`` one after the other,
    starting at track sample = reference sample + ``shift``."""
    near, block = int(FOLLOW_S * PHONE_RATE), int(REANCHOR_S * PHONE_RATE)
    found = misses = 0
    for k in frames:
        if misses >= 3 and k + block <= ref.size:  # lost it (a longer gap): look wider, on a longer piece
            score, pos = _best(track, ref[k: k + block], shift + k - PHONE_RATE // 2, shift + k + PHONE_RATE // 2)
            if score > 0.97:
                shift, misses = pos - k, 0
        score, pos = _best(track, ref[k: k + FRAME], shift + k - near, shift + k + near)
        if score > 0.95:
            found, misses, shift = found + 1, 0, pos - k
        else:
            misses += 1
    return found
