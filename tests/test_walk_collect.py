"""`hotline menu walk` through a collect menu: the walk keys in a test number (fixed digits failing
Luhn: no real card) and follows the menu's ``next``; too few digits is its invalid path. The number
is never printed: tables and JSON say "<16 digits>". The calls go to the simulator, answered by the
real service (the collect menu pauses the recording around the entry)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from app.walk import plan, walk_number, walk_simulated
from cli import app
from ivr.collect import luhn_ok
from settings import Collect, Route, load_config

SPEED = 8.0


@pytest.fixture
def collect_cfg(cfg: Path) -> Path:
    """The shipped menus at all hours, orders 3: a card number (12-19 digits), then the support queue."""
    yaml = YAML()
    data: Any = yaml.load(cfg.read_text(encoding="utf-8"))
    del data["ivr"]["schedule"]
    data["menus"]["orders"]["options"]["3"] = {"action": "submenu", "target": "account"}
    data["menus"]["account"] = {
        "prompt": "请输入您的银行卡号，以井号键结束。", "timeout": 4, "retries": 1,
        "fallback": {"action": "extension", "target": "operator"},
        "collect": {"name": "card", "min_digits": 12, "max_digits": 19,
                    "next": {"action": "queue", "target": "support", "category": "产品问题"}},
    }  # fmt: skip
    with cfg.open("w", encoding="utf-8") as f:
        yaml.dump(data, f)
    return cfg


def test_the_walk_number_is_no_card() -> None:
    for lo, hi in ((12, 19), (1, 32), (4, 6), (16, 16), (19, 19)):
        number = walk_number(Collect(name="card", min_digits=lo, max_digits=hi, next=Route(action="hangup")))
        assert lo <= len(number) <= hi and number.isdigit() and not luhn_ok(number), (lo, hi)


def test_plan_enters_the_number_and_reaches_next(collect_cfg: Path) -> None:
    paths = [p for p in plan(load_config(collect_cfg)) if any(k.menu == "account" for k in p.keys)]
    number = walk_number(load_config(collect_cfg).menus["account"].collect)  # type: ignore[arg-type]
    assert [(p.kind, p.digits, p.end) for p in paths] == [
        ("number", "1 3 <16 digits>", "queue support"),
        ("no-input", "1 3 - -", "fallback extension operator"),
        ("invalid", "1 3 <11 digits> <11 digits>", "fallback extension operator"),
    ]
    assert paths[0].heard == ("greeting", "menu-main", "menu-orders", "menu-account", "transfer")
    assert paths[0].keys[-1].number == number
    assert paths[2].heard[-4:] == ("menu-account", "invalid", "menu-account", "transfer")
    res = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["menu", "walk", "--plan", "-c", str(collect_cfg)])
    assert res.exit_code == 0 and "1 3 <16 digits>" in res.stdout
    out = CliRunner().invoke(app, ["menu", "walk", "--plan", "--json", "-c", str(collect_cfg)]).stdout
    assert number[:11] not in res.stdout + out  # neither the number nor the short entry
    assert ["account", "<16 digits>"] in next(p["keys"] for p in json.loads(out) if p["kind"] == "number")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
@pytest.mark.covered_on_postgres_by("tests/test_collect_pause.py",
                                    reason="what a collect menu writes, searched there for the digits")
def test_walk_through_the_collect_menu_on_the_simulator(collect_cfg: Path, tmp_path: Path) -> None:
    paths = [p for p in plan(load_config(collect_cfg)) if any(k.menu == "account" for k in p.keys)]
    results = asyncio.run(walk_simulated(collect_cfg, paths, workdir=tmp_path / "walk", speed=SPEED))
    assert [(r.path.kind, r.problem) for r in results] == [("number", ""), ("no-input", ""), ("invalid", "")]
    entered, _, short = results
    assert entered.route == "queue support"
    assert entered.heard == ("greeting", "menu-main", "menu-orders", "menu-account", "transfer")
    assert short.route == "extension operator" and short.heard.count("invalid") == 1
    number = entered.path.keys[-1].number
    assert number[:11] not in json.dumps([r.as_dict() for r in results])
