"""The call store's write-ahead journal: every op is on disk (fsync'd) before it is written.

One JSON line per op (``{"n": 7, "op": "close", "args": [...]}``) and, after a transaction
commits, a mark ``{"landed": 7}``: the writer applies ops in order, so everything up to the
mark is in the database. What is past the last mark is replayed, in order, by the next
store that opens the folder (after a crash, a kill or a database outage that outlived the
process). The mark itself is not fsync'd: a lost mark only means an op is replayed, and
replayed ops are applied idempotently (ivr/callstore.py), so nothing lands twice.

Each live store appends to its own file ``ops-<pid>-<time>.jsonl`` and holds an flock on
it, so a standby `serve` sharing the folder never writes into the active one's file; a
file nobody holds is a dead process's, and its unlanded ops are taken over at start.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from recordings.store import Track

log = logging.getLogger("ivr.journal")

Entry = tuple[int, str, tuple[Any, ...]]  # (n, op name, args)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, Track):
        return {"$track": [value.kind, value.asterisk_path, str(value.local_path)]}
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot journal {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    if "$dt" in obj and len(obj) == 1:
        return datetime.fromisoformat(obj["$dt"])
    if "$track" in obj and len(obj) == 1:
        kind, asterisk_path, local = obj["$track"]
        return Track(kind, asterisk_path, Path(local))
    return obj


def encode(n: int, name: str, args: tuple[Any, ...]) -> str:
    return json.dumps({"n": n, "op": name, "args": list(args)}, default=_encode, ensure_ascii=False)


def read_pending(path: Path) -> list[Entry]:
    """The ops in ``path`` past its last landed mark, in order. A torn last line (the
    process died mid-write, before its fsync returned) was never acknowledged: skipped."""
    ops: list[Entry] = []
    landed = 0
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            try:
                rec = json.loads(line, object_hook=_decode)
            except ValueError:
                log.warning("%s:%d: unreadable journal line skipped (torn write)", path, lineno)
                continue
            if "landed" in rec:
                landed = max(landed, int(rec["landed"]))
            else:
                ops.append((int(rec["n"]), str(rec["op"]), tuple(rec["args"])))
    return [e for e in ops if e[0] > landed]


class Journal:
    """This process's journal file in ``folder``; takes over dead processes' files at open."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"ops-{os.getpid()}-{time.time_ns()}.jsonl"
        self._f: TextIO = self.path.open("a", encoding="utf-8")
        fcntl.flock(self._f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.bytes = 0

    def take_over(self) -> list[tuple[str, tuple[Any, ...]]]:
        """Unlanded ops of every file no live process holds, oldest file first; the files are
        removed once their ops are safely in this journal (the caller appends them)."""
        pending: list[tuple[str, tuple[Any, ...]]] = []
        self._orphans: list[Path] = []
        for path in sorted(self.folder.glob("ops-*.jsonl"), key=_file_order):
            if path == self.path:
                continue
            with path.open("a", encoding="utf-8") as probe:
                try:
                    fcntl.flock(probe.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live store (a standby or active `serve`) owns it
                pending += [(name, args) for _, name, args in read_pending(path)]
                self._orphans.append(path)
        return pending

    def drop_orphans(self) -> None:
        for path in getattr(self, "_orphans", []):
            path.unlink(missing_ok=True)
        self._orphans = []
        _fsync_dir(self.folder)

    def append(self, entries: list[Entry]) -> None:
        """Write and fsync: when this returns, the ops survive a crash of this process."""
        if not entries:
            return
        text = "".join(encode(n, name, args) + "\n" for n, name, args in entries)
        self._f.write(text)
        self._f.flush()
        os.fsync(self._f.fileno())
        self.bytes += len(text)

    def landed(self, n: int) -> None:
        text = json.dumps({"landed": n}) + "\n"
        self._f.write(text)
        self._f.flush()
        self.bytes += len(text)

    def restart_if_large(self, limit: int = 4 << 20) -> None:
        """Everything landed and the file is big: start an empty one (nothing to carry over)."""
        if self.bytes < limit:
            return
        old, old_f = self.path, self._f
        self.path = self.folder / f"ops-{os.getpid()}-{time.time_ns()}.jsonl"
        self._f = self.path.open("a", encoding="utf-8")
        fcntl.flock(self._f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        _fsync_dir(self.folder)
        old.unlink(missing_ok=True)
        old_f.close()
        self.bytes = 0

    def close(self, *, remove: bool) -> None:
        """``remove``: every op landed, the file holds nothing needed."""
        self._f.close()
        if remove:
            self.path.unlink(missing_ok=True)


def _file_order(path: Path) -> int:
    try:
        return int(path.stem.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def default_folder(url: str) -> Path:
    """Where a store keeps its journal when the config names no folder: next to a SQLite file,
    else in the user's state folder, one per database URL."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != prefix + ":memory:":
        return Path(url[len(prefix):].split("?", 1)[0] + ".journal")
    import hashlib

    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return state / "hotline" / "journal" / hashlib.sha1(url.encode()).hexdigest()[:12]
