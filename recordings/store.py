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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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


def recording_file(config: Config, stored: str) -> Path:
    """The file a ``Recording.path`` names: the IVR stores absolute paths; a relative one (an
    imported or hand-made row) is read under the recordings directory. The one rule for all readers."""
    path = Path(stored)
    path = path if path.is_absolute() else config.path(config.recording.directory) / path
    for prefix, here in config.workers.path_map.items():  # a worker host mounts serve's folder elsewhere
        if path.is_relative_to(prefix):
            return Path(here) / path.relative_to(prefix)
    return path


def stored_path(config: Config, path: Path) -> Path:
    """A file this host wrote, named as serve's host reads it (``recording_file``'s map undone)."""
    for prefix, here in config.workers.path_map.items():
        if path.is_relative_to(here):
            return Path(prefix) / path.relative_to(here)
    return path


@dataclass(frozen=True)
class PurgeItem:
    """One recording past the retention period: deleted (or to be), or kept and why."""

    recording_id: int
    call_id: int | None
    kind: str
    path: str
    created_at: datetime
    size_bytes: int | None
    kept: str | None  # the reason it stays, or None: it goes


@dataclass(frozen=True)
class PurgeReport:
    files: int
    bytes: int
    rows: int
    errors: list[str]
    items: list[PurgeItem] = field(default_factory=list)

    @property
    def kept(self) -> list[PurgeItem]:
        return [i for i in self.items if i.kept]


# The app says which calls' recordings are still needed and why (unreviewed or confirmed
# flags, an unfinished transcription, a legal hold): those tables live above this layer.
KeepReasons = Callable[[Session, set[int]], dict[int, str]]


def purge(session: Session, config: Config, older_than_days: int, *, dry_run: bool = False,
          keep: KeepReasons | None = None, extra: Iterable[Recording] = ()) -> PurgeReport:
    """Delete recording files older than the retention period, and the ``extra`` rows (originals
    past ``original_retention_days``: recordings/redacted.py); rows stay, as ``purged``.

    The row is kept (with its size and duration) so a call's history still says a
    recording existed; transcripts and flags are not touched. A recording still being
    written (status ``recording``) or of a call ``keep`` names is left alone, with the reason.
    """
    cutoff = now() - timedelta(days=older_than_days)
    stmt = select(Recording).where(Recording.created_at < cutoff, Recording.status != "purged")
    rows_due = sorted({*session.scalars(stmt), *extra}, key=lambda r: (r.created_at, r.id))
    reasons = keep(session, {r.call_id for r in rows_due if r.call_id is not None}) if keep else {}
    files = size = rows = 0
    errors: list[str] = []
    items: list[PurgeItem] = []
    for row in rows_due:
        path = recording_file(config, row.path)
        why = "still recording" if row.status == "recording" else reasons.get(row.call_id or -1)
        n: int | None = None
        try:
            n = path.stat().st_size if path.exists() else None
            if why is None and n is not None:
                if not dry_run:
                    path.unlink()
                files, size = files + 1, size + n
        except OSError as exc:
            errors.append(f"{path}: {exc.strerror or exc}")
            continue
        items.append(PurgeItem(row.id, row.call_id, row.kind, str(path), row.created_at, n, why))
        if why is not None:
            continue
        rows += 1
        if not dry_run:
            row.status, row.error = "purged", None
    return PurgeReport(files, size, rows, errors, items)
