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

CHUNK_S = 0.5  # the reference is matched piecewise: MixMonitor may drop or repeat a 20 ms frame
DRIFT_S = 0.15  # how far the pieces may wander from their common offset


@dataclass(frozen=True)
class Match:
    found: int  # voiced 0.5 s pieces of the reference found in place, each almost sample-exact
    voiced: int  # voiced pieces in the reference
    at_s: float  # where in the track the reference starts

    @property
    def present(self) -> bool:
        """All pieces but about one in ten (a slipped frame spoils the piece it falls in)."""
        return self.found >= 2 and self.found >= self.voiced - max(1, self.voiced // 10)

    @property
    def absent(self) -> bool:
        return self.found <= self.voiced // 2


def _best(track: np.ndarray, ref: np.ndarray, start_s: float, end_s: float) -> tuple[float, int]:
    """Best normalised cross-correlation of ``ref`` starting in [start_s, end_s]: (score, sample)."""
    lo = max(0, int(start_s * PHONE_RATE))
    hi = min(track.size - ref.size, int(end_s * PHONE_RATE))
    if hi < lo:
        return 0.0, lo
    seg = track[lo: hi + ref.size].astype(np.float64)
    r = ref.astype(np.float64)
    size = 1 << (seg.size + r.size - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(seg, size) * np.conj(np.fft.rfft(r, size)), size)[: hi - lo + 1]
    energy = np.concatenate(([0.0], np.cumsum(seg * seg)))
    window = energy[r.size: r.size + hi - lo + 1] - energy[: hi - lo + 1]
    denom = np.sqrt(np.maximum(window, 1e-9) * float(np.dot(r, r)))
    scores = np.where(window > 1e3 * r.size, corr / denom, 0.0)  # a near-silent window matches nothing
    best = int(np.argmax(scores))
    return float(scores[best]), lo + best


def find(track: np.ndarray, ref: np.ndarray, start_s: float, end_s: float) -> Match:
    """Where ``ref`` starts in [start_s, end_s] of ``track``, matched in 0.5 s pieces.

    Each voiced piece is looked for on its own around where it should be; a piece counts
    as found with a correlation above 0.97, within DRIFT_S of the pieces' median offset.
    Sent and recorded samples are the same (up to μ-law rounding), so a real match scores
    near 1 even when MixMonitor slipped a frame or two; another sound scores near 0 (a
    steady vowel can pass for a tone now and then, hence the high bar per piece)."""
    n = int(CHUNK_S * PHONE_RATE)
    found: list[tuple[float, float]] = []  # (score, offset of the reference's start)
    voiced = 0
    for k in range(0, max(1, ref.size - n // 2), n):
        piece = ref[k: k + n]
        if piece.size < n // 2 or float(np.mean(piece.astype(np.float64) ** 2)) < 1e4:
            continue  # a pause in the speech: nothing to find
        voiced += 1
        score, at = _best(track, piece, start_s + k / PHONE_RATE - DRIFT_S, end_s + k / PHONE_RATE + DRIFT_S)
        found.append((score, (at - k) / PHONE_RATE))
    good = [at for score, at in found if score > 0.97]
    if not good:
        return Match(0, voiced, start_s)
    middle = float(np.median(good))
    return Match(sum(abs(at - middle) <= DRIFT_S for at in good), voiced, middle)
