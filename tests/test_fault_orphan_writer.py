"""The call store's writer process outlives nothing: a SIGKILL of the service ends it too (issue 12).

`hotline serve` runs the writer as a child process. Killed with SIGKILL, the service cannot
stop it; the writer sees its parent go and exits once the batch it is writing is in, and the
next start replays the service's journal: nothing lost, nothing twice. Real processes, real SQLite.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from test_fault_callstore import counts, expect, hold_write_lock

import db
from ivr.callstore import CallStore
from ivr.callwriter import ORPHAN_GRACE_S

ROOT = Path(__file__).resolve().parent.parent

# The service side: a store with its writer process, 30 calls journaled and sent, then it waits for the kill.
_SERVICE = """
import sys, time
from test_fault_callstore import put_calls
from ivr.callstore import CallStore
store = CallStore(sys.argv[1], process=True).start()
put_calls(store, "k", 30)
assert store.journaled(10)
print(store.writer_pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    """Running (a zombie nobody reaped yet has exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def _kill_service(url: str) -> tuple[int, float, str]:
    """Start the service side, SIGKILL it; the writer's pid, how long it outlived its parent, its stderr."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    proc = subprocess.Popen([sys.executable, "-c", _SERVICE, url], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        writer = int(proc.stdout.readline())
        assert _alive(writer)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        killed = time.monotonic()
        while _alive(writer) and time.monotonic() - killed < ORPHAN_GRACE_S + 10:  # long enough to see it stay
            time.sleep(0.05)
        took = time.monotonic() - killed
        assert proc.stderr is not None
        return writer, took, proc.stderr.read()  # the writer shares it: EOF once it has exited
    finally:
        proc.kill()


def _restart_replays(url: str, path: Path) -> None:
    store = CallStore(url).start()
    assert store.flush(30)
    store.close()
    assert counts(url) == expect(30)  # nothing lost, nothing twice
    assert not list(Path(f"{path}.journal").glob("ops-*.jsonl"))


def test_writer_exits_when_the_service_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "hotline.db"
    url = f"sqlite:///{path}"
    db.sessions(url)
    writer, took, err = _kill_service(url)
    assert not _alive(writer), f"writer {writer} still running {took:.1f}s after the service died"
    assert took < ORPHAN_GRACE_S + 2.0, (took, err)  # 0.3-0.5 s measured: the batch it was writing
    assert "the service (pid" in err and "is gone" in err
    _restart_replays(url, path)


def test_writer_stuck_on_a_locked_database_still_exits(tmp_path: Path) -> None:
    """The database is locked (a long report): the orphan stops retrying at once; the journal
    keeps every op and the next start writes them."""
    path = tmp_path / "hotline.db"
    url = f"sqlite:///{path}"
    db.sessions(url)
    holder = hold_write_lock(path, 60.0)
    try:
        writer, took, _ = _kill_service(url)
    finally:
        holder.release()
    assert not _alive(writer), f"writer {writer} still running {took:.1f}s after the service died"
    assert took < ORPHAN_GRACE_S + 2.0, took  # stuck in SQLite's busy wait: cut short after the grace
    assert counts(url)["calls"] == 0  # nothing landed while locked
    _restart_replays(url, path)
