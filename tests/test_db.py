"""The schema: migrations create it (SQLite or PostgreSQL), and every model round-trips."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

import db
from ivr.tables import Call, CallEvent, MenuStep
from menus.tables import MenuVersion
from qa.tables import Flag, Review
from recordings.tables import Recording
from transcribe.tables import Job, Segment, Transcript


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/hotline.db"


def test_migrations_create_every_table_at_head(url: str) -> None:
    engine = db.engine_for(url)
    assert {"calls", "menu_steps", "call_events", "menu_versions", "recordings", "jobs", "transcripts",
            "segments", "flags", "reviews", "alembic_version"} <= set(inspect(engine).get_table_names())
    head = ScriptDirectory.from_config(db.alembic_config(url)).get_current_head()
    with engine.connect() as con:
        assert con.execute(text("select version_num from alembic_version")).scalar_one() == head


@pytest.mark.sqlite_only(reason="WAL is a property of the SQLite file")
def test_sqlite_file_runs_in_wal_mode(url: str, tmp_path: Path) -> None:
    db.engine_for(url)
    con = sqlite3.connect(tmp_path / "hotline.db")
    assert con.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_models_round_trip(url: str) -> None:
    t0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    with db.transaction(url) as s:
        call = Call(uniqueid="1795335220.0", channel="SIP/caller-00000000", caller_num="5551230001",
                    caller_name="测试", did="400", started_at=t0, answered_at=t0, hangup_by="agent", ring_s=6.01)
        call.steps.append(MenuStep(seq=1, menu="main", prompt="请按1", digit="2", outcome="chosen",
                                   action="queue", target="support", at=t0))
        call.events.append(CallEvent(kind="agent_answered", data={"ring_s": 6.01}, at=t0))
        s.add(call)
        s.flush()
        s.add(Recording(call_id=call.id, kind="agent", path="/x/1-tx.wav", status="ready", duration_s=9.94))
        job = Job(call_id=call.id)
        s.add(job)
        s.flush()
        tr = Transcript(call_id=call.id, job_id=job.id, model="whisper-base", duration_s=9.94)
        tr.segments.append(Segment(seq=0, speaker="agent", start_s=0.5, end_s=2.0, text="我不能", words=[["我", 0.5]]))
        s.add(tr)
        s.flush()
        flag = Flag(call_id=call.id, segment_id=tr.segments[0].id, fingerprint="f1", rule_id="forbidden.x",
                    category="forbidden", severity="high", speaker="agent", offset_s=0.5, matched="我不能")
        flag.reviews.append(Review(reviewer="qa1", decision="confirmed", note="确认"))
        s.add(flag)
        s.add(MenuVersion(author="admin", message="first", config_text="company: x", sha256="0" * 64))
    with db.transaction(url) as s:
        call = s.scalars(select(Call)).one()
        assert call.started_at == t0 and call.started_at.tzinfo is not None
        assert [st.digit for st in call.steps] == ["2"]
        assert call.events[0].data == {"ring_s": 6.01}
        assert s.scalars(select(Recording)).one().kind == "agent"
        assert s.scalars(select(Job)).one().status == "queued"
        seg = s.scalars(select(Segment)).one()
        assert (seg.text, seg.words) == ("我不能", [["我", 0.5]])
        flag = s.scalars(select(Flag)).one()
        assert flag.status == "new" and flag.reviews[0].note == "确认"
        assert s.scalars(select(MenuVersion)).one().id == 1


def test_naive_datetimes_are_refused(url: str) -> None:
    with pytest.raises(Exception, match="naive datetime"), db.transaction(url) as s:
        s.add(Call(uniqueid="1", channel="SIP/x", started_at=datetime(2026, 1, 1)))


def test_flag_fingerprint_is_unique(url: str) -> None:
    with db.transaction(url) as s:
        call = Call(uniqueid="2", channel="SIP/y", started_at=db.now() - timedelta(seconds=1))
        s.add(call)
        s.flush()
        cid = call.id
    with pytest.raises(IntegrityError), db.transaction(url) as s:
        for _ in range(2):
            s.add(Flag(call_id=cid, fingerprint="same", rule_id="r", category="forbidden", severity="low"))


def test_a_child_process_opening_a_database_notes_the_test_module(url: str, tmp_path: Path) -> None:
    """./dev.sh reruns on PostgreSQL the modules that opened a database, `hotline` children included."""
    log = tmp_path / "db.log"
    env = {**os.environ, "HOTLINE_TEST_DB_LOG": str(log), "PYTHONPATH": str(Path(db.__file__).parent)}
    subprocess.run([sys.executable, "-c", f"import db; db.engine_for({url!r})"], env=env, check=True, timeout=120)
    assert set(log.read_text(encoding="utf-8").split()) == {"tests/test_db.py"}
