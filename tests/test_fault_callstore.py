"""Faults under the call store: a locked SQLite, a killed writer, a killed service, a stopped
PostgreSQL. Each test counts rows afterwards: every call opened and closed, nothing twice.

Real SQLite files, a real PostgreSQL server (when its binaries are installed), real
processes killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

import db
from ivr.callstore import CallStore
from ivr.journal import read_pending
from ivr.tables import Call, CallEvent, MenuStep

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=[False, True], ids=["thread", "process"])
def process(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


class WriteLock:
    """Another connection takes SQLite's write lock and keeps it (as a long report job did)
    for ``seconds``, or until ``release()``; on PostgreSQL (tests/on_postgres.py) it locks the
    call tables against writes instead."""

    def __init__(self, path: Path, seconds: float) -> None:
        self._release = threading.Event()
        taken = threading.Event()

        def hold() -> None:
            if db.stand_in_database(f"sqlite:///{path}"):
                engine = db.make_engine(f"sqlite:///{path}")
                with engine.connect() as pg:
                    pg.exec_driver_sql("LOCK TABLE calls, menu_steps, call_events IN EXCLUSIVE MODE")
                    taken.set()
                    self._release.wait(seconds)
                    pg.commit()
                engine.dispose()
                return
            con = sqlite3.connect(path, timeout=30, isolation_level=None)
            con.execute("BEGIN IMMEDIATE")
            taken.set()
            self._release.wait(seconds)
            con.execute("COMMIT")
            con.close()

        self._thread = threading.Thread(target=hold, daemon=True)
        self._thread.start()
        assert taken.wait(10)

    def release(self) -> None:
        self._release.set()
        self._thread.join()

    def join(self) -> None:
        self._thread.join()


def hold_write_lock(path: Path, seconds: float) -> WriteLock:
    return WriteLock(path, seconds)


def put_calls(store: CallStore, prefix: str, n: int) -> list[str]:
    """``n`` whole calls: open, two steps, an event, close."""
    uids = []
    for i in range(n):
        uid = f"{prefix}.{i}"
        store.open_call(uid, at=db.now(), channel=f"SIP/c-{prefix}{i}", caller_num=f"55{i:04d}")
        store.add_step(uid, menu="main", digit="1", outcome="chosen", action="submenu", target="orders")
        store.add_step(uid, menu="orders", digit="2", outcome="chosen", action="queue", target="support")
        store.add_event(uid, "greeting", {"complete": True})
        store.close_call(uid, hangup_by="caller")
        uids.append(uid)
    return uids


def counts(url: str) -> dict[str, int]:
    """Rows per table, and the calls not ended (should be none) and uniqueids seen twice."""
    with db.transaction(url) as s:
        dup = s.execute(select(Call.uniqueid).group_by(Call.uniqueid).having(func.count() > 1)).all()
        dup_steps = s.execute(select(MenuStep.call_id, MenuStep.seq).group_by(MenuStep.call_id, MenuStep.seq)
                              .having(func.count() > 1)).all()
        return {
            "calls": s.scalar(select(func.count()).select_from(Call)) or 0,
            "ended": s.scalar(select(func.count()).select_from(Call).where(Call.status == "ended")) or 0,
            "steps": s.scalar(select(func.count()).select_from(MenuStep)) or 0,
            "events": s.scalar(select(func.count()).select_from(CallEvent)) or 0,
            "duplicates": len(dup) + len(dup_steps),
        }


def expect(n: int) -> dict[str, int]:
    return {"calls": n, "ended": n, "steps": 2 * n, "events": n, "duplicates": 0}


def test_sqlite_locked_by_another_connection_loses_nothing(tmp_path: Path, process: bool,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "hotline.db"
    url = f"sqlite:///{path}"
    db.sessions(url)  # the schema exists before the lock is taken
    store = CallStore(url, process=process).start()
    put_calls(store, "before", 5)
    assert store.flush(10)
    # Longer than SQLite's busy timeout (10 s) once: the old writer gave up after two tries.
    holder = hold_write_lock(path, 12.0)
    put_calls(store, "during", 40)
    assert store.journaled(10)
    assert not store.flush(2)  # nothing lands while the lock is held
    assert store.backlog >= 40 * 5
    journal = next(store.journal_dir.glob("ops-*.jsonl"))
    assert len(read_pending(journal)) >= 40 * 5  # on disk, not only in memory
    holder.join()
    assert store.flush(60)
    assert store.backlog == 0 and store.failed == 0
    store.close()
    assert counts(url) == expect(45)
    assert not list(store.journal_dir.glob("ops-*.jsonl"))  # all landed: the journal is gone


def test_the_writer_process_killed_mid_outage_is_restarted_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "hotline.db"
    url = f"sqlite:///{path}"
    db.sessions(url)
    store = CallStore(url, process=True).start()
    holder = hold_write_lock(path, 4.0)
    put_calls(store, "k", 30)
    assert store.journaled(10)
    time.sleep(0.5)  # the writer has taken ops off its queue and is retrying them
    pid = store.writer_pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    put_calls(store, "after", 10)  # sessions go on putting while it is down
    holder.join()
    assert store.flush(60)
    assert store.restarts == 1 and store.writer_pid != pid
    store.close()
    assert counts(url) == expect(40)


_KILLED_SERVICE = """
import sys, time
import db
from ivr.callstore import CallStore
url = sys.argv[1]
store = CallStore(url).start()
for i in range(25):
    uid = f"dead.{i}"
    store.open_call(uid, at=db.now(), channel=f"SIP/d-{i}")
    store.add_step(uid, menu="main", digit="1", outcome="chosen", action="submenu", target="orders")
    store.add_step(uid, menu="orders", digit="2", outcome="chosen", action="queue", target="support")
    store.add_event(uid, "greeting", {"complete": True})
    store.close_call(uid, hangup_by="caller")
assert store.journaled(10)
print("journaled", flush=True)
time.sleep(600)
"""


def _killed_after_journaling(url: str) -> None:
    """A service process journals 25 calls (_KILLED_SERVICE) and is SIGKILLed."""
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_SERVICE, url], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "journaled"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()


def test_a_killed_service_leaves_a_journal_the_next_start_replays(tmp_path: Path) -> None:
    path = tmp_path / "hotline.db"
    url = f"sqlite:///{path}"
    db.sessions(url)
    holder = hold_write_lock(path, 60.0)  # nothing can land before the kill
    _killed_after_journaling(url)
    journals = list(Path(f"{path}.journal").glob("ops-*.jsonl"))
    assert len(journals) == 1 and len(read_pending(journals[0])) == 25 * 5
    # The lock goes (the report job ends); the service starts again with the same folder.
    holder.release()
    store = CallStore(url).start()
    assert store.replayed == 25 * 5
    assert store.flush(30)
    store.close()
    assert counts(url) == expect(25)
    assert not list(Path(f"{path}.journal").glob("ops-*.jsonl"))


def test_a_standby_taking_over_replays_the_killed_services_journal(tmp_path: Path) -> None:
    # Seen on the real Asterisk: the active serve was SIGKILLed 16 ms after a call ended; the standby,
    # started long before, took the lease and closed that row as lost, its true close still in the
    # dead service's journal. The standby's store takes that journal over when it takes the lease.
    path = tmp_path / "hotline.db"
    url = f"sqlite:///{path}"
    db.sessions(url)
    standby = CallStore(url).start()  # before the active one wrote anything: nothing to take over yet
    assert standby.replayed == 0
    holder = hold_write_lock(path, 60.0)  # nothing the active one sends can land before the kill
    _killed_after_journaling(url)
    holder.release()
    closing = standby.take_over_journals()
    assert closing == {f"dead.{i}" for i in range(25)} and standby.replayed == 25 * 5
    assert standby.take_over_journals() == set()  # taken once
    assert standby.flush(30)
    standby.close()
    assert counts(url) == expect(25)


def test_a_replay_of_ops_that_had_landed_adds_nothing(tmp_path: Path) -> None:
    """The mark after a commit is not fsync'd: a crash may replay ops already written."""
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    folder = tmp_path / "journal"
    store = CallStore(url, journal_dir=folder).start()
    put_calls(store, "x", 10)
    assert store.flush(10)
    journal = next(folder.glob("ops-*.jsonl"))
    lines = [ln for ln in journal.read_text(encoding="utf-8").splitlines() if '"landed"' not in ln]
    store.close()
    (folder / "ops-1-1.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")  # as if no mark had landed
    assert counts(url) == expect(10)
    again = CallStore(url, journal_dir=folder).start()
    assert again.replayed == 10 * 5
    assert again.flush(10)
    again.close()
    assert counts(url) == expect(10)


def test_a_torn_last_line_is_skipped_and_the_rest_replayed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    folder = tmp_path / "journal"
    folder.mkdir()
    line = {"n": 1, "op": "open", "args": ["t.1", {"$dt": "2026-01-01T10:00:00+00:00"}, {"channel": "SIP/t-1"}]}
    end = {"$dt": "2026-01-01T10:01:00+00:00"}
    close = {"n": 2, "op": "close", "args": ["t.1", {"status": "ended", "ended_at": end}]}
    (folder / "ops-7-7.jsonl").write_text(json.dumps(line) + "\n" + json.dumps(close) + "\n" + '{"n": 3, "op": "ev',
                                          encoding="utf-8")
    store = CallStore(url, journal_dir=folder).start()
    assert store.replayed == 2 and store.flush(10)
    store.close()
    with db.transaction(url) as s:
        call = s.scalars(select(Call)).one()
        assert call.status == "ended" and call.ended_at.minute == 1


# -- PostgreSQL stopped and started while calls are written -------------------------------


class PgServer:
    """The throwaway server of tests/test_jobs.py (same recipe), with stop and start."""

    def __init__(self) -> None:
        import pwd
        import tempfile

        from test_jobs import _pg_bin

        pytest.importorskip("psycopg")
        bin_dir = _pg_bin()
        if bin_dir is None:
            pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
        self.bin = bin_dir
        self.home = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # postgres refuses to run as root
            pw = pwd.getpwnam("postgres")
            os.chown(self.home, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.data = self.home / "data"
        self.run("initdb", "-D", str(self.data), "-U", "hotline", "-A", "trust", "--no-sync")
        self.start()
        self.run("createdb", "-h", str(self.home), "-U", "hotline", "hotline")
        self.url = f"postgresql+psycopg://hotline@/hotline?host={self.home}"

    def run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        opts = f"-k {self.home} -c listen_addresses='' -c fsync=off"
        self.run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.home / "log"), "-w", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")

    @classmethod
    @contextmanager
    def running(cls, migrated: bool = False) -> Iterator[PgServer]:
        """A server for the length of a with-block (migrated to head if asked), then removed."""
        server = cls()
        try:
            if migrated:
                db.engine_for(server.url)
            yield server
        finally:
            db.dispose_all()
            try:
                server.stop()
            finally:
                shutil.rmtree(server.home, ignore_errors=True)


@pytest.fixture()
def pg() -> Iterator[PgServer]:
    with PgServer.running() as server:
        yield server


@pytest.mark.own_postgres
def test_postgresql_stopped_and_started_during_calls(pg: PgServer, tmp_path: Path) -> None:
    db.sessions(pg.url)
    store = CallStore(pg.url, process=True, journal_dir=tmp_path / "journal").start()
    put_calls(store, "up", 10)
    assert store.flush(20)
    pg.stop()  # an immediate stop: connections cut, as in a crash or failover
    put_calls(store, "down", 30)
    assert store.journaled(10)
    assert not store.flush(3)
    assert store.backlog >= 30 * 5
    pg.start()
    put_calls(store, "back", 10)
    assert store.flush(60)
    assert store.backlog == 0 and store.failed == 0
    store.close()
    assert counts(pg.url) == expect(50)


def test_a_writer_killed_while_it_waits_for_the_recording_files_checks_them_again(tmp_path: Path) -> None:
    """The close is only marked landed once its files were looked at: a writer killed while
    MixMonitor's files are not there yet must not leave the recordings 'recording' forever."""
    import numpy as np

    from recordings import store as rec_store
    from recordings.audio import write_wav
    from recordings.tables import Recording
    from settings import load_config
    from transcribe.jobs import enqueue_call
    from transcribe.tables import Job

    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    (tmp_path / "config.yaml").write_text(text.replace("url: sqlite:///var/hotline.db",
                                                       f"url: sqlite:///{tmp_path}/hotline.db"), encoding="utf-8")
    cfg = load_config(tmp_path / "config.yaml")
    url = cfg.database_url
    store = CallStore(url, process=True, recording_wait_s=10.0, on_recordings_ready=enqueue_call).start()
    uid = "1795335299.9"
    files = rec_store.tracks(cfg, uid)
    store.open_call(uid, at=db.now(), channel="SIP/c-99")
    store.add_recordings(uid, files, at=db.now())
    store.close_call(uid, hangup_by="caller")

    def looked() -> bool:  # written, and the first look found no files: a look again is pending
        with db.transaction(url) as s:
            return {r.status for r in s.scalars(select(Recording))} == {"missing"}

    deadline = time.monotonic() + 30.0  # the spawned writer may be slow to start on a busy machine
    while not looked():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    with db.transaction(url) as s:
        assert s.scalars(select(Call)).one().status == "ended"
    assert store.backlog > 0  # the close is not marked landed yet
    pid = store.writer_pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    for t in files:  # Asterisk closes the files now
        t.local_path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(t.local_path, np.zeros(800, dtype=np.int16))
    assert store.flush(30)
    assert store.restarts == 1
    store.close()
    with db.transaction(url) as s:
        assert {r.status for r in s.scalars(select(Recording))} == {"ready"}
        assert len(s.scalars(select(Job)).all()) == 1
    assert counts(url)["duplicates"] == 0
