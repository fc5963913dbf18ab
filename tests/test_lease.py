"""The service lease on a real SQLite file: one holder, takeover after the ttl, no double win."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import db
from ivr.lease import Lease, read_lease


@pytest.fixture
def url(tmp_path: Path) -> str:
    u = f"sqlite:///{tmp_path / 'lease.db'}"
    db.engine_for(u)  # migrated: the service_lease table exists
    return u


def test_one_holder_and_a_standby(url: str) -> None:
    a = Lease(url, holder="a", ttl=0.6, interval=0.1)
    b = Lease(url, holder="b", ttl=0.6, interval=0.1)
    assert a.step() is True
    assert b.step() is False
    for _ in range(8):  # a keeps renewing: b never takes over, however long it looks
        time.sleep(0.1)
        assert a.step() is True
        assert b.step() is False
    state = read_lease(url)
    assert state is not None and state.holder == "a" and state.beat >= 9


def test_standby_takes_over_after_ttl_and_old_holder_steps_down(url: str) -> None:
    a = Lease(url, holder="a", ttl=0.5, interval=0.1)
    b = Lease(url, holder="b", ttl=0.5, interval=0.1)
    assert a.step()
    t0 = time.monotonic()
    took = None
    while time.monotonic() - t0 < 3:  # a is "dead": it no longer renews
        if b.step():
            took = time.monotonic() - t0
            break
        time.sleep(0.1)
    assert took is not None and 0.5 <= took < 1.0, took
    assert read_lease(url).holder == "b"  # type: ignore[union-attr]
    # a wakes up (it was paused, not dead): its renew matches no row, it steps down
    assert a.step() is False and not a.held
    assert b.step() is True


def test_release_hands_over_at_once(url: str) -> None:
    a = Lease(url, holder="a", ttl=5.0, interval=1.0)
    b = Lease(url, holder="b", ttl=5.0, interval=1.0)
    assert a.step() and not b.step()
    a.release()
    assert b.step() is True  # no 5 s wait after a clean stop
    assert read_lease(url).holder == "b"  # type: ignore[union-attr]


def test_a_dead_holder_on_this_host_is_replaced_at_once(url: str) -> None:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    gone = f"{socket.gethostname()}:{proc.stdout.strip()}:dead0000"  # that process has exited
    alive = f"{socket.gethostname()}:{os.getppid()}:alive000"
    dead = Lease(url, holder=gone, ttl=30.0, interval=1.0)
    assert dead.step()
    b = Lease(url, holder="b", ttl=30.0, interval=1.0)
    assert b.step() is True  # no 30 s wait: the holder's process does not exist
    b.release()
    assert Lease(url, holder=alive, ttl=30.0, interval=1.0).step()
    assert Lease(url, holder="c", ttl=30.0, interval=1.0).step() is False  # a live process keeps it


def test_racing_standbys_only_one_wins(url: str) -> None:
    """Many standbys see the same stale lease at the same moment: the conditional UPDATE lets one win."""
    old = Lease(url, holder="old", ttl=0.3, interval=0.05)
    assert old.step()
    standbys = [Lease(url, holder=f"s{i}", ttl=0.3, interval=0.05) for i in range(6)]
    for s in standbys:
        assert s.step() is False  # each notes (old, beat) now
    time.sleep(0.35)
    barrier = threading.Barrier(len(standbys))
    wins: list[str] = []

    def race(s: Lease) -> None:
        barrier.wait()
        for _ in range(20):
            try:
                if s.step():
                    wins.append(s.holder)
                return
            except Exception:  # "database is locked" under the race: look again, as the loop does
                time.sleep(0.01)

    threads = [threading.Thread(target=race, args=(s,)) for s in standbys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1, wins
    assert read_lease(url).holder == wins[0]  # type: ignore[union-attr]


def test_holder_that_cannot_renew_fences_itself(url: str, tmp_path: Path) -> None:
    a = Lease(url, holder="a", ttl=0.5, interval=0.1)
    assert a.step() and not a.fenced()
    (tmp_path / "gone.db").mkdir()  # a directory where the database should be: every query fails
    gone = f"sqlite:///{tmp_path / 'gone.db'}"
    if db.stand_in_database(gone):  # on PostgreSQL (tests/on_postgres.py): a socket folder with no server
        gone = f"postgresql+psycopg://hotline@/gone?host={tmp_path / 'gone.db'}"
    broken = Lease(gone, holder="a", ttl=0.5, interval=0.1)
    broken.held, broken._renewed = True, time.monotonic()  # as if it held the lease, then lost the DB
    with pytest.raises(Exception):  # noqa: B017  (the database error, whatever the driver calls it)
        broken.step()
    assert not broken.fenced()
    time.sleep(0.35)
    assert broken.fenced()  # before any standby (ttl 0.5) can have taken over: stop driving
