"""Redacted copies of a call's recordings: stretches of audio covered by a tone, as their own rows.

A redacted copy sits beside its original (``<id>-rx.wav`` -> ``<id>-rx.redacted.wav``), in the
original's sample rate, 16-bit mono, sample for sample as long, so a flag's second is the same
second in both. Its row is a ``Recording`` of kind ``<kind>-r`` (``caller-r``, ``agent-r``,
``mix-r``): the table's one-row-per-(call, kind) rule then holds one copy per track, and every
reader that picks the originals by name (transcription, the IVR's file checks) is unchanged.

What to cover is decided above this layer (transcribe/redact_audio.py: personal data found in
the transcript, placed by its word times).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, aliased

from db import now
from recordings.audio import probe_wav, read_pcm16, write_wav
from recordings.store import file_status
from recordings.tables import Recording

SUFFIX = "-r"
TONE_HZ = 1000.0
TONE_LEVEL = 0.1  # of full scale (-20 dBFS): plainly a beep, never louder than the speech around it
FILLS = ("tone", "silence")


def redacted_kind(kind: str) -> str:
    """The row kind of a track's redacted copy: caller -> caller-r."""
    return kind + SUFFIX


def is_redacted(kind: str) -> bool:
    return kind.endswith(SUFFIX)


def redacted_path(original: Path) -> Path:
    return original.with_name(f"{original.stem}.redacted.wav")


def merge_spans(spans: Iterable[tuple[float, float]], duration: float) -> list[tuple[float, float]]:
    """Spans clipped to [0, duration], sorted, overlapping or touching ones joined."""
    out: list[tuple[float, float]] = []
    for a, b in sorted((max(0.0, a), min(duration, b)) for a, b in spans):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def write_redacted(src: Path, dst: Path, spans: Iterable[tuple[float, float]], fill: str = "tone"
                   ) -> list[tuple[float, float]]:
    """Copy ``src`` to ``dst`` with each span (seconds) replaced by a 1 kHz tone or by silence.

    Written to a temporary name and renamed, so a reader never gets half a file. Returns the
    spans covered (merged and clipped to the recording)."""
    if fill not in FILLS:
        raise ValueError(f"{dst}: fill must be one of {', '.join(FILLS)}, not {fill!r}")
    rate = probe_wav(src).rate
    pcm = read_pcm16(src).copy()
    covered = merge_spans(spans, pcm.size / rate)
    for a, b in covered:
        i, j = int(a * rate), min(pcm.size, int(np.ceil(b * rate)))
        if fill == "tone":
            t = np.arange(i, j) / rate
            pcm[i:j] = np.round(np.sin(2 * np.pi * TONE_HZ * t) * TONE_LEVEL * 32767).astype(np.int16)
        else:
            pcm[i:j] = 0
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    try:
        write_wav(tmp, pcm, rate)
        os.replace(tmp, dst)
    except OSError:
        tmp.unlink(missing_ok=True)  # no half-written copy left beside the recordings
        raise
    return covered


def has_ready_copy() -> ColumnElement[bool]:
    """A condition on a ``Recording`` row: a redacted copy of it is ready."""
    copy = aliased(Recording)
    return (select(copy.id).where(copy.call_id == Recording.call_id, copy.kind == Recording.kind + SUFFIX,
                                  copy.status == "ready").exists())


def originals_past(session: Session, days: int) -> list[Recording]:
    """Originals older than ``days`` whose redacted copy is ready: what ``original_retention_days``
    lets retention delete early (a track without a copy is all there is: it waits for retention_days)."""
    stmt = select(Recording).where(Recording.created_at < now() - timedelta(days=days), Recording.status != "purged",
                                   ~Recording.kind.endswith(SUFFIX), has_ready_copy())
    return list(session.scalars(stmt))


def register(session: Session, call_id: int, kind: str, path: Path) -> Recording:
    """The row of a redacted copy (created, or updated when the call is transcribed again)."""
    row = session.scalar(select(Recording).where(Recording.call_id == call_id, Recording.kind == kind))
    if row is None:
        row = Recording(call_id=call_id, kind=kind)
        session.add(row)
    row.path = str(path)
    row.asterisk_path = None
    row.status, row.error, row.duration_s, row.size_bytes = file_status(path)
    return row
