"""workers: a live worker is never taken for dead because its heartbeat is too slow for the wait."""

from __future__ import annotations

from pathlib import Path

import pytest

from settings import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = (ROOT / "config.yaml").read_text(encoding="utf-8")


def workers(tmp_path: Path, heartbeat_s: float, stalled_after_s: float) -> Path:
    text = SHIPPED.replace("  heartbeat_s: 10 ", f"  heartbeat_s: {heartbeat_s:g} ", 1)
    text = text.replace("  stalled_after_s: 60 ", f"  stalled_after_s: {stalled_after_s:g} ", 1)
    assert text.count(f"heartbeat_s: {heartbeat_s:g} ") == 1 and f"stalled_after_s: {stalled_after_s:g} " in text
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_wait_shorter_than_two_heartbeats_is_one_line_at_its_field(tmp_path: Path) -> None:
    path = workers(tmp_path, 30, 45)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    line = next(n for n, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "stalled_after_s:" in t)
    assert str(info.value) == (f"{path}:{line}: workers.stalled_after_s: 45 is less than twice heartbeat_s (30):"
                               " a live worker's job would be taken over")


def test_two_heartbeats_in_the_wait_load(tmp_path: Path) -> None:
    cfg = load_config(workers(tmp_path, 30, 60))
    assert (cfg.workers.heartbeat_s, cfg.workers.stalled_after_s) == (30, 60)
