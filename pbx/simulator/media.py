"""Audio the simulator plays and records: prompt files, synthesized speech, ringback.

Prompt lookup (Asterisk plays ``<sounds>/<name>.<format>``; we only have WAV):
``STREAM FILE custom/greeting`` tries ``sounds_dir/custom/greeting.wav`` first, then
``sounds_dir/greeting.wav`` (the first path component dropped, so a flat directory of
prompts works), then the basename. An absolute name is tried as given (plus ``.wav``)
before the same fallbacks. A trailing ``.wav`` in the name is ignored. Only 8 kHz
16-bit WAV plays, as with Asterisk's ``wav`` format; anything else counts as missing
(one log line), which makes STREAM FILE fail the way Asterisk does.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path, PurePosixPath

import numpy as np

from recordings.audio import PHONE_RATE, AudioError, probe_wav, read_pcm16
from recordings.speech import SpeechError, Voice, synthesize_pcm

log = logging.getLogger("pbx.simulator")

CALLER_VOICE = Voice(pitch=58)
AGENT_VOICE = Voice(pitch=45)

# US ringback as Asterisk's indications.conf plays it: 440+480 Hz, 2 s on, 4 s off. The
# level matches the real recording (about 7200 RMS per tone, peaks near 14400).
RINGBACK_ON, RINGBACK_PERIOD, RINGBACK_AMPLITUDE = 2.0, 6.0, 7200.0


class Prompts:
    """Prompt WAVs from ``sounds_dir``, cached (re-read when the file changes)."""

    def __init__(self, sounds_dir: Path) -> None:
        self.sounds_dir = Path(sounds_dir)
        self._cache: dict[Path, tuple[float, np.ndarray | None]] = {}

    def candidates(self, name: str) -> list[Path]:
        if name.lower().endswith(".wav"):
            name = name[:-4]
        pure = PurePosixPath(name)
        out: list[Path] = []
        if pure.is_absolute():
            out.append(Path(f"{pure}.wav"))
            rel = PurePosixPath(*pure.parts[1:]) if len(pure.parts) > 1 else pure
        else:
            rel = pure
        if ".." not in rel.parts:
            out.append(self.sounds_dir / f"{rel}.wav")
            if len(rel.parts) > 1:
                out.append(self.sounds_dir / f"{PurePosixPath(*rel.parts[1:])}.wav")
            out.append(self.sounds_dir / f"{rel.name}.wav")
        return list(dict.fromkeys(out))

    def load(self, name: str) -> np.ndarray | None:
        """The prompt's samples (8 kHz int16), or None when Asterisk could not open it."""
        for path in self.candidates(name):
            try:
                mtime = path.stat().st_mtime
            except OSError:
                continue
            hit = self._cache.get(path)
            if hit is not None and hit[0] == mtime:
                return hit[1]
            pcm: np.ndarray | None
            try:
                info = probe_wav(path)
                if info.rate != PHONE_RATE:
                    raise AudioError(path, f"{info.rate} Hz; Asterisk's wav format plays 8000 Hz only")
                pcm = read_pcm16(path)
            except AudioError as exc:
                log.error("simulator: prompt %r unusable: %s", name, exc)
                pcm = None
            self._cache[path] = (mtime, pcm)
            return pcm
        return None


class SpeechBank:
    """Each distinct (text, voice) is synthesized once, in a worker thread, shared by all calls."""

    def __init__(self) -> None:
        self._jobs: dict[tuple[str, Voice], asyncio.Future[np.ndarray]] = {}

    def request(self, text: str, voice: Voice) -> asyncio.Future[np.ndarray]:
        key = (text, voice)
        job = self._jobs.get(key)
        if job is None:
            job = asyncio.ensure_future(self._synthesize(text, voice))
            self._jobs[key] = job
        return job

    async def pcm(self, text: str, voice: Voice) -> np.ndarray:
        return await asyncio.shield(self.request(text, voice))

    async def _synthesize(self, text: str, voice: Voice) -> np.ndarray:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, synthesize_pcm, text, voice)
        except (SpeechError, OSError, ValueError) as exc:
            # A call must not die because espeak-ng is missing: the line becomes silence.
            log.error("simulator: cannot synthesize %r: %s (recording it as silence)", text[:40], exc)
            return np.zeros(int(0.25 * PHONE_RATE * max(1, len(text))), dtype=np.int16)


def ringback(samples: int, phase_samples: int = 0) -> np.ndarray:
    """Ringback tone for ``samples`` samples, starting ``phase_samples`` into its cadence."""
    t = (np.arange(samples, dtype=np.float64) + phase_samples) / PHONE_RATE
    on = (t % RINGBACK_PERIOD) < RINGBACK_ON
    wave = RINGBACK_AMPLITUDE * (np.sin(2 * np.pi * 440.0 * t) + np.sin(2 * np.pi * 480.0 * t))
    return np.where(on, wave, 0.0).astype(np.int16)
