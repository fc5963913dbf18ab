"""`hotline transcribe` and `hotline jobs`: one-line errors, JSON shapes, draining the queue."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from audio_factory import FLAGGED_CALLS, build_call, write_corrupt, write_truncated
from qa_calls import config_file
from typer.testing import CliRunner

from accounts.users import add_user
from cli import app
from db import transaction
from ivr.tables import Call
from recordings.tables import Recording
from settings import load_config
from transcribe import jobs

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture
def cfg_file(tmp_path: Path) -> Path:
    """The shipped config with its own SQLite file."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    path = tmp_path / "config.yaml"
    path.write_text(text.replace("url: sqlite:///var/hotline.db", f"url: sqlite:///{tmp_path / 'h.db'}"), "utf-8")
    return path


def db_url(cfg_file: Path) -> str:
    return f"sqlite:///{cfg_file.parent / 'h.db'}"


def add_call(cfg_file: Path, tracks: dict[str, Path], *, enqueue: bool = True) -> int:
    with transaction(db_url(cfg_file)) as s:
        call = Call(uniqueid=f"{time.time():.6f}", channel="PJSIP/caller", status="ended")
        s.add(call)
        s.flush()
        for kind, path in tracks.items():
            s.add(Recording(call_id=call.id, kind=kind, path=str(path), status="ready"))
        if enqueue:
            jobs.enqueue_call(s, call.id)
        return call.id


def cli(*args: str) -> Any:
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def one_error_line(result: Any) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return str(lines[0])


# -- fast: errors are one line with exit status 2 ------------------------------------------


def test_a_missing_file_is_one_line_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.wav"
    result = cli("transcribe", str(missing))
    assert result.exit_code == 2
    assert one_error_line(result) == f"error: {missing}: file not found"


@pytest.mark.parametrize(
    ("make", "why"),
    [(write_corrupt, "not a RIFF/WAVE file"), (write_truncated, "truncated data chunk: header says")],
)
def test_a_broken_wav_is_one_line_naming_the_file_and_why(tmp_path: Path, make: Any, why: str) -> None:
    bad = make(tmp_path / "bad.wav")
    result = cli("transcribe", "--caller", str(bad), "--agent", str(bad))
    assert result.exit_code == 2
    assert one_error_line(result).startswith(f"error: {bad}: {why}")


@pytest.mark.parametrize(
    "args",
    [(), ("a.wav", "--pending"), ("--call", "1", "--caller", "c.wav"), ("--pending", "--call", "3")],
)
def test_exactly_one_mode_is_required(args: tuple[str, ...]) -> None:
    result = cli("transcribe", *args)
    assert result.exit_code == 2
    assert "give one of FILE, --caller/--agent, --call ID or --pending" in one_error_line(result)


def test_an_unknown_call_is_refused(cfg_file: Path) -> None:
    result = cli("transcribe", "--call", "999", "-c", str(cfg_file))
    assert result.exit_code == 2
    assert one_error_line(result).startswith("error: no call with id 999")


def test_pending_with_an_empty_queue_returns_at_once(cfg_file: Path) -> None:
    result = cli("transcribe", "--pending", "--json", "-c", str(cfg_file))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["done"] == 0


def test_jobs_list_json_and_table(cfg_file: Path, tmp_path: Path) -> None:
    first = add_call(cfg_file, {"caller": tmp_path / "a.wav"})
    second = add_call(cfg_file, {"caller": tmp_path / "b.wav"})
    with transaction(db_url(cfg_file)) as s:
        job = jobs.claim(s, "box:7")
        assert job is not None
        jobs.fail(s, job, "b.wav: not a RIFF/WAVE file", transient=False)
    listed = cli("jobs", "list", "--json", "-c", str(cfg_file))
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["call_id"], r["status"], r["attempts"]) for r in rows] == [(second, "queued", 0), (first, "failed", 1)]
    assert rows[1]["error"] == "b.wav: not a RIFF/WAVE file" and rows[1]["worker"] == "box:7"
    assert {"id", "max_attempts", "run_after", "audio_s", "elapsed_s", "qa_error"} <= set(rows[0])
    failed = json.loads(cli("jobs", "list", "--status", "failed", "--json", "-c", str(cfg_file)).stdout)
    assert [r["call_id"] for r in failed] == [first]
    table = cli("jobs", "list", "-c", str(cfg_file))
    assert table.exit_code == 0 and "1 failed, 1 queued" in table.stdout and "not a RIFF/WAVE" in table.stdout
    bad = cli("jobs", "list", "--status", "finished", "-c", str(cfg_file))
    assert bad.exit_code == 2 and "not one of queued, running, done, failed" in one_error_line(bad)
    retried = cli("jobs", "retry", str(rows[1]["id"]), "-c", str(cfg_file))
    assert retried.exit_code == 0
    again = cli("jobs", "retry", str(rows[1]["id"]), "-c", str(cfg_file))
    assert again.exit_code == 2 and "only a failed job can be retried" in one_error_line(again)


# -- slow: the real model ------------------------------------------------------------------


@pytest.fixture(scope="module")
def call_audio(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return build_call(FLAGGED_CALLS[0], tmp_path_factory.mktemp("call"), "c1", mulaw=True)


def hotline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def speaker_at(turns: Any, t: float) -> str | None:
    """Who was speaking at time t in the script (with a little slack for VAD padding)."""
    for turn in turns:
        if turn.start - 0.7 <= t <= turn.end + 0.7:
            return str(turn.speaker)
    return None


@pytest.mark.slow
def test_two_track_json_has_speakers_times_and_confidence(call_audio: Any, tmp_path: Path) -> None:
    # --unmask: word timings spell the text out again, so only the unmasked output has them (issue 13);
    # it takes an account allowed to unmask, and is logged in the config's database (test_unmask_roles.py)
    path = config_file(tmp_path)
    with transaction(load_config(path).database_url) as s:
        add_user(s, "wu", "lead", "a long enough password")
    done = hotline("transcribe", "--caller", str(call_audio.caller), "--agent", str(call_audio.agent), "--json",
                   "--unmask", "--as", "wu", "-c", str(path))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert abs(data["duration"] - call_audio.duration) < 0.01
    assert isinstance(data["needs_review"], bool)
    segs = data["segments"]
    assert segs and [s["start"] for s in segs] == sorted(s["start"] for s in segs)
    for s in segs:
        assert {"speaker", "start", "end", "text", "avg_logprob", "no_speech_prob", "words"} <= set(s)
        assert 0 <= s["start"] < s["end"] <= data["duration"] + 0.5 and s["text"]
        assert s["avg_logprob"] <= 0 and 0 <= s["no_speech_prob"] <= 1
        # Each segment carries the speaker whose track it came from, at the time they spoke.
        assert speaker_at(call_audio.turns, (s["start"] + s["end"]) / 2) == s["speaker"], s
    assert {s["speaker"] for s in segs} == {"caller", "agent"}


@pytest.mark.slow
def test_a_mono_file_has_speaker_unknown(call_audio: Any) -> None:
    done = hotline("transcribe", str(call_audio.agent), "--json")
    assert done.returncode == 0, done.stderr
    segs = json.loads(done.stdout)["segments"]
    assert segs and {s["speaker"] for s in segs} == {"unknown"}


@pytest.mark.slow
def test_pending_drains_the_queue_and_call_shows_the_stored_transcript(
    cfg_file: Path, tmp_path: Path, call_audio: Any
) -> None:
    good = add_call(cfg_file, {"caller": call_audio.caller, "agent": call_audio.agent})
    bad = add_call(cfg_file, {"mix": write_corrupt(tmp_path / "broken.wav")})

    drained = hotline("transcribe", "--pending", "--json", "-c", str(cfg_file))
    assert drained.returncode == 1, drained.stderr  # one job failed: the exit status says so
    summary = json.loads(drained.stdout)
    assert (summary["done"], summary["failed"]) == (1, 1)
    assert summary["failures"] == [f"job 2 (call {bad}) failed: {tmp_path / 'broken.wav'}: not a RIFF/WAVE file"]
    assert summary["audio_s"] == pytest.approx(call_audio.duration, abs=0.06)  # rounded to 0.1 s

    shown = hotline("transcribe", "--call", str(good), "--json", "-c", str(cfg_file))
    assert shown.returncode == 0, shown.stderr
    stored = json.loads(shown.stdout)
    assert stored["call_id"] == good and {s["speaker"] for s in stored["segments"]} == {"caller", "agent"}

    manual = add_call(cfg_file, {"caller": call_audio.caller, "agent": call_audio.agent}, enqueue=False)
    now = hotline("transcribe", "--call", str(manual), "--json", "-c", str(cfg_file))  # never queued: runs now
    assert now.returncode == 0, now.stderr
    fresh = json.loads(now.stdout)
    assert fresh["call_id"] == manual and [s["text"] for s in fresh["segments"]] == [
        s["text"] for s in stored["segments"]
    ], "same audio, same settings, same text"
    listed = json.loads(hotline("jobs", "list", "--json", "-c", str(cfg_file)).stdout)
    assert sorted((r["call_id"], r["status"]) for r in listed) == [(good, "done"), (bad, "failed"), (manual, "done")]
    # QA ran in the same job, after the transcript was saved (the flags it raised are QA's business).
    for r in listed:
        if r["status"] == "done":
            assert r["qa_error"] is None and isinstance(r["qa_flags"], int), r
