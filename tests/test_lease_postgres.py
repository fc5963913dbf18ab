"""The service lease (ivr/lease.py) on a real PostgreSQL server (issue 12).

The throwaway server of the PostgreSQL fault test (``PgServer``: initdb on a Unix socket in
a temp folder); without the server binaries every test here is skipped with that reason.
Each holder runs in its own thread stepping every ``interval``, as ``serve`` does, with its
own connections: what PostgreSQL's READ COMMITTED does to two conditional UPDATEs racing on
one row is what is under test, where tests/test_lease.py covers SQLite.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from test_fault_callstore import PgServer

import db
from ivr.lease import Lease, read_lease

TTL, INTERVAL = 1.0, 0.2
SLACK = 0.5  # database round trips on a busy 2-core machine


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    with PgServer.running(migrated=True) as pg:  # migrated: the service_lease table exists
        yield pg


_names = iter(range(1000))


@pytest.fixture
def name() -> str:
    """A lease row of its own for each test (one server for the module)."""
    return f"pg-test-{next(_names)}"


class Runner:
    """One service's heartbeat loop in a thread: ``step()`` every interval until stopped."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self.held_at: float | None = None  # monotonic time it first held
        self.stopped_at = 0.0
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{lease.holder}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.lease.step() and self.held_at is None:
                    self.held_at = time.monotonic()
            except Exception as exc:  # the test reports it
                self.errors.append(exc)
            self._stop.wait(self.lease.interval)
        self.stopped_at = time.monotonic()

    def stop(self) -> None:
        """Stops renewing (the process hangs or dies): its next renew would have been now."""
        self._stop.set()
        self._thread.join(10)


def _lease(server: PgServer, name: str, holder: str) -> Lease:
    return Lease(server.url, holder=holder, name=name, ttl=TTL, interval=INTERVAL)


def test_one_holds_the_other_stands_by_then_takes_over_and_the_old_holder_is_fenced(
        server: PgServer, name: str) -> None:
    a = Runner(_lease(server, name, "a"))
    time.sleep(INTERVAL)
    b = Runner(_lease(server, name, "b"))
    try:
        time.sleep(3 * TTL)  # a renews throughout: b, looking all along, must stay standby
        assert a.lease.held and not b.lease.held and b.held_at is None
        state = read_lease(server.url, name)
        assert state is not None and state.holder == "a" and state.beat >= 3 * TTL / INTERVAL - 2, state
        beat = state.beat
        a.stop()
        deadline = a.stopped_at + TTL + INTERVAL + SLACK + 2
        while b.held_at is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b.held_at is not None, f"standby never took over: {read_lease(server.url, name)}"
        took = b.held_at - a.stopped_at
        # b waits ttl after the last beat it saw (at most one interval before a stopped), and
        # looks once per interval.
        assert TTL - INTERVAL <= took <= TTL + INTERVAL + SLACK, f"took over {took:.2f}s after the holder stopped"
        print(f"takeover {took:.2f}s after the holder stopped (ttl {TTL}, interval {INTERVAL})")
        assert read_lease(server.url, name).holder == "b"  # type: ignore[union-attr]
        # a wakes up (paused, not dead): fenced by its own clock, and its renew matches no row.
        assert a.lease.fenced()
        assert a.lease.step() is False and not a.lease.held
        after = read_lease(server.url, name)
        assert after is not None and after.holder == "b" and after.beat > beat
        time.sleep(2 * INTERVAL)
        assert b.lease.held and read_lease(server.url, name).holder == "b"  # type: ignore[union-attr]
        assert not a.errors and not b.errors, a.errors + b.errors
    finally:
        a.stop()
        b.stop()


def _race(lease: Lease, gate: threading.Barrier, won: list[str]) -> None:
    gate.wait(5)
    if lease.step():
        won.append(lease.holder)


def test_racing_standbys_on_postgresql_only_one_wins(server: PgServer, name: str) -> None:
    """Two standbys see the same stale lease and fire the same compare-and-swap at once:
    PostgreSQL re-checks the second UPDATE's WHERE after the first commits, so it matches nothing."""
    for round_ in range(5):
        row = f"{name}-{round_}"
        old = _lease(server, row, "old")
        assert old.step()
        standbys = [_lease(server, row, f"s{i}") for i in range(2)]
        assert not any(s.step() for s in standbys)  # both note (old, beat)
        time.sleep(TTL + 0.05)  # old never renews again
        gate = threading.Barrier(len(standbys))
        won: list[str] = []
        threads = [threading.Thread(target=_race, args=(s, gate, won)) for s in standbys]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert len(won) == 1, f"round {round_}: winners {won}"
        assert read_lease(server.url, row).holder == won[0]  # type: ignore[union-attr]
        assert old.step() is False


def test_holder_cut_off_from_postgresql_fences_itself_before_a_standby_can_take_over(
        server: PgServer, name: str) -> None:
    """PostgreSQL stops: the holder's renew fails, and it must consider itself fenced after
    ``fence`` s (0.6 x ttl), before any standby could have waited the ttl; back up, it
    cannot renew a lease the standby took."""
    a, b = _lease(server, name, "a"), _lease(server, name, "b")
    assert a.step() and not b.step()
    server.stop()
    try:
        t0 = time.monotonic()
        with pytest.raises(Exception):  # noqa: B017 -- whatever the driver raises
            a.step()
        assert a.held  # one failed renew is not yet a reason to stop driving
        while not a.fenced() and time.monotonic() - t0 < TTL:
            time.sleep(0.05)
        assert a.fenced(), "the holder never fenced itself while the database was down"
        a.drop()
    finally:
        server.start()
        db.dispose_all()  # the pooled connections died with the server
    t1 = time.monotonic()
    while not b.step() and time.monotonic() - t1 < TTL + INTERVAL + SLACK + 2:
        time.sleep(INTERVAL)
    assert b.held and read_lease(server.url, name).holder == "b"  # type: ignore[union-attr]
    assert a.step() is False  # standby now: it sees b renewing and cannot take the lease
