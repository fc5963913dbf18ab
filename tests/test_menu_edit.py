"""`hotline menu ...` edits on a copy of the shipped config.yaml: diff, atomic write, comments kept, refusals."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from menu_cli import ROOT, run

from menus import edit as me
from menus.configfile import ConcurrentEdit, unified_diff
from menus.versions import commit, history
from settings import load_config


def comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#") or " # " in line]


def added_removed(before: str, after: str) -> tuple[list[str], list[str]]:
    diff = unified_diff(before, after, "a", "b", 0).splitlines()[2:]
    return ([d[1:] for d in diff if d.startswith("+")], [d[1:] for d in diff if d.startswith("-")])


def test_option_set_adds_one_line_and_keeps_everything_else(cfg: Path) -> None:
    before = cfg.read_text(encoding="utf-8")
    code, out, err = run(cfg, "menu", "option", "set", "main", "4", "queue", "support", "--category", "产品问题")
    assert code == 0, err
    after = cfg.read_text(encoding="utf-8")
    added, removed = added_removed(before, after)
    assert added == ["      '4': {action: queue, target: support, category: 产品问题}"]
    assert removed == []
    assert comments(after) == comments(before)  # every comment, in order, including end-of-line ones
    assert "+      '4': {action: queue, target: support, category: 产品问题}" in out  # the diff was shown
    assert "version 2" in out
    route = load_config(cfg).menus["main"].options["4"]
    assert (route.action, route.target, route.category) == ("queue", "support", "产品问题")


def test_option_set_changes_a_digit_in_place(cfg: Path) -> None:
    before = cfg.read_text(encoding="utf-8")
    code, _out, err = run(cfg, "menu", "option", "set", "orders", "2", "extension", "aftersales", "--replace")
    assert code == 0, err
    added, removed = added_removed(before, cfg.read_text(encoding="utf-8"))
    assert removed == ["      '2': {action: extension, target: operator}"]
    assert added == ["      '2': {action: extension, target: aftersales}"]
    assert list(load_config(cfg).menus["orders"].options) == ["1", "2", "*"]  # order kept


# Their database part (no version recorded) is test_menu_guard's refusals on PostgreSQL, which check the same.
@pytest.mark.covered_on_postgres_by("tests/test_menu_guard.py", reason="a refused edit records no version; so there")
@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["option", "set", "main", "5", "queue", "nowhere"], ["menu main digit 5", "nowhere"]),
        (["option", "set", "main", "5", "submenu", "billing"], ["menu main digit 5", "billing"]),
        (["option", "set", "main", "5", "extension", "ghost"], ["menu main digit 5", "ghost"]),
        (["option", "set", "main", "x", "hangup"], ["menu main digit x"]),
        (["option", "set", "main", "5", "queue"], ["needs a target"]),
        (["option", "set", "main", "5", "hangup", "support"], ["takes no target"]),
        (["option", "set", "ghost", "1", "hangup"], ["menu ghost", "no such menu"]),
        (["option", "remove", "main", "7"], ["menu main digit 7", "no such option"]),
        (["set", "orders", "--timeout", "45"], ["menu orders", "timeout"]),
        (["set", "orders", "--retries", "9"], ["menu orders", "retries"]),
        (["set", "orders", "--prompt", "  "], ["menu orders", "no prompt"]),
        (["set", "orders", "--fallback-action", "queue", "--fallback-target", "nope"], ["menu orders fallback"]),
        (["add", "main", "--prompt", "x"], ["menu main", "already exists"]),
        (["add", "bad id", "--prompt", "x"], ["menu bad id"]),
        (["remove", "main"], ["menu main", "entry menu"]),
    ],
)
def test_refused_edit_leaves_the_file_byte_identical(cfg: Path, args: list[str], names: list[str]) -> None:
    before = cfg.read_bytes()
    stamp = cfg.stat().st_mtime_ns
    code, _out, err = run(cfg, "menu", *args)
    assert code == 2
    assert cfg.read_bytes() == before
    assert cfg.stat().st_mtime_ns == stamp
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err  # one line naming the menu and digit
    for name in names:
        assert name in lines[0]
    assert history(load_config(cfg)) == []  # nothing recorded either


@pytest.mark.covered_on_postgres_by("tests/test_menu_guard.py", reason="forced edits saved, a refusal not: as there")
def test_orders_loop_refusal_names_both_menus(cfg: Path) -> None:
    # orders' exits all lead back to main; making main route everything into orders traps callers.
    assert run(cfg, "menu", "option", "set", "orders", "1", "submenu", "main", "--replace")[0] == 0
    assert run(cfg, "menu", "option", "set", "orders", "2", "submenu", "main", "--replace")[0] == 0
    code, _out, err = run(cfg, "menu", "set", "orders", "--fallback-action", "submenu", "--fallback-target", "main",
                          "--force", "-m", "back to the top")  # fmt: skip
    assert code == 0, err  # a fallback loop, forced: still a way out, main has queue/extension exits
    before = cfg.read_bytes()
    for digit in ("2", "3", "0"):
        assert run(cfg, "menu", "option", "set", "main", digit, "submenu", "orders", "--replace")[0] == 0
    code, _out, err = run(cfg, "menu", "set", "main", "--fallback-action", "submenu", "--fallback-target", "orders",
                          "--force", "-m", "try")  # fmt: skip
    assert code == 2
    assert "menu main" in err and "no way out" in err and "main, orders" in err
    assert cfg.read_bytes() != before  # the earlier good edits were saved ...
    assert load_config(cfg).menus["main"].fallback.action == "queue"  # ... the trap was not


def test_option_remove(cfg: Path) -> None:
    before = cfg.read_text(encoding="utf-8")
    code, _out, err = run(cfg, "menu", "option", "remove", "main", "9", "--force", "-m", "nobody uses repeat")
    assert code == 0, err
    added, removed = added_removed(before, cfg.read_text(encoding="utf-8"))
    assert (added, removed) == ([], ["      '9': {action: repeat}"])
    # the prompt still says 9: forced past, and the version says so beside the reason
    assert history(load_config(cfg))[-1].message == "nobody uses repeat (forced: menu main digit 9 announced-missing)"
    assert "press 9" in err


def test_removing_the_last_option_keeps_the_comment_after_it(cfg: Path) -> None:
    before = cfg.read_text(encoding="utf-8")
    assert run(cfg, "menu", "option", "remove", "orders", "*", "--force", "-m", "no way back")[0] == 0
    after = cfg.read_text(encoding="utf-8")
    assert comments(after) == comments(before)
    assert "      '2': {action: extension, target: operator}\n\n# Speech recognition" in after


def test_menu_add_then_route_to_it(cfg: Path) -> None:
    before = cfg.read_text(encoding="utf-8")
    prompt = "账单查询请按1，返回请按星号键。"
    code, _out, err = run(cfg, "menu", "add", "billing", "--prompt", prompt, "--timeout", "7")
    assert code == 0, err
    assert "unreachable" in err  # a new menu nobody routes to yet: warned, saved
    after = cfg.read_text(encoding="utf-8")
    assert comments(after) == comments(before)
    # The comment that introduced the next section still sits right above it.
    assert "    options: {}\n\n# Speech recognition" in after
    assert run(cfg, "menu", "option", "set", "billing", "1", "queue", "support")[0] == 0
    assert run(cfg, "menu", "option", "set", "billing", "*", "submenu", "main")[0] == 0
    assert run(cfg, "menu", "option", "set", "main", "4", "submenu", "billing")[0] == 0
    menu = load_config(cfg).menus["billing"]
    assert (menu.timeout, menu.retries) == (7, 2)
    assert (menu.fallback.action, menu.fallback.target) == ("queue", "support")  # the entry menu's fallback
    assert list(menu.options) == ["1", "*"]
    assert f"  billing:\n    prompt: {prompt}\n    timeout: 7\n" in cfg.read_text(encoding="utf-8")
    assert run(cfg, "menu", "lint")[0] == 0


def test_menu_remove_refuses_while_routed_to_then_removes(cfg: Path) -> None:
    code, _out, err = run(cfg, "menu", "remove", "orders")
    assert code == 2
    assert "menu main digit 1" in err
    code, _out, err = run(cfg, "menu", "option", "set", "main", "1", "queue", "support", "--replace",
                          "--force", "-m", "orders by queue")  # fmt: skip
    assert code == 0, err
    before = cfg.read_text(encoding="utf-8")
    code, _out, err = run(cfg, "menu", "remove", "orders")
    assert code == 0, err
    after = cfg.read_text(encoding="utf-8")
    assert "orders:" not in after.split("\nmenus:")[1].split("\nasr:")[0]
    assert comments(after) == comments(before)
    assert list(load_config(cfg).menus) == ["main", "after_hours"]


def test_menu_set_changes_fields_and_inserts_missing_ones(cfg: Path) -> None:
    text = cfg.read_text(encoding="utf-8").replace("    timeout: 5\n    retries: 2\n    fallback: {action: queue, "
                                                   "target: support}\n    options:\n      '1': {action: queue",
                                                   "    options:\n      '1': {action: queue")  # fmt: skip
    cfg.write_text(text, encoding="utf-8")
    assert "retries" not in load_config(cfg).menus["orders"].model_fields_set
    code, _out, err = run(cfg, "menu", "set", "orders", "--timeout", "8", "--retries", "3",
                          "--fallback-action", "extension", "--fallback-target", "operator")  # fmt: skip
    assert code == 0, err
    after = cfg.read_text(encoding="utf-8")
    assert ("  orders:\n    prompt: 查询订单状态请按1，修改订单请按2，返回上一级请按星号键。\n"
            "    timeout: 8\n    retries: 3\n"
            "    fallback: {action: extension, target: operator}\n    options:\n") in after  # fmt: skip
    assert history(load_config(cfg))[-1].message == (
        "menu orders: timeout default -> 8, retries default -> 3, fallback hangup -> extension operator")
    assert run(cfg, "menu", "set", "orders", "--prompt", "查询订单状态请按1，修改订单请按2，返回请按星号键。")[0] == 0
    assert load_config(cfg).menus["orders"].prompt.endswith("返回请按星号键。")
    assert run(cfg, "menu", "set", "orders")[0] == 2  # nothing to change


def test_prompt_file_set_and_cleared(cfg: Path) -> None:
    assert run(cfg, "menu", "set", "main", "--prompt-file", "sounds/main.wav")[0] == 0
    assert "    prompt_file: sounds/main.wav\n" in cfg.read_text(encoding="utf-8")
    assert load_config(cfg).menus["main"].prompt_file == Path("sounds/main.wav")
    assert run(cfg, "menu", "set", "main", "--no-prompt-file")[0] == 0
    assert "prompt_file" not in cfg.read_text(encoding="utf-8")


def test_greeting_set_is_linted(cfg: Path) -> None:
    new = "您好，欢迎致电海尔斯科技，请问有什么可以帮您？"
    code, _out, err = run(cfg, "greeting", "set", new)
    assert code == 0, err
    assert load_config(cfg).opening_line == new
    before = cfg.read_bytes()
    code, _out, err = run(cfg, "greeting", "set", "您好，请问有什么可以帮您？")
    assert code == 2 and "company name" in err and cfg.read_bytes() == before
    code, _out, err = run(cfg, "greeting", "set", "您好，这里是海尔斯科技。")
    assert code == 2 and "offer help" in err and cfg.read_bytes() == before
    code, out, _err = run(cfg, "greeting", "show")
    assert code == 0 and new in out


def test_dry_run_shows_the_diff_and_writes_nothing(cfg: Path) -> None:
    before = cfg.read_bytes()
    code, out, _err = run(cfg, "menu", "option", "set", "main", "4", "hangup", "--dry-run")
    assert code == 0
    assert "+      '4': {action: hangup}" in out
    assert "dry run" in out
    assert cfg.read_bytes() == before
    assert history(load_config(cfg)) == []


def test_write_is_atomic_and_keeps_the_mode(cfg: Path) -> None:
    os.chmod(cfg, 0o640)
    inode = cfg.stat().st_ino
    assert run(cfg, "menu", "option", "set", "main", "4", "hangup")[0] == 0
    st = cfg.stat()
    assert st.st_mode & 0o777 == 0o640
    assert st.st_ino != inode  # a new file renamed over the old one, not rewritten in place
    leftovers = [p.name for p in cfg.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_symlinked_config_edits_the_target(cfg: Path) -> None:
    link = cfg.parent / "current.yaml"
    link.symlink_to(cfg)
    assert run(link, "menu", "option", "set", "main", "4", "hangup")[0] == 0
    assert link.is_symlink()
    assert "'4': {action: hangup}" in cfg.read_text(encoding="utf-8")


def test_concurrent_change_is_refused(cfg: Path) -> None:
    pending = me.prepare(cfg, me.set_option("main", "4", "hangup"))
    # Someone else saves in between (another admin, or an editor).
    other = me.prepare(cfg, me.set_option("main", "5", "queue", "complaints"))
    commit(other, "bob")
    theirs = cfg.read_bytes()
    with pytest.raises(ConcurrentEdit, match="changed since it was read"):
        commit(pending, "alice")
    assert cfg.read_bytes() == theirs
    assert [v.author for v in history(load_config(cfg))] == ["bob", "bob"]  # version 1 (as found) + bob's


def test_comment_after_a_scalar_moves_with_the_end_of_menus(tmp_path: Path) -> None:
    # Here the comment before `asr:` hangs on the last scalar of the last menu in ruamel's tree.
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    text = re.sub(r"  orders:\n.*?\n\n# Speech", "  orders:\n    prompt: 订单请按1。\n    options:\n"
                  "      '1': {action: queue, target: support}\n    retries: 2   # one more go\n\n# Speech",
                  text, flags=re.S)  # fmt: skip
    cfg = tmp_path / "config.yaml"
    cfg.write_text(text, encoding="utf-8")
    assert run(cfg, "menu", "add", "extra", "--prompt", "请按1。")[0] == 0
    after = cfg.read_text(encoding="utf-8")
    assert comments(after) == comments(text)
    assert "    retries: 2   # one more go\n  extra:\n" in after
    assert "    options: {}\n\n# Speech recognition" in after
    assert run(cfg, "menu", "remove", "extra")[0] == 0
    assert cfg.read_text(encoding="utf-8") == text


def test_hotline_entry_point_mounts_menu_and_greeting(cfg: Path) -> None:
    exe = Path(sys.executable).parent / "hotline"
    done = subprocess.run([str(exe), "menu", "lint", "-c", str(cfg)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "no problems" in done.stdout
    done = subprocess.run([str(exe), "greeting", "show", "-c", str(cfg)], capture_output=True, text=True, timeout=120)
    assert "海尔斯科技" in done.stdout
