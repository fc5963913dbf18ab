"""WAV checks and PCM reading for call recordings.

Asterisk's MixMonitor writes RIFF/WAVE files, normally 8 kHz 16-bit mono PCM. A crash,
a full disk or a copy cut short leaves files that are empty, truncated or not WAV at all;
every such file must give one clear `AudioError` line, never a traceback in the worker.

We parse the RIFF chunks ourselves instead of using the stdlib `wave` module because
`wave` accepts a data chunk shorter than its header claims (it just reads less) and
rejects A-law/mu-law and float files, which are valid recordings we can decode.
"""

from __future__ import annotations

import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PHONE_RATE = 8000

# WAVE format tags we can decode to PCM; anything else (GSM 6.10, ADPCM, MP3...) is refused.
_PCM, _FLOAT, _ALAW, _MULAW, _EXTENSIBLE = 0x0001, 0x0003, 0x0006, 0x0007, 0xFFFE
_FORMAT_NAMES = {
    0x0001: "PCM",
    0x0002: "MS ADPCM",
    0x0003: "IEEE float",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0055: "MP3",
}


class AudioError(ValueError):
    """A recording that cannot be used; str() is one line naming the file and the reason."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class WavInfo:
    path: str
    rate: int
    channels: int
    width: int  # bytes per sample
    frames: int
    format: str  # "PCM", "IEEE float", "A-law", "mu-law"
    data_offset: int  # byte offset of the first sample in the file

    @property
    def duration(self) -> float:
        return self.frames / self.rate

    @property
    def is_phone_format(self) -> bool:
        return (self.rate, self.channels, self.width, self.format) == (PHONE_RATE, 1, 2, "PCM")


def probe_wav(path: str | Path) -> WavInfo:
    """Read and check a WAV header; raises AudioError with a one-line reason."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise AudioError(p, "file not found") from None
    except OSError as exc:
        raise AudioError(p, f"cannot read: {exc.strerror or exc}") from None
    if p.is_dir():
        raise AudioError(p, "is a directory, not a WAV file")
    if size == 0:
        raise AudioError(p, "empty file (0 bytes)")
    try:
        with p.open("rb") as fh:
            return _parse(p, fh, size)
    except OSError as exc:
        raise AudioError(p, f"cannot read: {exc.strerror or exc}") from None


def _parse(p: Path, fh, size: int) -> WavInfo:  # type: ignore[no-untyped-def]
    head = fh.read(12)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        raise AudioError(p, "not a RIFF/WAVE file")
    fmt: tuple[int, int, int, int, int] | None = None  # tag, channels, rate, block_align, bits
    pos = 12
    while pos + 8 <= size:
        fh.seek(pos)
        chunk_id, chunk_size = struct.unpack("<4sI", fh.read(8))
        body = pos + 8
        if chunk_id == b"fmt ":
            raw = fh.read(min(chunk_size, 40))
            if len(raw) < 16:
                raise AudioError(p, "truncated fmt chunk")
            tag, channels, rate, _byte_rate, block_align, bits = struct.unpack("<HHIIHH", raw[:16])
            if tag == _EXTENSIBLE and len(raw) >= 26:
                tag = struct.unpack("<H", raw[24:26])[0]  # first two bytes of the SubFormat GUID
            fmt = (tag, channels, rate, block_align, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise AudioError(p, "data chunk before fmt chunk")
            available = size - body
            if chunk_size > available:
                raise AudioError(
                    p, f"truncated data chunk: header says {chunk_size} bytes, file has {available}"
                )
            return _info(p, fmt, chunk_size, body)
        pos = body + chunk_size + (chunk_size & 1)  # chunks are word aligned
    if fmt is None:
        raise AudioError(p, "no fmt chunk (not a usable WAV file)")
    raise AudioError(p, "no data chunk (recording cut short?)")


def _info(p: Path, fmt: tuple[int, int, int, int, int], data_size: int, offset: int) -> WavInfo:
    tag, channels, rate, block_align, bits = fmt
    name = _FORMAT_NAMES.get(tag, f"format tag 0x{tag:04x}")
    width = bits // 8
    supported = (
        (tag == _PCM and bits in (8, 16, 24, 32))
        or (tag == _FLOAT and bits in (32, 64))
        or (tag in (_ALAW, _MULAW) and bits == 8)
    )
    if not supported:
        raise AudioError(p, f"unsupported format: {name}, {bits}-bit; convert to 16-bit PCM WAV")
    if channels < 1 or rate < 1000 or rate > 192_000:
        raise AudioError(p, f"implausible header: {channels} channels at {rate} Hz")
    if block_align != channels * width:
        raise AudioError(p, f"implausible header: block align {block_align} for {channels}x{bits}-bit")
    return WavInfo(
        path=str(p),
        rate=rate,
        channels=channels,
        width=width,
        frames=data_size // block_align,  # a trailing partial frame is ignored
        format=name,
        data_offset=offset,
    )


def _mulaw_decode(codes: np.ndarray) -> np.ndarray:
    u = ~codes.astype(np.uint8)
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = ((mantissa.astype(np.int32) << 3) + 0x84) << exponent
    magnitude -= 0x84
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def _alaw_decode(codes: np.ndarray) -> np.ndarray:
    a = codes.astype(np.uint8) ^ 0x55
    sign = a & 0x80
    exponent = (a >> 4) & 0x07
    mantissa = (a & 0x0F).astype(np.int32)
    shift = np.maximum(exponent.astype(np.int32) - 1, 0)
    magnitude = np.where(exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << shift)
    return np.where(sign != 0, magnitude, -magnitude).astype(np.int16)


def read_pcm16(path: str | Path, *, mix: bool = True) -> np.ndarray:
    """Samples as int16: 1-D (frames,) mixed to mono by default, else (frames, channels)."""
    info = probe_wav(path)
    count = info.frames * info.channels
    with open(path, "rb") as fh:
        fh.seek(info.data_offset)
        raw = fh.read(count * info.width)
    if info.format == "PCM" and info.width == 2:
        pcm = np.frombuffer(raw, dtype="<i2").astype(np.int16)
    elif info.format == "PCM" and info.width == 1:  # 8-bit WAV is unsigned
        pcm = ((np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
    elif info.format == "PCM" and info.width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
        pcm = (b[:, 1].astype(np.int16) | (b[:, 2].astype(np.int8).astype(np.int16) << 8)).astype(np.int16)
    elif info.format == "PCM" and info.width == 4:
        pcm = (np.frombuffer(raw, dtype="<i4") >> 16).astype(np.int16)
    elif info.format == "IEEE float":
        f = np.frombuffer(raw, dtype="<f4" if info.width == 4 else "<f8")
        pcm = np.clip(np.nan_to_num(f) * 32767.0, -32768, 32767).astype(np.int16)
    elif info.format == "mu-law":
        pcm = _mulaw_decode(np.frombuffer(raw, dtype=np.uint8))
    else:  # A-law
        pcm = _alaw_decode(np.frombuffer(raw, dtype=np.uint8))
    frames = pcm.reshape(-1, info.channels)
    if not mix:
        return frames
    if info.channels == 1:
        return frames[:, 0].copy()
    return frames.astype(np.int32).mean(axis=1).astype(np.int16)


def write_wav(path: str | Path, pcm: np.ndarray, rate: int = PHONE_RATE) -> Path:
    """Write int16 samples ((frames,) or (frames, channels)) as a PCM WAV file."""
    data = np.asarray(pcm, dtype=np.int16)
    channels = 1 if data.ndim == 1 else data.shape[1]
    p = Path(path)
    with wave.open(str(p), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data.astype("<i2").tobytes())
    return p


def rms_dbfs(pcm: np.ndarray) -> float:
    """Level of a block of int16 samples in dB relative to full scale; -inf for digital zero."""
    if pcm.size == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(np.square(pcm.astype(np.float64)))))
    return 20.0 * np.log10(rms / 32768.0) if rms > 0 else float("-inf")


def active_seconds(pcm: np.ndarray, rate: int = PHONE_RATE, *, floor_dbfs: float = -50.0) -> float:
    """Seconds of 20 ms frames louder than floor_dbfs: a cheap 'is anyone on this track' check."""
    frame = max(1, rate // 50)
    n = pcm.size // frame
    if n == 0:
        return 0.0
    blocks = pcm[: n * frame].astype(np.float64).reshape(n, frame)
    rms = np.sqrt(np.mean(blocks * blocks, axis=1))
    return float(np.count_nonzero(rms > 32768.0 * 10 ** (floor_dbfs / 20))) * frame / rate
