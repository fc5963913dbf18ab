"""recording.original_retention_days: `hotline recordings purge` deletes the originals of tracks that have a
redacted copy once they are that old; the copies, the transcript and tracks without a copy stay. Real SQLite,
real WAV files, the real CLI."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
from qa_calls import add_call, config_file
from sqlalchemy import select, update
from typer.testing import CliRunner

import db
from cli import app
from ivr.tables import CallEvent
from recordings.audio import write_wav
from recordings.redacted import redacted_path, register, write_redacted
from recordings.tables import Recording
from settings import load_config
from transcribe.tables import Transcript


def test_originals_go_after_their_own_period_and_the_redacted_copies_stay(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    text = path.read_text(encoding="utf-8").replace("  retention_days: 180\n",
                                                    "  retention_days: 180\n  original_retention_days: 30\n")
    path.write_text(text, encoding="utf-8")
    cfg = load_config(path)
    assert cfg.recording.original_retention_days == 30
    files: dict[str, dict[str, Path]] = {}
    with db.transaction(cfg.database_url) as s:
        ids = {}
        for case in ("redacted", "not-redacted", "held"):
            call = add_call(s)
            ids[case] = call.id
            files[case] = {}
            for kind in ("caller", "agent"):
                original = write_wav(tmp_path / f"{case}-{kind}.wav", np.full(8000, 500, np.int16))
                s.add(Recording(call_id=call.id, kind=kind, path=str(original), status="ready"))
                files[case][kind] = original
                if case != "not-redacted":
                    write_redacted(original, redacted_path(original), [(0.2, 0.4)])
                    register(s, call.id, f"{kind}-r", redacted_path(original))
        s.add(CallEvent(call_id=ids["held"], kind="legal_hold", at=db.now(), data={"by": "legal"}))
        s.flush()
        s.execute(update(Recording).values(created_at=db.now() - timedelta(days=40)))

    def purge(*args: str) -> dict:  # type: ignore[type-arg]
        out = CliRunner().invoke(app, ["--config", str(path), "recordings", "purge", "--json", *args])
        assert out.exit_code == 0, out.output
        return json.loads(out.output)

    dry = purge()
    assert dry["original_days"] == 30 and dry["files"] == 2 and all(p.exists() for f in files.values()
                                                                    for p in f.values())
    done = purge("--yes")
    assert (done["files"], done["rows"]) == (2, 2)
    assert {(i["call"], i["kind"], i["kept"]) for i in done["items"]} == {
        (ids["redacted"], "caller", None), (ids["redacted"], "agent", None),
        (ids["held"], "caller", "legal hold"), (ids["held"], "agent", "legal hold")}
    assert not files["redacted"]["caller"].exists() and not files["redacted"]["agent"].exists()
    assert all(redacted_path(p).exists() for case in ("redacted", "held") for p in files[case].values())
    assert all(p.exists() for case in ("not-redacted", "held") for p in files[case].values())
    with db.transaction(cfg.database_url) as s:
        rows = {(r.call_id, r.kind): r.status for r in s.scalars(select(Recording))}
        assert s.scalar(select(Transcript.id).where(Transcript.call_id == ids["redacted"])) is not None
    assert rows[(ids["redacted"], "caller")] == rows[(ids["redacted"], "agent")] == "purged"
    assert rows[(ids["redacted"], "caller-r")] == rows[(ids["redacted"], "agent-r")] == "ready"
    assert rows[(ids["not-redacted"], "caller")] == "ready"  # no copy: the original is all there is
