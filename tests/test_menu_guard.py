"""Edits that would hurt callers are refused (exit 2, the file byte-identical) unless forced with a reason.

Issue 16: on a live hotline `serve` reloads config.yaml within seconds, so these used to reach callers
as mere warnings: a digit the prompt still announces, a digit silently re-routed (leaving a submenu
unreachable), a fallback that loops back into the menus the caller just gave up on.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from menu_cli import run

from menus.versions import history
from settings import load_config

REFUSED = [
    # (the edit, one fragment per expected error line: the menu and digit, and the rule)
    (["option", "remove", "main", "9"], [("menu main digit 9", "announced-missing")]),
    (["option", "set", "main", "1", "queue", "support"],
     [("menu main digit 1", "replace"), ("menu orders:", "unreachable")]),
    (["option", "set", "main", "1", "queue", "support", "--replace"], [("menu orders:", "unreachable")]),
    (["option", "set", "main", "2", "queue", "complaints"], [("menu main digit 2", "replace")]),
    (["option", "remove", "main", "1"], [("menu main digit 1", "announced-missing"), ("menu orders:", "unreachable")]),
    (["set", "main", "--fallback-action", "submenu", "--fallback-target", "main"],
     [("menu main fallback", "fallback-loop")]),
    (["set", "orders", "--fallback-action", "submenu", "--fallback-target", "main"],
     [("menu orders fallback", "fallback-loop")]),
    (["set", "main", "--prompt", "查询订单请按1，售后服务请按2，投诉请按3，人工服务请按0，重听请按9，其他请按5。"],
     [("menu main digit 5", "announced-missing")]),
    (["option", "remove", "main", "9", "--dry-run"], [("menu main digit 9", "announced-missing")]),
]  # fmt: skip


@pytest.mark.parametrize(("args", "expected"), REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_harmful_edit_is_refused_and_the_file_untouched(cfg: Path, args: list[str],
                                                        expected: list[tuple[str, str]]) -> None:  # fmt: skip
    before = cfg.read_bytes()
    stamp = cfg.stat().st_mtime_ns
    code, out, err = run(cfg, "menu", *args)
    assert code == 2, out + err
    assert cfg.read_bytes() == before and cfg.stat().st_mtime_ns == stamp
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == len(expected), err  # one line per harm
    for line, (where, rule) in zip(lines, expected, strict=True):
        assert line.startswith("error: refused: ") and where in line and f"[{rule}]" in line, line
        assert "--force --message WHY" in line  # how to do it anyway
    assert history(load_config(cfg)) == []  # nothing recorded


def test_forced_edit_is_saved_with_the_reason_and_what_was_forced(cfg: Path) -> None:
    code, out, err = run(cfg, "menu", "option", "set", "main", "1", "queue", "support", "--force",
                         "-m", "order lookups move to the support queue", user="alice")  # fmt: skip
    assert code == 0, err
    assert load_config(cfg).menus["main"].options["1"].target == "support"
    last = history(load_config(cfg))[-1]
    assert last.author == "alice"
    assert last.message == ("order lookups move to the support queue "
                            "(forced: menu main digit 1 replace; menu orders unreachable)")  # fmt: skip
    assert "version 2" in out


def test_force_needs_a_message(cfg: Path) -> None:
    before = cfg.read_bytes()
    code, _out, err = run(cfg, "menu", "option", "remove", "main", "9", "--force")
    assert code == 2 and "--force needs --message" in err
    assert cfg.read_bytes() == before


def test_replace_alone_changes_a_digit_and_same_route_is_no_replacement(cfg: Path) -> None:
    code, _out, err = run(cfg, "menu", "option", "set", "main", "2", "queue", "complaints", "--replace")
    assert code == 0, err
    assert load_config(cfg).menus["main"].options["2"].target == "complaints"
    # a new category on the same route sends callers to the same place: not a replacement
    code, _out, err = run(cfg, "menu", "option", "set", "main", "3", "queue", "complaints", "--category", "投诉")
    assert code == 0, err
    assert history(load_config(cfg))[-1].message == "menu main: option 3 queue complaints -> queue complaints"


def test_a_new_menu_nobody_reaches_yet_is_not_a_harm_until_routed_to(cfg: Path) -> None:
    # billing announces 1 and * with no options: harmless while unreachable ...
    assert run(cfg, "menu", "add", "billing", "--prompt", "账单查询请按1，返回请按星号键。")[0] == 0
    before = cfg.read_bytes()
    # ... but routing callers to it would make them hear keys that do nothing.
    code, _out, err = run(cfg, "menu", "option", "set", "main", "4", "submenu", "billing")
    assert code == 2 and "menu billing digit 1" in err and "menu billing digit *" in err
    assert cfg.read_bytes() == before


def test_removing_the_entry_menu_is_refused_even_forced(cfg: Path) -> None:
    before = cfg.read_bytes()
    for extra in ([], ["--force", "-m", "start over"]):
        code, _out, err = run(cfg, "menu", "remove", "main", *extra)
        assert code == 2
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and "menu main" in lines[0] and "entry menu" in lines[0]
        assert cfg.read_bytes() == before


def test_rollback_replaces_routes_without_replace_but_guards_reachability(cfg: Path) -> None:
    assert run(cfg, "menu", "add", "billing", "--prompt", "账单查询请按1。")[0] == 0  # version 2 (1: as found)
    assert run(cfg, "menu", "option", "set", "billing", "1", "queue", "support")[0] == 0
    assert run(cfg, "menu", "option", "set", "main", "4", "submenu", "billing")[0] == 0
    assert run(cfg, "menu", "option", "set", "main", "2", "queue", "complaints", "--replace")[0] == 0
    before = cfg.read_bytes()
    # back to version 3: main 2 goes back (a replacement, fine), but billing would be cut off
    code, _out, err = run(cfg, "menu", "rollback", "3")
    assert code == 2 and "menu billing:" in err and "[unreachable]" in err
    assert cfg.read_bytes() == before
    code, _out, err = run(cfg, "menu", "rollback", "3", "--force", "-m", "billing is not ready")
    assert code == 0, err
    assert load_config(cfg).menus["main"].options["2"].target == "aftersales"
