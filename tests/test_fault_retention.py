"""Retention that keeps what is still needed: `hotline recordings purge` deletes only with
--yes, and never a recording with an unreviewed or confirmed flag, an unfinished
transcription or a legal hold. Real SQLite, real WAV files, the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

import db
from cli import app
from ivr.callstore import CallStore
from ivr.tables import Call
from qa.tables import Flag
from recordings import store as rec_store
from recordings.audio import write_wav
from recordings.tables import Recording
from settings import load_config
from transcribe.jobs import enqueue_call
from transcribe.tables import Job

ROOT = Path(__file__).resolve().parent.parent
CASES = ["plain", "unreviewed", "confirmed", "dismissed", "queued", "failed", "done", "held", "released"]


@pytest.fixture()
def cfg(tmp_path: Path):  # type: ignore[no-untyped-def]
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("url: sqlite:///var/hotline.db", f"url: sqlite:///{tmp_path}/hotline.db")
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def _calls(cfg) -> dict[str, list[rec_store.Track]]:  # type: ignore[no-untyped-def]
    """One old call per case, each with its three recording files on disk."""
    store = CallStore(cfg.database_url).start()
    files = {}
    for i, case in enumerate(CASES):
        uid = f"1700000000.{i}"
        files[case] = rec_store.tracks(cfg, uid)
        store.open_call(uid, at=db.now(), channel=f"SIP/c-{i}")
        store.add_recordings(uid, files[case], at=db.now())
        for t in files[case]:
            t.local_path.parent.mkdir(parents=True, exist_ok=True)
            write_wav(t.local_path, np.zeros(800, dtype=np.int16))
        store.close_call(uid)
    store.close()
    with db.transaction(cfg.database_url) as s:
        s.execute(update(Recording).values(created_at=db.now().replace(year=2020)))
        ids = {case: s.scalar(select(Call.id).where(Call.uniqueid == f"1700000000.{i}"))
               for i, case in enumerate(CASES)}
        for case, status in (("unreviewed", "new"), ("confirmed", "confirmed"), ("dismissed", "dismissed")):
            s.add(Flag(call_id=ids[case], fingerprint=case, rule_id="r", category="c", severity="high",
                       status=status))
        for case in ("queued", "failed", "done"):
            enqueue_call(s, ids[case])
            s.execute(update(Job).where(Job.call_id == ids[case]).values(status=case))
    return files


def _run(cfg, *args: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    out = CliRunner().invoke(app, ["recordings", *args, "-c", str(cfg.source)])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout) if "--json" in args else {"text": out.stdout}


def test_purge_keeps_what_is_still_needed_and_deletes_only_with_yes(cfg) -> None:  # type: ignore[no-untyped-def]
    files = _calls(cfg)
    _run(cfg, "hold", "1700000000.7", "--reason", "case 42")
    _run(cfg, "hold", "1700000000.8")
    _run(cfg, "hold", "1700000000.8", "--release")

    shown = _run(cfg, "purge", "--days", "30", "--json")  # no --yes: a dry run
    assert shown["dry_run"] and shown["files"] == 3 * 4  # plain, dismissed, done, released
    kept = {i["path"]: i["kept"] for i in shown["items"] if i["kept"]}
    assert kept[str(files["unreviewed"][0].local_path)] == "unreviewed flag"
    assert kept[str(files["confirmed"][0].local_path)] == "confirmed flag (evidence)"
    assert kept[str(files["queued"][0].local_path)] == "transcription queued"
    assert kept[str(files["failed"][0].local_path)] == "transcription failed"
    assert kept[str(files["held"][0].local_path)] == "legal hold"
    assert all(t.local_path.exists() for ts in files.values() for t in ts)  # nothing deleted

    table = _run(cfg, "purge", "--days", "30")["text"]
    assert "would delete 12 file(s)" in table and "--yes" in table and "legal hold" in table

    done = _run(cfg, "purge", "--days", "30", "--yes", "--json")
    assert not done["dry_run"] and done["files"] == 12 and done["kept"] == 3 * 5
    for case, ts in files.items():
        gone = case in ("plain", "dismissed", "done", "released")
        assert all(t.local_path.exists() != gone for t in ts), case
    with db.transaction(cfg.database_url) as s:
        assert sum(1 for r in s.scalars(select(Recording)) if r.status == "purged") == 12

    # The hold released, the confirmed flag's evidence still stays.
    _run(cfg, "hold", "1700000000.7", "--release")
    again = _run(cfg, "purge", "--days", "30", "--yes", "--json")
    assert again["files"] == 3 and not any(t.local_path.exists() for t in files["held"])
    assert all(t.local_path.exists() for t in files["confirmed"])


def test_hold_errors_are_one_line(cfg) -> None:  # type: ignore[no-untyped-def]
    _calls(cfg)
    runner = CliRunner()
    out = runner.invoke(app, ["recordings", "hold", "424242", "-c", str(cfg.source)])
    assert out.exit_code == 2 and "no call" in out.output and out.output.strip().count("\n") == 0
    out = runner.invoke(app, ["recordings", "hold", "1700000000.0", "--release", "-c", str(cfg.source)])
    assert out.exit_code == 2 and "not on legal hold" in out.output
    out = runner.invoke(app, ["recordings", "purge", "--yes", "--dry-run", "-c", str(cfg.source)])
    assert out.exit_code == 2
