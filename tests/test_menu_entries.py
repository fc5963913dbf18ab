"""`hotline menu show` / `menu tree` with business hours and a collect menu: every menu a schedule
picks is marked as an entry with when it is picked, and a collect menu's one way on (``next``) is
an edge of the tree, expanded like a submenu."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from typer.testing import CliRunner

from cli import app


def _edit(cfg: Path) -> Path:
    """The shipped config plus a holiday menu for schedules.office and orders 3: a card number, then billing."""
    yaml = YAML()
    data: Any = yaml.load(cfg.read_text(encoding="utf-8"))
    data["schedules"]["office"]["entry"]["holiday"] = "holiday"
    data["menus"]["holiday"] = {"prompt": "节日期间暂停服务，再见。", "options": {"1": {"action": "hangup"}}}
    data["menus"]["orders"]["options"]["3"] = {"action": "submenu", "target": "account"}
    data["menus"]["account"] = {
        "prompt": "请输入您的银行卡号，以井号键结束。", "fallback": {"action": "queue", "target": "support"},
        "collect": {"name": "card", "min_digits": 12, "max_digits": 19,
                    "next": {"action": "submenu", "target": "billing"}},
    }  # fmt: skip
    data["menus"]["billing"] = {"prompt": "账单请按1。", "options": {"1": {"action": "queue", "target": "support"}}}
    with cfg.open("w", encoding="utf-8") as f:
        yaml.dump(data, f)
    return cfg


def run(cfg: Path, *args: str) -> str:
    res = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["menu", *args, "-c", str(cfg)])
    assert res.exit_code == 0, res.output
    return res.stdout


def test_tree_has_one_root_per_menu_business_hours_pick_with_when(cfg: Path) -> None:
    _edit(cfg)
    out = run(cfg, "tree")
    assert "menu main  (schedule office open: mon-fri 08:00-20:00, make-up working days)" in out
    assert "menu after_hours  (schedule office closed: outside its open hours)" in out  # holidays have their own
    assert "menu holiday  (schedule office holidays: 元旦, 国庆节)" in out
    roots = json.loads(run(cfg, "tree", "--json"))
    assert [(r["menu"], len(r["entry_when"])) for r in roots] == [("main", 1), ("after_hours", 1), ("holiday", 1)]


def test_a_collect_menus_next_is_an_edge_of_the_tree(cfg: Path) -> None:
    _edit(cfg)
    out = run(cfg, "tree")
    assert "3 → submenu account" in out
    assert "<card: 12-19 digits, recording paused> → submenu billing" in out
    assert "1 → queue support" in out.split("<card:")[1]  # billing expanded under the number
    main = json.loads(run(cfg, "tree", "--json"))[0]
    orders = main["options"][0]["menu"]
    account = next(o for o in orders["options"] if o["digit"] == "3")["menu"]
    edge = account["options"][0]
    assert (edge["action"], edge["target"], edge["menu"]["menu"]) == ("submenu", "billing", "billing")
    assert account["options"][-1] == {"digit": "fallback", "action": "queue", "target": "support", "category": None}


def test_show_marks_entries_and_the_collect_row(cfg: Path) -> None:
    _edit(cfg)
    out = run(cfg, "show")
    assert "menu after_hours (entry: schedule office closed: outside its open hours)  timeout" in out
    assert "menu orders  timeout" in out  # not an entry
    row = next(line for line in out.splitlines() if "<card:" in line)
    assert [c.strip() for c in row.strip("│ ").split("│")][1:3] == ["submenu", "billing"]
    (account,) = json.loads(run(cfg, "show", "account", "--json"))
    assert account["entry"] is False and account["options"] == []
    assert account["collect"] == {"name": "card", "min_digits": 12, "max_digits": 19,
                                  "next": {"action": "submenu", "target": "billing", "category": None}}


def test_without_business_hours_the_entry_menu_is_the_one_entry(cfg: Path) -> None:
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("  schedule: office ", "  # schedule: office "),
                   encoding="utf-8")
    out = run(cfg, "show")
    assert "menu main (entry)  timeout" in out and "menu after_hours  timeout" in out
    assert [r["menu"] for r in json.loads(run(cfg, "tree", "--json"))] == ["main"]
