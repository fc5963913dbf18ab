"""Mandarin text-to-speech for prompts, the Asterisk simulator and tests.

espeak-ng's own Mandarin voice reads Chinese characters badly, so the text is turned
into tone-numbered pinyin first (pypinyin, TONE3, neutral tone as 5) and read by the
`cmn-latn-pinyin` voice. DESIGN.md records what Whisper base understood best at 8 kHz:
`espeak-ng -s 120 -a 60 -g 2`, then sox to 8 kHz 16-bit mono normalised to -3 dBFS
(espeak's default amplitude clips after resampling). The output is a phone-format WAV.

The same (text, voice) pair is synthesized once per process (memory cache) and, when a
cache directory is given, once per directory (a WAV named by the key's hash).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import threading
from dataclasses import astuple, dataclass
from pathlib import Path

import numpy as np
from pypinyin import Style, lazy_pinyin

from recordings.audio import PHONE_RATE, read_pcm16, write_wav

_INSTALL_HINT = "run ./dev.sh setup (or: apt-get install espeak-ng sox)"


class SpeechError(RuntimeError):
    """Synthesis failed; str() is one line saying what to do."""


@dataclass(frozen=True)
class Voice:
    """espeak-ng and sox settings; the defaults are the ones DESIGN.md found best for Whisper."""

    name: str = "cmn-latn-pinyin"
    speed: int = 120  # words per minute (-s); slower than espeak's 175 helps Whisper base
    amplitude: int = 60  # -a; espeak's default 100 clips once resampled to 8 kHz
    word_gap: int = 2  # -g, in 10 ms units: a little air between syllables
    pitch: int = 50  # -p, 0..99; tests give caller and agent different pitches
    tone_sandhi: bool = True
    comma_pause_ms: int = 300  # ，、；： and ASCII , ; :
    stop_pause_ms: int = 600  # 。！？ and ASCII . ! ?
    rate: int = PHONE_RATE
    gain_db: float = -3.0  # sox `gain -n`: normalise the peak to this level


DEFAULT_VOICE = Voice()

_DIGITS = str.maketrans("0123456789", "零一二三四五六七八九")
# Chinese punctuation -> the ASCII marks espeak turns into pauses (comma short, stop long).
_PUNCT = str.maketrans({
    "，": ",", "、": ",", "；": ",", "：": ",", "…": ".", "。": ".", "！": ".", "？": ".",
    ";": ",", ":": ",", "!": ".", "?": ".",
})  # fmt: skip
_OTHER = re.compile(r"[^0-9a-z,. ]+")


def to_pinyin(text: str, *, tone_sandhi: bool = True) -> str:
    """'你好，请问' -> 'ni3 hao3, qing3 wen4'; digits are read one by one, as phone numbers are.

    Tone sandhi (不/一 and third-tone changes) is applied because speakers apply it."""
    pieces = lazy_pinyin(
        text.translate(_DIGITS), style=Style.TONE3, neutral_tone_with_five=True, tone_sandhi=tone_sandhi
    )
    out: list[str] = []
    for piece in pieces:
        piece = piece.translate(_PUNCT).lower()
        piece = _OTHER.sub(" ", piece)  # quotes, brackets, symbols: no sound
        out.append(piece.strip())
    joined = " ".join(p for p in out if p)
    joined = re.sub(r"\s+([,.])", r"\1", joined)
    return re.sub(r"\s+", " ", joined).strip()


def tools_missing() -> list[str]:
    return [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]


def _check_tools() -> None:
    missing = tools_missing()
    if missing:
        raise SpeechError(f"{' and '.join(missing)} not found: {_INSTALL_HINT}")


def _run(cmd: list[str], data: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(cmd, input=data, capture_output=True, check=False, timeout=120)
    except FileNotFoundError:
        raise SpeechError(f"{cmd[0]} not found: {_INSTALL_HINT}") from None
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SpeechError(f"{cmd[0]} failed ({done.returncode}): {err[-1] if err else 'no message'}")
    return done.stdout


_memory: dict[tuple[object, ...], np.ndarray] = {}
_lock = threading.Lock()


def _cache_key(text: str, voice: Voice) -> tuple[object, ...]:
    return (text, *astuple(voice))


def synthesize_pcm(
    text: str, voice: Voice = DEFAULT_VOICE, *, cache_dir: str | Path | None = None
) -> np.ndarray:
    """Speech for `text` as int16 samples at voice.rate (8 kHz mono by default)."""
    key = _cache_key(text, voice)
    with _lock:
        hit = _memory.get(key)
    if hit is not None:
        return hit.copy()
    cache_dir = cache_dir if cache_dir is not None else os.environ.get("HOTLINE_TTS_CACHE")
    cached: Path | None = None
    if cache_dir:
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:24]
        cached = Path(cache_dir) / f"tts-{digest}.wav"
        if cached.is_file():
            pcm = read_pcm16(cached)
            with _lock:
                _memory[key] = pcm
            return pcm.copy()
    pcm = _synthesize(text, voice)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        write_wav(tmp, pcm, voice.rate)
        os.replace(tmp, cached)
    with _lock:
        _memory[key] = pcm
    return pcm.copy()


def _synthesize(text: str, voice: Voice) -> np.ndarray:
    _check_tools()
    pinyin = to_pinyin(text, tone_sandhi=voice.tone_sandhi)
    if not pinyin.strip(" ,."):
        return silence(0.3, voice.rate)  # nothing speakable: a short pause, not an error
    # Pauses as SSML breaks: this voice reads "hao3." without any pause (the digit and
    # the dot look like a number to it), so punctuation alone is not enough.
    ssml = pinyin.replace(",", f'<break time="{voice.comma_pause_ms}ms"/>')
    ssml = ssml.replace(".", f'<break time="{voice.stop_pause_ms}ms"/>')
    wav = _run([
        "espeak-ng", "-m", "-v", voice.name, "-s", str(voice.speed), "-a", str(voice.amplitude),
        "-g", str(voice.word_gap), "-p", str(voice.pitch), "--stdout", f"<speak>{ssml}</speak>",
    ])  # fmt: skip
    # -D: no dither. sox dithers with fresh random noise on every run by default, and
    # Whisper's output on this audio changed with it (measured: 2 of 15 phrases flipped).
    raw = _run([
        "sox", "-D", "-t", "wav", "-", "-t", "raw", "-r", str(voice.rate), "-c", "1", "-b", "16",
        "-e", "signed-integer", "-L", "-", "gain", "-n", str(voice.gain_db),
    ], wav)  # fmt: skip
    return np.frombuffer(raw, dtype="<i2").astype(np.int16)


def synthesize(
    text: str, out_path: str | Path, voice: Voice = DEFAULT_VOICE, *, cache_dir: str | Path | None = None
) -> Path:
    """Write speech for `text` to out_path as a WAV file (8 kHz 16-bit mono by default)."""
    return write_wav(out_path, synthesize_pcm(text, voice, cache_dir=cache_dir), voice.rate)


def silence(seconds: float, rate: int = PHONE_RATE) -> np.ndarray:
    """Digital zero, as Asterisk writes on a track while its side is quiet."""
    if seconds < 0:
        raise ValueError(f"silence: negative length {seconds}")
    return np.zeros(round(seconds * rate), dtype=np.int16)
