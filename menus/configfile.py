"""config.yaml as text on disk: read it, hash it, diff it, lock it, replace it atomically.

``write_atomic`` writes a temp file in the same folder, fsyncs it, keeps the mode and renames
it over the original, so the service (which re-reads on mtime change) sees the old file or
the new one, never half of one. ``edit_lock`` serialises `hotline menu` writers of one file,
and ``ensure_unchanged`` refuses to write over a file that changed since it was read.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path


class EditError(Exception):
    """An edit that was refused; ``lines`` are printed one per line, nothing was written."""

    def __init__(self, lines: str | list[str]) -> None:
        # A name typed with a line break (a pasted argument) must not break the one-line rule.
        self.lines = [ln.replace("\r", "\\r").replace("\n", "\\n")
                      for ln in ([lines] if isinstance(lines, str) else lines)]
        super().__init__("; ".join(self.lines))


class ConcurrentEdit(EditError):
    pass


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def unified_diff(old: str, new: str, old_name: str, new_name: str, context: int = 3) -> str:
    lines = difflib.unified_diff(old.splitlines(True), new.splitlines(True), old_name, new_name, n=context)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EditError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EditError(f"{path}: cannot read: {exc}") from None


@contextlib.contextmanager
def edit_lock(path: Path) -> Iterator[None]:
    """Serialise `hotline menu` writers of one file (a lock file beside it: the file itself gets replaced)."""
    with open(path.with_name(f".{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_unchanged(path: Path, expect_sha: str) -> None:
    if sha256(read_text(path)) != expect_sha:
        raise ConcurrentEdit(f"{path}: changed since it was read (another edit?); nothing written, run it again")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` over ``path`` atomically (same-folder temp file, fsync, rename), keeping its mode."""
    st = path.stat()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, st.st_mode & 0o7777)
        with contextlib.suppress(OSError):  # not ours to give away; the mode is what matters
            os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)
