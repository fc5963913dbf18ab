"""The call store (one writer thread) and the call log commands, on a real SQLite file."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import db
from accounts.tables import AccessLog
from accounts.users import add_user
from app.commands import asterisk_snippets
from cli import app
from ivr.callstore import CallStore, active_calls
from ivr.tables import Call, MenuStep
from recordings import store as rec_store
from recordings.audio import write_wav
from recordings.tables import Recording
from settings import load_config
from transcribe.jobs import enqueue_call
from transcribe.tables import Job

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def cfg(tmp_path: Path):  # type: ignore[no-untyped-def]
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("url: sqlite:///var/hotline.db", f"url: sqlite:///{tmp_path}/hotline.db")
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


@pytest.fixture(params=[False, True], ids=["thread", "process"])
def process(request: pytest.FixtureRequest) -> bool:
    """The writer in a thread (tests, small sites) or in its own process (`hotline serve`)."""
    return bool(request.param)


def _write_tracks(files: list[rec_store.Track], seconds: float = 1.0) -> None:
    for t in files:
        t.local_path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(t.local_path, np.zeros(int(8000 * seconds), dtype=np.int16))


def test_a_whole_call_lands_and_is_queued_for_transcription(cfg, process: bool) -> None:  # type: ignore[no-untyped-def]
    store = CallStore(cfg.database_url, process=process, on_recordings_ready=enqueue_call).start()
    uid = "1795335220.0"
    files = rec_store.tracks(cfg, uid)
    assert [t.kind for t in files] == ["mix", "caller", "agent"]
    assert files[1].asterisk_path == "/var/spool/asterisk/monitor/1795335220.0-rx.wav"
    assert rec_store.mixmonitor_args(files) == (
        "/var/spool/asterisk/monitor/1795335220.0.wav,r(/var/spool/asterisk/monitor/1795335220.0-rx.wav)"
        "t(/var/spool/asterisk/monitor/1795335220.0-tx.wav)")
    store.open_call(uid, at=db.now(), channel="SIP/caller-00000000", caller_num="5551230001", did="400")
    store.add_recordings(uid, files, at=db.now())
    store.add_step(uid, menu="main", digit="1", outcome="chosen", action="submenu", target="orders")
    store.add_step(uid, menu="orders", digit="1", outcome="chosen", action="queue", target="support")
    store.add_event(uid, "greeting", {"complete": True})
    _write_tracks(files)
    store.close_call(uid, hangup_by="caller", menu_path="main:1 > orders:1", agent="SIP/agent1001")
    assert store.flush(10)
    with db.transaction(cfg.database_url) as s:
        call = s.scalars(select(Call)).one()
        assert call.status == "ended" and call.hangup_by == "caller" and call.ended_at is not None
        assert [m.seq for m in s.scalars(select(MenuStep).order_by(MenuStep.seq))] == [1, 2]
        recs = s.scalars(select(Recording)).all()
        assert {r.status for r in recs} == {"ready"} and all(r.duration_s == 1.0 for r in recs)
        assert s.scalars(select(Job)).one().call_id == call.id
    assert store.enqueued == 1
    store.close()


def test_files_written_after_the_hangup_are_waited_for(cfg, process: bool) -> None:  # type: ignore[no-untyped-def]
    store = CallStore(cfg.database_url, process=process, on_recordings_ready=enqueue_call).start()
    uid = "1795335221.1"
    files = rec_store.tracks(cfg, uid)
    store.open_call(uid, at=db.now(), channel="SIP/caller-00000001")
    store.add_recordings(uid, files, at=db.now())
    store.close_call(uid)
    # Asterisk closes MixMonitor files a moment after the hangup.
    threading.Timer(0.3, _write_tracks, (files,)).start()
    assert store.flush(10)
    with db.transaction(cfg.database_url) as s:
        assert {r.status for r in s.scalars(select(Recording))} == {"ready"}
        assert s.scalars(select(Job)).one() is not None
    store.close()


def test_missing_recordings_mean_no_job(cfg) -> None:  # type: ignore[no-untyped-def]
    store = CallStore(cfg.database_url, recording_wait_s=0.3, on_recordings_ready=enqueue_call).start()
    uid = "1795335222.2"
    store.open_call(uid, at=db.now(), channel="SIP/caller-00000002")
    store.add_recordings(uid, rec_store.tracks(cfg, uid), at=db.now())
    store.close_call(uid)
    assert store.flush(10)
    with db.transaction(cfg.database_url) as s:
        assert {r.status for r in s.scalars(select(Recording))} == {"missing"}
        assert s.scalars(select(Job)).first() is None
    store.close()


def test_a_bad_write_loses_nothing_else(cfg, caplog, capfd, process: bool) -> None:  # type: ignore[no-untyped-def]
    store = CallStore(cfg.database_url, process=process).start()
    store.open_call("a", at=db.now(), channel="SIP/a-1")
    store.add_step("nobody", menu="main", outcome="chosen")  # no such call: one error line
    store.add_step("a", menu="main", digit="2", outcome="chosen")
    store.close_call("a")
    assert store.flush(10)
    assert store.failed == 1
    store.close()
    logged = caplog.text + capfd.readouterr().err  # the child process logs to the same stderr
    assert logged.count("for call nobody failed") == 1
    with db.transaction(cfg.database_url) as s:
        assert s.scalars(select(Call)).one().status == "ended"
        assert len(s.scalars(select(MenuStep)).all()) == 1


def test_writes_do_not_block_the_caller(cfg, process: bool) -> None:  # type: ignore[no-untyped-def]
    store = CallStore(cfg.database_url, process=process).start()
    t0 = time.perf_counter()
    for i in range(500):
        uid = f"1.{i}"
        store.open_call(uid, at=db.now(), channel=f"SIP/c-{i}")
        for k in range(5):
            store.add_event(uid, "x", {"k": k})
        store.close_call(uid)
    queued = time.perf_counter() - t0
    assert store.flush(60)
    # 3500 records queued in well under a frame of work per call (the thread writes them).
    assert queued < 1.0
    assert len(active_calls(cfg.database_url)) == 0
    store.close()


def test_calls_list_and_show(cfg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = CallStore(cfg.database_url).start()
    uid = "1795335230.5"
    store.open_call(uid, at=db.now(), channel="SIP/caller-00000005", caller_num="13800138000", did="400")
    store.add_step(uid, menu="main", digit="9", outcome="invalid")
    store.add_step(uid, menu="main", digit="0", outcome="chosen", action="extension", target="operator",
                   typeahead=True)
    store.close_call(uid, hangup_by="agent", agent="SIP/agent1001", route_action="extension",
                     route_target="operator", menu_path="main:9(invalid) > main:0", ring_s=3.5)
    store.close()
    runner = CliRunner()
    src = cfg.source
    out = runner.invoke(app, ["calls", "list", "--json", "-c", str(src)])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert rows[0]["caller"] == "*******8000" and rows[0]["hangup_by"] == "agent"  # masked by default
    assert rows[0]["route"] == "extension operator"
    out = runner.invoke(app, ["calls", "show", uid, "-c", str(src)])
    assert out.exit_code == 0, out.output
    assert "main: 9 invalid" in out.stdout and "main: 0 chosen -> extension operator (typed ahead)" in out.stdout
    assert "hung up first: agent" in out.stdout
    assert "13800138000" not in out.stdout and "*******8000" in out.stdout
    with db.transaction(cfg.database_url) as s:
        add_user(s, "wu", "lead", "a long enough password")
    out = runner.invoke(app, ["calls", "show", uid, "--unmask", "--as", "wu", "--json", "-c", str(src)])
    shown = json.loads(out.stdout)
    assert shown["caller"] == "13800138000"
    with db.transaction(cfg.database_url) as s:
        seen = [(a.account, a.target) for a in s.scalars(select(AccessLog))]
        assert seen == [("wu", f"call {shown['id']} (calls show)")]  # the full view is on record
    out = runner.invoke(app, ["calls", "show", "424242", "-c", str(src)])
    assert out.exit_code == 2 and "no call" in out.output
    out = runner.invoke(app, ["calls", "list", "--since", "yesterday", "-c", str(src)])
    assert out.exit_code == 2 and "--since" in out.output


def test_asterisk_config_lines(cfg) -> None:  # type: ignore[no-untyped-def]
    parts = asterisk_snippets(cfg)
    assert "exten => _X.,1,AGI(agi:async)" in parts["extensions.conf"]
    assert "Answer()" not in parts["extensions.conf"].replace("No Answer() here", "")
    assert "[hotline]" in parts["manager.conf"] and "hotline-secret" not in parts["manager.conf"]
    assert "hotline-secret" in asterisk_snippets(cfg, show_secret=True)["manager.conf"]
    assert "[support]" in parts["queues.conf"] and "[complaints]" in parts["queues.conf"]
    assert "exten => operator,hint,SIP/agent1001" in parts["extensions.conf"]


def test_purge_keeps_rows(cfg) -> None:  # type: ignore[no-untyped-def]
    store = CallStore(cfg.database_url).start()
    uid = "1795335240.9"
    files = rec_store.tracks(cfg, uid)
    store.open_call(uid, at=db.now(), channel="SIP/c-9")
    store.add_recordings(uid, files, at=db.now())
    _write_tracks(files)
    store.close_call(uid)
    store.close()
    with db.transaction(cfg.database_url) as s:
        assert rec_store.purge(s, cfg, 1).files == 0  # too young
        for r in s.scalars(select(Recording)):
            r.created_at = db.now().replace(year=2020)
    runner = CliRunner()
    out = runner.invoke(app, ["recordings", "purge", "--days", "1", "--dry-run", "--json", "-c", str(cfg.source)])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["files"] == 3 and all(t.local_path.exists() for t in files)
    with db.transaction(cfg.database_url) as s:
        report = rec_store.purge(s, cfg, 1)
    assert report.files == 3 and report.bytes > 0
    assert not any(t.local_path.exists() for t in files)
    with db.transaction(cfg.database_url) as s:
        assert {r.status for r in s.scalars(select(Recording))} == {"purged"}
    shutil.rmtree(files[0].local_path.parent, ignore_errors=True)
