"""Where a call's recordings live, and their rows.

MixMonitor runs inside Asterisk and writes to Asterisk's file system
(``recording.asterisk_directory``); this service reads the same folder through
``recording.directory`` (the same disk, mounted). Each call has three files, named by
the caller channel's Uniqueid, and nothing in AMI names the r()/t() files (the
``MIXMONITOR_FILENAME`` variable holds the mix only), so the paths are decided here
and recorded when MixMonitor starts:

=========  =====================  ==============================================
kind       file                   content (real Asterisk 20, mixmonitor-tracks trace)
=========  =====================  ==============================================
mix        ``<id>.wav``           both directions mixed
caller     ``<id>-rx.wav``        ``r()``: audio received from the caller
agent      ``<id>-tx.wav``        ``t()``: audio sent to the caller (prompts, the agent)
=========  =====================  ==============================================

All three start when MixMonitor attaches and end at hangup, so they are aligned sample
for sample. Rows start as ``recording``; when the call ends they become ``ready``
(a readable WAV), ``missing`` or ``corrupt``; retention turns them into ``purged``.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import now
from recordings.audio import AudioError, probe_wav
from recordings.tables import Recording
from settings import Config

log = logging.getLogger("recordings.store")

KINDS = ("mix", "caller", "agent")
_SUFFIX = {"mix": "", "caller": "-rx", "agent": "-tx"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class Track:
    """One recording file as Asterisk writes it and as this service reads it."""

    kind: str  # mix | caller | agent
    asterisk_path: str
    local_path: Path


def file_stem(uniqueid: str) -> str:
    """A file name from a Uniqueid (``1795335220.0``); anything odd becomes ``_``."""
    return _UNSAFE.sub("_", uniqueid) or "call"


def tracks(config: Config, uniqueid: str) -> list[Track]:
    """The mix, caller and agent files of the call with this caller Uniqueid."""
    stem = file_stem(uniqueid)
    ast_dir = PurePosixPath(config.recording.asterisk_directory)
    local_dir = config.path(config.recording.directory)
    return [
        Track(kind, str(ast_dir / f"{stem}{_SUFFIX[kind]}.wav"), local_dir / f"{stem}{_SUFFIX[kind]}.wav")
        for kind in KINDS
    ]


def mixmonitor_args(files: list[Track]) -> str:
    """``<mix>,r(<caller>)t(<agent>)``: the argument of ``EXEC MixMonitor``.

    Asterisk splits application arguments on ``,`` and reads ``(...)`` option values
    literally, so a path with a comma or parenthesis would break the command; the file
    names come from :func:`file_stem` and the folder from the config, checked here.
    """
    by_kind = {t.kind: t.asterisk_path for t in files}
    for path in by_kind.values():
        if any(c in path for c in ",()|\"' \t"):
            raise ValueError(f"recording path {path!r} has a character MixMonitor cannot take")
    return f"{by_kind['mix']},r({by_kind['caller']})t({by_kind['agent']})"


def to_local(config: Config, asterisk_path: str) -> Path:
    """The path this service reads for a file Asterisk wrote in its recording folder."""
    ast_dir = PurePosixPath(config.recording.asterisk_directory)
    rel = PurePosixPath(asterisk_path).relative_to(ast_dir)
    return config.path(config.recording.directory) / Path(*rel.parts)


def to_asterisk(config: Config, local_path: Path) -> str:
    """The inverse of :func:`to_local`."""
    rel = Path(local_path).resolve().relative_to(config.path(config.recording.directory).resolve())
    return str(PurePosixPath(config.recording.asterisk_directory, *rel.parts))


def add_rows(session: Session, call_id: int, files: list[Track], *, at: datetime | None = None) -> None:
    """Rows in state ``recording`` for a call whose MixMonitor just started (idempotent)."""
    have = {r.kind: r for r in session.scalars(select(Recording).where(Recording.call_id == call_id))}
    for t in files:
        row = have.get(t.kind)
        if row is None:
            session.add(Recording(call_id=call_id, kind=t.kind, path=str(t.local_path),
                                  asterisk_path=t.asterisk_path, created_at=at or now(), status="recording"))
        else:
            row.path, row.asterisk_path, row.status = str(t.local_path), t.asterisk_path, "recording"


def file_status(path: Path) -> tuple[str, str | None, float | None, int | None]:
    """(status, error, duration_s, size_bytes) of a recording file: ready, missing or corrupt."""
    if not path.exists():
        return "missing", f"{path}: no such file", None, None
    try:
        info = probe_wav(path)
        size = path.stat().st_size
    except (AudioError, OSError) as exc:
        try:
            size = path.stat().st_size
        except OSError:
            size = None
        return "corrupt", str(exc), None, size
    return "ready", None, round(info.duration, 3), size


def check_file(row: Recording) -> None:
    """Set a row's status, duration and size from its file."""
    status, error, duration, size = file_status(Path(row.path))
    row.status, row.error = status, error
    if duration is not None:
        row.duration_s = duration
    if size is not None:
        row.size_bytes = size


def finalize(session: Session, call_id: int, *, wait_s: float = 0.0) -> list[Recording]:
    """Check every file of an ended call; returns the rows.

    Asterisk closes MixMonitor files a moment after the channel hangs up, so a missing
    file is looked for again for up to ``wait_s`` seconds before it counts as missing.
    """
    rows = list(session.scalars(select(Recording).where(Recording.call_id == call_id)))
    deadline = time.monotonic() + wait_s
    for row in rows:
        if row.status == "purged":
            continue
        check_file(row)
        while row.status == "missing" and time.monotonic() < deadline:
            time.sleep(0.05)
            check_file(row)
    return rows


@dataclass(frozen=True)
class PurgeReport:
    files: int
    bytes: int
    rows: int
    errors: list[str]


def purge(session: Session, older_than_days: int, *, dry_run: bool = False) -> PurgeReport:
    """Delete recording files older than the retention period; rows stay, as ``purged``.

    The row is kept (with its size and duration) so a call's history still says a
    recording existed; transcripts and flags are not touched.
    """
    cutoff = now() - timedelta(days=older_than_days)
    stmt = select(Recording).where(Recording.created_at < cutoff, Recording.status != "purged")
    files = size = rows = 0
    errors: list[str] = []
    for row in session.scalars(stmt):
        path = Path(row.path)
        try:
            if path.exists():
                n = path.stat().st_size
                if not dry_run:
                    path.unlink()
                files, size = files + 1, size + n
        except OSError as exc:
            errors.append(f"{path}: {exc.strerror or exc}")
            continue
        rows += 1
        if not dry_run:
            row.status, row.error = "purged", None
    return PurgeReport(files, size, rows, errors)
