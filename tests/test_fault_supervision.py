"""Supervision: `serve` refuses to start without a loadable model, the transcription pool is
started again after it dies, and `hotline status` / /metrics show the running service.

Real CLI, real simulator over TCP, a real HTTP scrape of /metrics. No model is needed: the
model failures are real (a folder with no model in it)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from ivr_env import rendered_sounds, run_env
from typer.testing import CliRunner

from app.commands import _report_status
from app.demo import DemoEnv, prompt_seconds
from cli import app
from ivr.service import wait_for
from pbx.simulator import CallScript, Press
from settings import load_config
from transcribe.pool_handle import PoolHandle, check_model
from transcribe.worker import PoolError

ROOT = Path(__file__).resolve().parent.parent


def _config(tmp_path: Path, extra: str = "") -> Path:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("url: sqlite:///var/hotline.db", f"url: sqlite:///{tmp_path}/hotline.db")
    path = tmp_path / "config.yaml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def _no_model(tmp_path: Path) -> Path:
    (tmp_path / "empty-model").mkdir()
    text = _config(tmp_path).read_text(encoding="utf-8")
    text, n = re.subn(r"(?m)^  model_dir:.*$", f"  model_dir: {tmp_path / 'empty-model'}", text, count=1)
    assert n == 1
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "config.yaml"


def test_serve_refuses_to_start_when_the_model_cannot_load(tmp_path: Path) -> None:
    path = _no_model(tmp_path)
    with pytest.raises(PoolError) as info:
        check_model(load_config(path))
    assert "\n" not in str(info.value)
    out = CliRunner().invoke(app, ["serve", "-c", str(path)])
    assert out.exit_code == 1
    lines = [ln for ln in out.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: serve:") and "--no-transcribe" in lines[0], out.output


def test_a_dead_pool_is_started_again_with_backoff(tmp_path: Path) -> None:
    cfg = load_config(_no_model(tmp_path))
    handle = PoolHandle(cfg, workers=1, restart_s=(0.2, 0.4))
    try:
        assert _wait(lambda: handle.restarts >= 3, 30)
        health = handle.health()
        assert health["running"] and health["ready"] == 0 and "\n" not in (health["last_error"] or "")
        assert health["last_error"]
    finally:
        handle.stop(10)
    assert not handle.running


def _wait(cond: Any, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    return rendered_sounds(tmp_path_factory.mktemp("sounds"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_status_and_metrics_of_a_running_service(tmp_path: Path, sounds: Path) -> None:
    port = _free_port()
    runner = CliRunner()

    async def body(env: DemoEnv) -> dict[str, Any]:
        reporter = asyncio.create_task(_report_status(env.config, env.service, None, port))
        g = prompt_seconds(env.config)["greeting"]
        # one call ends (its transcription job waits: no pool here), one is still in the menu
        await env.call(CallScript("a", caller_num="601", presses=(Press(g + 1, "8"),), hangs_up_at=g + 2,
                                  agent=None))
        env.sim.place_call(CallScript("b", caller_num="602", hangs_up_at=600.0, agent=None))
        assert await wait_for(lambda: len(env.service.sessions) == 1, 10)
        await asyncio.sleep(2.5)  # a status write after the second call started
        out = await asyncio.to_thread(runner.invoke, app, ["status", "--json", "-c", str(env.config.source)])
        text = await asyncio.to_thread(runner.invoke, app, ["status", "-c", str(env.config.source)])
        metrics = await asyncio.to_thread(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode())
        reporter.cancel()
        return {"json": out, "text": text, "metrics": metrics}

    got = run_env(tmp_path, sounds, body, speed=10.0)
    assert got["json"].exit_code == 0, got["json"].output
    st = json.loads(got["json"].stdout)
    assert st["serving"] and st["serve"]["ami"]["connected"] is True
    assert st["serve"]["calls"] == {"in_progress": 1, "finished": 1}
    assert st["queue"]["depth"] == 1 and st["queue"]["oldest_pending_s"] >= 0
    assert st["serve"]["workers"] is None and st["serve"]["store"]["backlog"] == 0
    assert "running" in got["text"].stdout and "1 in progress" in got["text"].stdout
    m = got["metrics"]
    assert "hotline_ami_connected 1.0" in m and "hotline_calls_in_progress 1.0" in m
    assert "hotline_calls_total 1.0" in m and "hotline_jobs_pending 1.0" in m
    assert "hotline_ami_reconnects_total 0.0" in m and "hotline_job_failures_total 0.0" in m
    # serve is gone: its status file goes stale and `status` says so (exit 1)
    time.sleep(7)
    out = runner.invoke(app, ["status", "-c", str(tmp_path / "config.yaml")])
    assert out.exit_code == 1 and "not running" in out.stdout


def test_status_with_no_serve_ever(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["status", "--json", "-c", str(_config(tmp_path))])
    assert out.exit_code == 1
    st = json.loads(out.stdout)
    assert st["serve"] is None and not st["serving"] and st["queue"]["depth"] == 0
