"""`hotline menu show` and `hotline menu tree`: tables, tree, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from menus.commands import menu_app

ROOT = Path(__file__).resolve().parent.parent
CONFIG = str(ROOT / "config.yaml")
app = typer.Typer()
app.add_typer(menu_app, name="menu")


def invoke(*args: str) -> typer.testing.Result:
    return CliRunner().invoke(app, ["menu", *args, "-c", CONFIG], terminal_width=200)


def test_show_all_menus_as_tables() -> None:
    res = invoke("show")
    assert res.exit_code == 0
    out = res.stdout
    assert "menu main (entry: schedule office open: mon-fri 08:00-20:00, make-up working days)  timeout 5s, " \
           "retries 2, fallback queue support" in out
    assert "prompt: 查询订单请按1，售后服务请按2" in out
    assert "menu orders  timeout 5s" in out
    row = next(line for line in out.splitlines() if "aftersales" in line)
    assert [c.strip() for c in row.strip("│ ").split("│")] == ["2", "extension", "aftersales", "产品问题"]


def test_show_one_menu_json() -> None:
    res = invoke("show", "orders", "--json")
    assert res.exit_code == 0
    (data,) = json.loads(res.stdout)
    assert data["menu"] == "orders" and data["entry"] is False
    assert data["fallback"] == {"action": "queue", "target": "support", "category": None}
    assert data["options"][2] == {"digit": "*", "action": "submenu", "target": "main", "category": None}
    assert (data["timeout"], data["retries"]) == (5, 2)


def test_show_unknown_menu_is_one_error_line() -> None:
    res = invoke("show", "billing")
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines() == ["error: menu billing: no such menu (known: main, after_hours, orders)"]


def test_tree_expands_submenus_once_and_marks_loops() -> None:
    res = invoke("tree")
    assert res.exit_code == 0
    out = res.stdout
    assert "greeting: 您好，这里是海尔斯科技" in out
    assert "1 → submenu orders" in out
    assert "* → submenu main  ↺ loop" in out
    assert out.count("→ queue support") == 3  # orders 1, orders fallback, main fallback
    data = json.loads(invoke("tree", "--json").stdout)[0]  # one tree per entry menu: main first
    assert data["menu"] == "main"
    first = data["options"][0]
    assert (first["digit"], first["action"], first["target"]) == ("1", "submenu", "orders")
    orders = first["menu"]
    star = next(o for o in orders["options"] if o["digit"] == "*")
    assert star["loop"] is True and "menu" not in star
    assert data["options"][-1]["digit"] == "fallback"
