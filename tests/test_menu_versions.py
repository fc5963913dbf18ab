"""Versions: every save numbered with who/when/why; history, diff and rollback through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from menu_cli import run

from menus.versions import FOUND_CHANGED, FOUND_FIRST, history, version_text
from settings import load_config


def run_as(cfg: Path, *args: str) -> tuple[int, str, str]:
    return run(cfg, *args, user='carol')


def test_first_save_records_the_file_as_found_then_each_save(cfg: Path) -> None:
    shipped = cfg.read_text(encoding="utf-8")
    code, out, _ = run_as(cfg, "menu", "history")
    assert code == 0 and "no versions yet" in out
    assert run_as(cfg, "menu", "option", "set", "main", "4", "queue", "support")[0] == 0
    after_first = cfg.read_text(encoding="utf-8")
    assert run_as(cfg, "greeting", "set", "您好，欢迎致电海尔斯科技，请问有什么可以帮您？", "--author", "dave",
               "-m", "new wording from the policy team")[0] == 0  # fmt: skip
    cfg_model = load_config(cfg)
    rows = history(cfg_model)
    assert [r.number for r in rows] == [1, 2, 3]
    assert [r.author for r in rows] == ["carol", "carol", "dave"]  # $USER unless --author
    assert rows[0].message == FOUND_FIRST
    assert rows[1].message == "menu main: option 4 -> queue support"
    assert rows[2].message == "new wording from the policy team"
    assert rows[0].at <= rows[1].at <= rows[2].at
    assert version_text(cfg_model, 1) == shipped
    assert version_text(cfg_model, 2) == after_first
    assert version_text(cfg_model, 3) == cfg.read_text(encoding="utf-8")
    code, out, _ = run_as(cfg, "menu", "history", "--json")
    data = json.loads(out)
    assert [(d["version"], d["author"]) for d in data] == [(1, "carol"), (2, "carol"), (3, "dave")]


def test_a_hand_edit_between_saves_is_kept_as_its_own_version(cfg: Path) -> None:
    assert run_as(cfg, "menu", "option", "set", "main", "4", "hangup")[0] == 0
    text = cfg.read_text(encoding="utf-8").replace("    timeout: 5\n", "    timeout: 6\n", 1)
    cfg.write_text(text, encoding="utf-8")  # an admin with an editor
    assert run_as(cfg, "menu", "option", "remove", "main", "4")[0] == 0
    rows = history(load_config(cfg))
    assert [r.message for r in rows][1:] == ["menu main: option 4 -> hangup", FOUND_CHANGED,
                                             "menu main: remove option 4 (hangup)"]  # fmt: skip
    assert version_text(load_config(cfg), 3) == text


def test_diff_shows_the_menu_sections_or_the_whole_file(cfg: Path) -> None:
    assert run_as(cfg, "menu", "option", "set", "orders", "2", "queue", "complaints", "--replace")[0] == 0
    code, out, _ = run_as(cfg, "menu", "diff", "1", "2")
    assert code == 0
    assert "-      '2': {action: extension, target: operator}" in out
    assert "+      '2': {action: queue, target: complaints}" in out
    assert "--- version 1" in out and "+++ version 2" in out
    assert "# Speech recognition" not in out  # only the menu sections ...
    code, out, _ = run_as(cfg, "menu", "diff", "1", "2", "--full", "--config", str(cfg))
    assert "+      '2': {action: queue, target: complaints}" in out
    code, out, _ = run_as(cfg, "menu", "diff", "2")  # against the file as it is now
    assert "no differences" in out
    code, _out, err = run_as(cfg, "menu", "diff", "1", "9")
    assert code == 2 and "version 9" in err


def test_diff_full_sees_changes_outside_the_menus(cfg: Path) -> None:
    assert run_as(cfg, "menu", "option", "set", "main", "4", "hangup")[0] == 0
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("retention_days: 180", "retention_days: 90"),
                   encoding="utf-8")  # fmt: skip
    assert run_as(cfg, "menu", "option", "remove", "main", "4")[0] == 0
    _, out, _ = run_as(cfg, "menu", "diff", "2", "3")
    assert "no differences in the menu sections" in out
    _, out, _ = run_as(cfg, "menu", "diff", "2", "3", "--full")
    assert "+  retention_days: 90" in out


def test_rollback_is_a_new_version_and_restores_the_bytes(cfg: Path) -> None:
    shipped = cfg.read_bytes()
    assert run_as(cfg, "menu", "option", "set", "main", "4", "queue", "support")[0] == 0
    assert run_as(cfg, "menu", "add", "billing", "--prompt", "账单请按1。")[0] == 0
    code, out, err = run_as(cfg, "menu", "rollback", "1", "--dry-run")
    assert code == 0 and "-  billing:" in out and len(history(load_config(cfg))) == 3
    code, out, err = run_as(cfg, "menu", "rollback", "1")
    assert code == 0, err
    assert cfg.read_bytes() == shipped
    rows = history(load_config(cfg))
    assert [r.number for r in rows] == [1, 2, 3, 4]
    assert rows[-1].message == "rollback to version 1"
    assert rows[-1].sha256 == rows[0].sha256
    code, _out, err = run_as(cfg, "menu", "rollback", "1")
    assert code == 2 and "already holds it" in err
    assert run_as(cfg, "menu", "rollback", "3")[0] == 0  # and forward again
    assert "billing" in load_config(cfg).menus


def test_rollback_to_a_broken_version_is_refused(cfg: Path) -> None:
    # A hand edit breaks the file; the next CLI edit repairs it, so the broken text is a version.
    broken = cfg.read_text(encoding="utf-8").replace("'3': {action: queue, target: complaints}",
                                                     "'3': {action: queue, target: complain}")  # fmt: skip
    cfg.write_text(broken, encoding="utf-8")
    assert run_as(cfg, "menu", "lint")[0] == 2
    code, _out, err = run_as(cfg, "menu", "option", "set", "main", "3", "queue", "complaints")
    assert code == 0, err
    rows = history(load_config(cfg))
    assert rows[0].message == FOUND_FIRST and version_text(load_config(cfg), 1) == broken
    before = cfg.read_bytes()
    code, _out, err = run_as(cfg, "menu", "rollback", "1")
    assert code == 2
    assert "menu main digit 3" in err and "complain" in err
    assert cfg.read_bytes() == before
    assert len(history(load_config(cfg))) == 2
    code, _out, err = run_as(cfg, "menu", "rollback", "7")
    assert code == 2 and "no such version" in err
