"""WAV probing and reading: every bad file gives one AudioError line, good files decode."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from audio_factory import (
    mulaw_roundtrip,
    tone,
    write_corrupt,
    write_empty,
    write_header_only,
    write_silence,
    write_truncated,
)

from recordings.audio import AudioError, active_seconds, probe_wav, read_pcm16, rms_dbfs, write_wav


def test_phone_format_probe(tmp_path: Path) -> None:
    p = write_wav(tmp_path / "a.wav", tone(1.5))
    info = probe_wav(p)
    assert (info.rate, info.channels, info.width, info.frames) == (8000, 1, 2, 12000)
    assert info.duration == pytest.approx(1.5)
    assert info.is_phone_format


def test_read_round_trips_samples(tmp_path: Path) -> None:
    pcm = tone(0.5)
    assert np.array_equal(read_pcm16(write_wav(tmp_path / "a.wav", pcm)), pcm)


def test_other_rates_and_stereo_are_accepted(tmp_path: Path) -> None:
    left, right = tone(1.0, rate=16000), np.zeros(16000, np.int16)
    p = write_wav(tmp_path / "s.wav", np.stack([left, right], axis=1), rate=16000)
    info = probe_wav(p)
    assert (info.rate, info.channels, info.frames) == (16000, 2, 16000)
    assert not info.is_phone_format
    assert read_pcm16(p, mix=False).shape == (16000, 2)
    mixed = read_pcm16(p)
    assert mixed.shape == (16000,)
    assert np.allclose(mixed, left.astype(np.int32) // 2, atol=1)


def test_mulaw_wav_decodes_like_g711(tmp_path: Path) -> None:
    pcm = tone(0.25)
    # Encode with the factory's G.711 encoder by decoding its round trip back to codes.
    codes = _mulaw_codes(pcm)
    p = write_header_only(tmp_path / "u.wav", fmt_tag=7, bits=8, data=codes.tobytes())
    assert probe_wav(p).format == "mu-law"
    assert np.array_equal(read_pcm16(p), mulaw_roundtrip(pcm))


def _mulaw_codes(pcm: np.ndarray) -> np.ndarray:
    x = pcm.astype(np.int32)
    sign = np.where(x < 0, 0x80, 0)
    mag = np.minimum(np.abs(x), 32635) + 0x84
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)


def test_8bit_unsigned_pcm(tmp_path: Path) -> None:
    p = tmp_path / "u8.wav"
    with wave.open(str(p), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(bytes([128, 255, 0]))
    assert list(read_pcm16(p)) == [0, 127 << 8, -128 << 8]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: d / "nope.wav", "file not found"),
        (lambda d: write_empty(d / "e.wav"), "empty file (0 bytes)"),
        (lambda d: write_corrupt(d / "c.wav"), "not a RIFF/WAVE file"),
        (lambda d: _text_file(d / "t.wav"), "not a RIFF/WAVE file"),
        (lambda d: write_truncated(d / "tr.wav"), "truncated data chunk"),
        (lambda d: write_header_only(d / "g.wav", fmt_tag=0x31, bits=0), "unsupported format: GSM 6.10"),
        (lambda d: write_header_only(d / "m.wav", fmt_tag=0x55, bits=0), "unsupported format: MP3"),
        (lambda d: _cut(write_silence(d / "h.wav", 1.0), 36), "no data chunk"),
        (lambda d: _cut(write_silence(d / "f.wav", 1.0), 30), "truncated fmt chunk"),
        (lambda d: d, "is a directory"),
    ],
)
def test_bad_files_give_one_line_reason(tmp_path: Path, make, reason: str) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    with pytest.raises(AudioError) as err:
        probe_wav(path)
    message = str(err.value)
    assert reason in message
    assert str(path) in message
    assert "\n" not in message
    with pytest.raises(AudioError):
        read_pcm16(path)


def test_truncated_reason_says_how_much(tmp_path: Path) -> None:
    p = write_truncated(tmp_path / "t.wav", seconds=2.0, keep=0.5)
    with pytest.raises(AudioError, match=r"header says 32000 bytes, file has 159\d\d"):
        probe_wav(p)


def test_header_with_no_samples_probes_as_zero_frames(tmp_path: Path) -> None:
    assert probe_wav(write_header_only(tmp_path / "z.wav")).frames == 0


def test_energy_helpers() -> None:
    assert rms_dbfs(np.zeros(800, np.int16)) == float("-inf")
    assert rms_dbfs(tone(1.0, level_dbfs=-12.0)) == pytest.approx(-12.0, abs=0.2)
    track = np.concatenate([np.zeros(8000, np.int16), tone(2.0), np.zeros(8000, np.int16)])
    assert active_seconds(track) == pytest.approx(2.0, abs=0.05)


def _text_file(p: Path) -> Path:
    p.write_text("this is not audio\n")
    return p


def _cut(p: Path, n: int) -> Path:
    p.write_bytes(p.read_bytes()[:n])
    return p
