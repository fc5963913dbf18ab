"""Fuzzing what the service reads from disk: the WAV reader on mutated recordings and the
config loader on mutated YAML. A bad file is one AudioError / ConfigError line naming it,
never another exception."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
from fuzzing import EXAMPLES, FUZZ, TAPE, Clock, Tape, one_line
from hypothesis import given

from recordings.audio import AudioError, probe_wav, read_pcm16
from settings import ConfigError, load_config


def _wav(channels: int, width: int, frames: int, fmt: int | None = None) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(8000)
        w.writeframes(np.arange(frames * channels * width, dtype=np.uint8).tobytes())
    data = bytearray(buf.getvalue())
    if fmt is not None:  # mu-law (7) / A-law (6) / float (3): the format code at byte 20
        data[20] = fmt
    return bytes(data)


SEEDS = [_wav(1, 2, 40), _wav(2, 2, 20), _wav(1, 1, 30), _wav(1, 3, 10), _wav(1, 4, 10), _wav(1, 1, 30, fmt=7),
         _wav(1, 1, 30, fmt=6), _wav(1, 4, 10, fmt=3), b"RIFF\x00\x00\x00\x00WAVE", b""]


def test_fuzz_wav_reader(tmp_path: Path) -> None:
    seen = 0
    path = tmp_path / "rec.wav"

    @FUZZ
    @given(TAPE)
    def one(data: bytes) -> None:
        nonlocal seen
        seen += 1
        tape = Tape(data)
        path.write_bytes(tape.mutate(tape.pick(SEEDS)))
        try:
            info = probe_wav(path)
        except AudioError as exc:
            one_line(exc)
            assert str(path) in str(exc)
            return
        try:
            pcm = read_pcm16(path, mix=tape.byte() % 2 == 0)
        except AudioError as exc:
            one_line(exc)
            return
        assert pcm.dtype == np.int16 and len(pcm) <= info.frames

    with Clock() as clock:
        one()
    clock.report("WAV reader", seen)
    assert seen >= EXAMPLES


# Short documents: ruamel's pure-Python parser costs ~1 ms per line here, and what is
# fuzzed is the path from text to one error line, which short texts exercise fully.
YAMLS = [
    b"company: X\nopening_line: hi\nmenus:\n  main:\n    prompt: p\n    options: {'1': {action: hangup}}\n",
    b"ami: {port: 5038, host: 127.0.0.1}\ndatabase: {url: 'sqlite:///x.db'}\n",
    b"queues:\n  support: {name: support, timeout: 20}\nextensions: {op: {dial: SIP/a1}}\n",
    b"asr: {beam_size: 1, language: zh}\nrecording: {retention_days: 180}\n",
    b"- a\n- b: [1, 2\n",
    b"menus: &m {main: *m}\n",
    b"\xef\xbb\xbfcompany: \"\\u00e9\"\n",
]


def test_fuzz_config_loader(tmp_path: Path) -> None:
    seen = 0
    path = tmp_path / "config.yaml"

    @FUZZ
    @given(TAPE)
    def one(data: bytes) -> None:
        nonlocal seen
        seen += 1
        tape = Tape(data)
        path.write_bytes(tape.mutate(tape.pick(YAMLS)))
        try:
            load_config(path)
        except ConfigError as exc:
            one_line(exc)
            assert str(exc).startswith(str(path))

    with Clock() as clock:
        one()
    clock.report("config loader", seen)
    assert seen >= EXAMPLES
