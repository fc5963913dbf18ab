"""One-step menu changes (issue 16): a menu with its options and the digit that reaches it in one
version, and the menus exported to a file and imported back as one checked version."""

from __future__ import annotations

from pathlib import Path

from menu_cli import run

from menus.versions import FOUND_FIRST, history
from settings import load_config

BILLING = "账单查询请按1，发票请按2，返回请按星号键。"


def test_add_with_options_and_the_digit_that_reaches_it_is_one_version(cfg: Path) -> None:
    code, out, err = run(cfg, "menu", "add", "billing", "--prompt", BILLING, "--option", "1=queue:support",
                         "--option", "2=extension:aftersales:产品问题", "--option", "*=submenu:main",
                         "--from", "main:4", "-m", "billing menu")  # fmt: skip
    assert code == 0, err
    assert "[unreachable]" not in err and "[announced-missing]" not in err  # no half-built menu on the way
    assert [r.message for r in history(load_config(cfg))] == [FOUND_FIRST, "billing menu"]
    menus = load_config(cfg).menus
    assert menus["main"].options["4"].target == "billing"
    billing = menus["billing"]
    assert {d: (r.action, r.target, r.category) for d, r in billing.options.items()} == {
        "1": ("queue", "support", None), "2": ("extension", "aftersales", "产品问题"), "*": ("submenu", "main", None)}
    assert "+      '4': {action: submenu, target: billing}" in out
    assert run(cfg, "menu", "lint")[0] == 0


def test_add_refusals_leave_the_file_untouched(cfg: Path) -> None:
    before = cfg.read_bytes()
    for args, needle in [
        (["--option", "1"], "--option 1: write DIGIT=ACTION"),
        (["--option", "1=queue"], "menu billing digit 1: action 'queue' needs a target"),
        (["--option", "1=queue:nowhere"], "unknown queue 'nowhere'"),
        (["--option", "1=queue:support", "--from", "main"], "--from main: write MENU:DIGIT"),
        (["--option", "1=queue:support", "--from", "main:1"], "menu main digit 1"),  # orders' digit: --replace
    ]:
        code, _out, err = run(cfg, "menu", "add", "billing", "--prompt", "账单查询请按1。", *args)
        assert code == 2 and needle in err, (args, err)
        assert cfg.read_bytes() == before
    assert history(load_config(cfg)) == []


def test_export_then_import_is_one_checked_version(cfg: Path, tmp_path: Path) -> None:
    code, exported, err = run(cfg, "menu", "export")
    assert code == 0, err
    assert exported.startswith("menus:\n  main:\n") and "# Speech recognition" not in exported
    file = tmp_path / "menus.yaml"
    file.write_text(exported.replace("'2': {action: extension, target: operator}",
                                     "'2': {action: queue, target: complaints}"), encoding="utf-8")  # fmt: skip
    before = cfg.read_text(encoding="utf-8")
    code, _out, err = run(cfg, "menu", "import", str(file), "-m", "orders changes go to complaints")
    assert code == 0, err  # a replaced route is what an import is for: no --replace needed
    after = cfg.read_text(encoding="utf-8")
    assert after == before.replace("'2': {action: extension, target: operator}",
                                   "'2': {action: queue, target: complaints}")  # only that line; comments kept
    assert [r.message for r in history(load_config(cfg))][-1] == "orders changes go to complaints"
    code, _out, err = run(cfg, "menu", "import", str(file))
    assert code == 2 and "nothing to do" in err


def test_import_is_refused_as_a_whole(cfg: Path, tmp_path: Path) -> None:
    exported = run(cfg, "menu", "export")[1]
    before = cfg.read_bytes()
    cases = {
        "extra section": (exported + "queues: {}\n", "one top-level section, 'menus:'"),
        "broken route": (exported.replace("target: complaints}", "target: complain}"), "unknown queue 'complain'"),
        "orders cut off": (exported.replace("'1': {action: submenu, target: orders}", "'1': {action: hangup}"),
                           "menu orders: callers reach it today"),
    }  # fmt: skip
    for name, (text, needle) in cases.items():
        file = tmp_path / f"{name}.yaml"
        file.write_text(text, encoding="utf-8")
        code, _out, err = run(cfg, "menu", "import", str(file))
        assert code == 2 and needle in err, (name, err)
        assert cfg.read_bytes() == before
    assert history(load_config(cfg)) == []
