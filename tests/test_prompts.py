"""Prompt rendering with the real espeak-ng and sox: phone-format WAVs, staleness, admin files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from menus.prompts import playback_name, prompt_status, prompt_texts, render_prompts
from recordings.audio import probe_wav, read_pcm16, write_wav
from settings import load_config

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


@pytest.fixture()
def cfg_path(tmp_path: Path) -> Path:
    dest = tmp_path / "config.yaml"
    shutil.copyfile(ROOT / "config.yaml", dest)
    return dest


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_names_cover_greeting_menus_and_fixed_prompts(cfg_path: Path) -> None:
    cfg = load_config(cfg_path)
    texts = prompt_texts(cfg)
    assert list(texts) == ["greeting", "menu-main", "menu-after_hours", "menu-orders", "invalid", "timeout", "goodbye",
                           "transfer", "retry"]
    assert texts["greeting"] == cfg.opening_line
    assert texts["menu-orders"] == cfg.menus["orders"].prompt
    assert texts["goodbye"] == cfg.prompts.goodbye
    assert playback_name(cfg, "menu-main") == "custom/menu-main"


def test_render_writes_phone_format_wavs_then_skips_unchanged(cfg_path: Path) -> None:
    cfg = load_config(cfg_path)
    assert {p.status for p in prompt_status(cfg)} == {"missing"}
    first = render_prompts(cfg)
    assert [p.status for p in first] == ["rendered"] * 9
    for item in first:
        assert item.file.parent == cfg_path.parent / "var" / "sounds"
        info = probe_wav(item.file)
        assert info.is_phone_format, item.name  # 8 kHz, mono, 16-bit PCM
        assert info.duration > 0.8, item.name  # real speech, not a placeholder
        assert np.abs(read_pcm16(item.file)).max() > 1000
    stamps = {p.name: p.file.stat().st_mtime_ns for p in first}
    again = render_prompts(cfg)
    assert [p.status for p in again] == ["ok"] * 9
    assert {p.name: p.file.stat().st_mtime_ns for p in again} == stamps  # nothing re-rendered
    forced = render_prompts(cfg, force=True)
    assert [p.status for p in forced] == ["rendered"] * 9


def test_changed_text_is_stale_and_only_it_is_rerendered(cfg_path: Path) -> None:
    render_prompts(load_config(cfg_path))
    before = (cfg_path.parent / "var/sounds/menu-orders.wav").read_bytes()
    _edit(cfg_path, "修改订单请按2", "修改或取消订单请按2")
    cfg = load_config(cfg_path)
    status = {p.name: p.status for p in prompt_status(cfg)}
    assert status["menu-orders"] == "stale"
    assert {s for n, s in status.items() if n != "menu-orders"} == {"ok"}
    done = {p.name: p.status for p in render_prompts(cfg)}
    assert done["menu-orders"] == "rendered"
    assert (cfg_path.parent / "var/sounds/menu-orders.wav").read_bytes() != before
    assert {p.status for p in prompt_status(cfg)} == {"ok"}


def test_greeting_change_is_stale(cfg_path: Path) -> None:
    render_prompts(load_config(cfg_path))
    _edit(cfg_path, "opening_line: 您好，这里是海尔斯科技", "opening_line: 你好，这里是海尔斯科技")
    status = {p.name: p.status for p in prompt_status(load_config(cfg_path))}
    assert status["greeting"] == "stale"


def test_admin_recording_wins_and_is_converted(cfg_path: Path) -> None:
    # A 16 kHz stereo recording: not what Asterisk wants, so it must be converted.
    t = np.arange(16000) / 16000
    tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
    write_wav(cfg_path.parent / "main-prompt.wav", np.stack([tone, tone], axis=1), 16000)
    _edit(cfg_path, "  main:\n    prompt:", "  main:\n    prompt_file: main-prompt.wav\n    prompt:")
    cfg = load_config(cfg_path)
    done = {p.name: p for p in render_prompts(cfg)}
    main = done["menu-main"]
    assert (main.status, main.source) == ("rendered", "admin file")
    info = probe_wav(main.file)
    assert info.is_phone_format
    assert abs(info.duration - 1.0) < 0.01  # the admin's audio, not a synthesized prompt
    assert {p.name: p.status for p in prompt_status(cfg)}["menu-main"] == "ok"
    # A new recording makes it stale even though the prompt text did not change.
    write_wav(cfg_path.parent / "main-prompt.wav", tone[:8000], 16000)
    assert {p.name: p.status for p in prompt_status(cfg)}["menu-main"] == "stale"


def test_admin_file_in_phone_format_is_copied_byte_for_byte(cfg_path: Path) -> None:
    pcm = (np.sin(np.arange(8000) / 5) * 5000).astype(np.int16)
    src = write_wav(cfg_path.parent / "orders.wav", pcm, 8000)
    _edit(cfg_path, "  orders:\n    prompt:", "  orders:\n    prompt_file: orders.wav\n    prompt:")
    done = {p.name: p for p in render_prompts(load_config(cfg_path))}
    assert done["menu-orders"].file.read_bytes() == src.read_bytes()


def test_missing_or_broken_admin_file_is_an_error_line_not_a_crash(cfg_path: Path) -> None:
    _edit(cfg_path, "  main:\n    prompt:", "  main:\n    prompt_file: nowhere.wav\n    prompt:")
    cfg = load_config(cfg_path)
    status = {p.name: p for p in prompt_status(cfg)}
    assert status["menu-main"].status == "missing"
    assert "nowhere.wav" in status["menu-main"].detail
    done = {p.name: p for p in render_prompts(cfg)}
    assert done["menu-main"].status == "error"
    assert done["greeting"].status == "rendered"  # the others still rendered
    (cfg_path.parent / "nowhere.wav").write_bytes(b"this is not audio")
    done = {p.name: p for p in render_prompts(cfg)}
    assert done["menu-main"].status == "error"
    assert "nowhere.wav" in done["menu-main"].detail
    assert not (cfg_path.parent / "var/sounds/menu-main.wav").exists()


def test_prompts_command_renders_then_reports(cfg_path: Path) -> None:
    import json

    import typer
    from typer.testing import CliRunner

    from menus.commands import menu_app

    app = typer.Typer()
    app.add_typer(menu_app, name="menu")
    runner = CliRunner()
    res = runner.invoke(app, ["menu", "prompts", "--check", "--json", "-c", str(cfg_path)])
    assert res.exit_code == 1  # missing prompts are a failure for scripts
    assert {d["status"] for d in json.loads(res.stdout)} == {"missing"}
    res = runner.invoke(app, ["menu", "prompts", "--json", "-c", str(cfg_path)])
    assert res.exit_code == 0, res.stderr
    rows = json.loads(res.stdout)
    assert [(d["name"], d["status"]) for d in rows][:2] == [("greeting", "rendered"), ("menu-main", "rendered")]
    assert rows[1]["playback"] == "custom/menu-main"
    assert rows[0]["text"] == load_config(cfg_path).opening_line
    res = runner.invoke(app, ["menu", "prompts", "-c", str(cfg_path)])
    assert res.exit_code == 0
    assert "greeting" in res.stdout and "ok" in res.stdout
    assert not {"missing", "stale", "rendered", "error"} & set(res.stdout.split())
    # The admin changes a prompt with the CLI: that prompt alone is stale, then rendered again.
    res = runner.invoke(app, ["menu", "set", "orders", "--prompt", "查询订单请按1，修改订单请按2，返回请按星号键。",
                              "-c", str(cfg_path)])  # fmt: skip
    assert res.exit_code == 0, res.stderr
    res = runner.invoke(app, ["menu", "prompts", "--check", "--json", "-c", str(cfg_path)])
    assert res.exit_code == 1
    assert [d["name"] for d in json.loads(res.stdout) if d["status"] == "stale"] == ["menu-orders"]
    res = runner.invoke(app, ["menu", "prompts", "--json", "-c", str(cfg_path)])
    assert [d["name"] for d in json.loads(res.stdout) if d["status"] == "rendered"] == ["menu-orders"]
