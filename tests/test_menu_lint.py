"""Every lint rule on a broken copy of the shipped config: severity, menu, digit and line are right."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from ruamel.yaml import YAML
from typer.testing import CliRunner

from menus.commands import menu_app
from menus.lint import Problem, errors, lint_data, lint_file

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = (ROOT / "config.yaml").read_text(encoding="utf-8")


def broken(tmp_path: Path, change: Callable[[Any], None]) -> Path:
    """A copy of the shipped config with `change` applied to its tree, written as YAML."""
    yaml = YAML(typ="rt")
    data = yaml.load(SHIPPED)
    change(data)
    buf = io.StringIO()
    yaml.dump(data, buf)
    path = tmp_path / "config.yaml"
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def only(problems: list[Problem], rule: str) -> list[Problem]:
    return [p for p in problems if p.rule == rule]


def line_with(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_shipped_config_is_clean() -> None:
    assert lint_file(ROOT / "config.yaml") == []


def opt(data: Any, menu: str, digit: Any, **route: Any) -> None:
    data["menus"][menu]["options"][digit] = route


CASES: list[tuple[str, str, Callable[[Any], None], str | None, str | None, str]] = [
    # rule, severity, change, menu, digit, a word of the message
    ("unknown-menu", "error", lambda d: opt(d, "main", "4", action="submenu", target="billing"), "main", "4",
     "billing"),
    ("unknown-queue", "error", lambda d: opt(d, "orders", "3", action="queue", target="sales"), "orders", "3",
     "configured queues: complaints, support"),
    ("unknown-extension", "error", lambda d: opt(d, "main", "5", action="extension", target="ceo"), "main", "5",
     "ceo"),
    ("bad-action", "error", lambda d: opt(d, "main", "5", action="transfer", target="x"), "main", "5", "transfer"),
    ("bad-action", "error", lambda d: opt(d, "main", "5", action="queue"), "main", "5", "needs a target"),
    ("bad-action", "error", lambda d: opt(d, "main", "5", action="hangup", target="support"), "main", "5",
     "takes no target"),
    ("bad-digit", "error", lambda d: opt(d, "main", "12", action="hangup"), "main", "12", "phone key"),
    ("duplicate-digit", "error", lambda d: opt(d, "main", 1, action="hangup"), "main", "1", "twice"),
    ("no-prompt", "error", lambda d: d["menus"]["orders"].__setitem__("prompt", " "), "orders", None, "silence"),
    ("timeout-range", "error", lambda d: d["menus"]["orders"].__setitem__("timeout", 0.5), "orders", None,
     "timeout 0.5"),
    ("timeout-range", "error", lambda d: d["menus"]["main"].__setitem__("timeout", 31), "main", None, "1-30"),
    ("retries-range", "error", lambda d: d["menus"]["main"].__setitem__("retries", 6), "main", None, "0-5"),
    ("retries-range", "error", lambda d: d["menus"]["main"].__setitem__("retries", 1.5), "main", None,
     "whole number"),
    ("menu-id", "error", lambda d: d["menus"].__setitem__("售后 菜单", {"prompt": "请按1。", "options": {
        "1": {"action": "queue", "target": "support"}}}), "售后 菜单", None, "letters"),
    ("entry-menu", "error", lambda d: d["ivr"].__setitem__("entry_menu", "start"), None, "ivr.entry_menu",
     "start"),
    ("opening-line", "error", lambda d: d.__setitem__("opening_line", "您好，请问有什么可以帮您？"), None,
     "opening_line", "company name"),
    ("opening-line", "error", lambda d: d.__setitem__("opening_line", "您好，这里是海尔斯科技。"), None,
     "opening_line", "offer help"),
    ("opening-line", "error", lambda d: d.__setitem__("opening_line", ""), None, "opening_line", "missing"),
    ("unreachable", "warning", lambda d: d["menus"].__setitem__("billing", {"prompt": "账单请按1。", "options": {
        "1": {"action": "queue", "target": "support"}}}), "billing", None, "reach"),
    ("too-many-options", "warning", lambda d: [opt(d, "main", k, action="hangup") for k in "45678"], "main", None,
     "10 options"),
    ("long-prompt", "warning", lambda d: d["menus"]["orders"].__setitem__(
        "prompt", "查询订单状态请按1，" * 5 + "修改订单请按2，返回上一级请按星号键。"), "orders", None, "characters"),
    ("long-prompt", "warning", lambda d: d.__setitem__(
        "opening_line", "您好，这里是海尔斯科技，" * 3 + "请问有什么可以帮您？"), None, "opening_line", "characters"),
    ("unannounced-option", "warning", lambda d: opt(d, "main", "4", action="hangup"), "main", "4", "press 4"),
    ("announced-missing", "warning", lambda d: d["menus"]["orders"]["options"].pop("*"), "orders", "*",
     "press *"),
    ("no-options", "warning", lambda d: d["menus"]["orders"].__setitem__("options", {}), "orders", None,
     "fallback"),
    ("repeat-fallback", "warning", lambda d: d["menus"]["orders"].__setitem__("fallback", {"action": "repeat"}),
     "orders", "fallback", "round again"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "severity", "change", "menu", "digit", "word"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])  # fmt: skip
def test_rule(tmp_path: Path, rule: str, severity: str, change: Callable[[Any], None], menu: str | None,
              digit: str | None, word: str) -> None:  # fmt: skip
    path = broken(tmp_path, change)
    problems = lint_file(path)
    hits = only(problems, rule)
    assert len(hits) == 1, [p.format() for p in problems]
    hit = hits[0]
    assert (hit.severity, hit.menu, hit.digit) == (severity, menu, digit)
    assert word in hit.message
    assert hit.line > 0
    line = path.read_text(encoding="utf-8").splitlines()[hit.line - 1]
    if digit not in (None, "fallback", "ivr.entry_menu", "opening_line") and rule != "announced-missing":
        assert f"{digit}" in line  # the line of that very digit
    text = hit.format(path)
    assert text.startswith(f"{path}:{hit.line}: {severity}: ")
    assert "\n" not in text
    if menu is not None:
        assert f"menu {menu}" in text
    if digit not in (None, "ivr.entry_menu", "opening_line"):
        assert f"{'digit ' if digit != 'fallback' else ''}{digit}" in text
    if severity == "warning":
        assert errors(problems) == [], [p.format() for p in errors(problems)]  # warnings alone block nothing


def test_dead_end_loop_names_every_trapped_menu_and_spares_the_rest(tmp_path: Path) -> None:
    def trap(d: Any) -> None:
        d["menus"]["a"] = {"prompt": "请按1。", "fallback": {"action": "submenu", "target": "b"},
                           "options": {"1": {"action": "submenu", "target": "b"}, "9": {"action": "repeat"}}}
        d["menus"]["b"] = {"prompt": "请按1。", "fallback": {"action": "submenu", "target": "a"},
                           "options": {"1": {"action": "submenu", "target": "a"}}}
        opt(d, "main", "4", action="submenu", target="a")

    path = broken(tmp_path, trap)
    hits = only(lint_file(path), "dead-end-loop")
    assert sorted(p.menu for p in hits) == ["a", "b"]  # main can still reach queues: not trapped
    assert all("a, b" in p.message and p.severity == "error" for p in hits)
    assert hits[0].line == line_with(path, "  a:")


def test_a_loop_with_an_exit_is_fine() -> None:
    # main <-> orders loop through '1' and '*', but both have queue/extension exits.
    assert only(lint_file(ROOT / "config.yaml"), "dead-end-loop") == []


def test_missing_fallback_counts_as_hang_up(tmp_path: Path) -> None:
    def change(d: Any) -> None:
        d["menus"]["orders"].pop("fallback")
        for k in ("1", "2"):
            opt(d, "orders", k, action="submenu", target="main")
        d["menus"]["main"]["fallback"] = {"action": "submenu", "target": "orders"}
        for k in ("2", "3", "0"):
            opt(d, "main", k, action="submenu", target="orders")

    assert only(lint_file(broken(tmp_path, change)), "dead-end-loop") == []  # the default fallback hangs up


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    def change(d: Any) -> None:
        opt(d, "main", "4", action="queue", target="sales")
        opt(d, "orders", "3", action="extension", target="ceo")
        d["menus"]["orders"]["retries"] = 9

    rules = sorted(p.rule for p in errors(lint_file(broken(tmp_path, change))))
    assert rules == ["retries-range", "unknown-extension", "unknown-queue"]


def test_schema_problems_outside_menus_still_fail_lint(tmp_path: Path) -> None:
    path = broken(tmp_path, lambda d: d["ami"].__setitem__("port", 70000))
    (problem,) = lint_file(path)
    assert (problem.rule, problem.severity) == ("config", "error")
    assert "ami.port" in problem.message
    assert problem.line == line_with(path, "port: 70000")


def test_unparseable_file_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(SHIPPED.replace("menus:\n", "menus:\n  - [\n", 1), encoding="utf-8")
    (problem,) = lint_file(path)
    assert problem.rule == "config" and problem.line > 0


def test_lint_command_exit_codes_and_json(tmp_path: Path) -> None:
    app = typer.Typer()
    app.add_typer(menu_app, name="menu")
    runner = CliRunner()
    ok = runner.invoke(app, ["menu", "lint", "-c", str(ROOT / "config.yaml")])
    assert ok.exit_code == 0 and "no problems" in ok.stdout
    warn = broken(tmp_path, lambda d: opt(d, "main", "4", action="hangup"))
    res = runner.invoke(app, ["menu", "lint", "-c", str(warn)])
    assert res.exit_code == 0 and "warning: menu main digit 4" in res.stdout
    bad = broken(tmp_path, lambda d: opt(d, "main", "4", action="queue", target="sales"))
    res = runner.invoke(app, ["menu", "lint", "-c", str(bad)])
    assert res.exit_code == 2
    lines = [line for line in res.stdout.splitlines() if "error:" in line]
    assert len(lines) == 1 and f"{bad}:" in lines[0] and "menu main digit 4" in lines[0]
    res = runner.invoke(app, ["menu", "lint", "--json", "-c", str(bad)])
    data = json.loads(res.stdout)
    assert data["errors"] == 1
    assert {"severity": "error", "rule": "unknown-queue", "menu": "main", "digit": "4"}.items() <= \
        data["problems"][0].items()  # fmt: skip


def test_lint_data_matches_lint_file(tmp_path: Path) -> None:
    path = broken(tmp_path, lambda d: opt(d, "main", "4", action="queue", target="sales"))
    data = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    assert lint_data(data, path) == lint_file(path)
