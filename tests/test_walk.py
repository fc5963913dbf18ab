"""`hotline menu walk`: the DTMF paths through the menus, and (when runnable) the calls placed for them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

import db
from app.walk import Key, invalid_key, plan
from ivr.tables import Call
from menus import edit as me
from menus.versions import commit
from settings import load_config

ROOT = Path(__file__).resolve().parent.parent


def edit(cfg: Path, *edits: me.Edit) -> None:
    for e in edits:
        commit(me.prepare(cfg, e), "test")


def test_shipped_menus_paths() -> None:
    paths = plan(load_config(ROOT / "config.yaml"))
    table = [(p.kind, p.digits, p.end) for p in paths]
    assert table == [
        ("option", "1 1", "queue support"),
        ("option", "1 2", "extension operator"),
        ("option", "1 *", "loop: menu main"),
        ("no-input", "1 - - -", "fallback queue support"),
        ("invalid", "1 3 3 3", "fallback queue support"),
        ("option", "2", "extension aftersales"),
        ("option", "3", "queue complaints"),
        ("option", "0", "extension operator"),
        ("option", "9", "repeat: menu main"),
        ("no-input", "- - -", "fallback queue support"),
        ("invalid", "4 4 4", "fallback queue support"),
        # business hours: the after-hours menu is an entry menu too (schedules.office)
        ("option", "1", "hangup"),
        ("option", "9", "repeat: menu after_hours"),
        ("no-input", "- -", "fallback hangup"),
        ("invalid", "2 2", "fallback hangup"),
    ]
    by = {(p.kind, p.digits): p for p in paths if p.keys[0].menu == "main"}
    assert by[("option", "1 1")].heard == ("greeting", "menu-main", "menu-orders", "transfer")
    assert by[("option", "1 *")].heard == ("greeting", "menu-main", "menu-orders", "menu-main")
    assert by[("option", "1 *")].cut
    assert by[("no-input", "- - -")].heard == (
        "greeting", "menu-main", "timeout", "menu-main", "timeout", "menu-main", "transfer")
    assert by[("invalid", "1 3 3 3")].heard == (
        "greeting", "menu-main", "menu-orders", "invalid", "menu-orders", "invalid", "menu-orders", "transfer")
    assert by[("invalid", "1 3 3 3")].keys[1:] == (Key("orders", "3"),) * 3
    assert by[("option", "9")].heard == ("greeting", "menu-main", "menu-main")


def test_every_option_of_every_reachable_menu_is_walked(cfg: Path) -> None:
    edit(cfg,
         me.add_menu("billing", "账单请按1，人工请按0，返回请按星号键。", retries=1,
                     fallback=me.route("submenu", "main")),
         me.set_option("billing", "1", "hangup"),
         me.set_option("billing", "0", "extension", "operator"),
         me.set_option("billing", "*", "submenu", "billing"),
         me.set_option("orders", "3", "submenu", "billing"),
         me.add_menu("orphan", "请按1。"),
         me.set_option("orphan", "1", "hangup"))  # fmt: skip
    config = load_config(cfg)
    paths = plan(config)
    walked = {(k.menu, k.digit) for p in paths for k in p.keys if k.digit is not None}
    for name in ("main", "orders", "billing"):
        for digit in config.menus[name].options:
            assert (name, digit) in walked, (name, digit)
    assert not any(k.menu == "orphan" for p in paths for k in p.keys)  # unreachable: no call gets there
    by = {(p.kind, p.digits): p for p in paths}
    assert by[("option", "1 3 *")].end == "loop: menu billing"  # a self-loop is cut at once
    assert by[("option", "1 3 1")].heard[-1] == "goodbye"
    fallback = by[("no-input", "1 3 - -")]  # retries=1: two waits, then the fallback back to main
    assert fallback.end == "fallback loop: menu main"
    assert fallback.heard[-3:] == ("timeout", "menu-billing", "menu-main")
    assert by[("invalid", "1 3 2 2")].end == "fallback loop: menu main"


def test_step_limit_stops_deep_paths(cfg: Path) -> None:
    text = cfg.read_text(encoding="utf-8").replace("max_steps: 20", "max_steps: 3")
    cfg.write_text(text, encoding="utf-8")
    paths = plan(load_config(cfg))
    assert max(len(p.keys) for p in paths) <= 3
    assert ("no-input", "1 - - -") not in {(p.kind, p.digits) for p in paths}  # would need 4 steps


def test_invalid_key_choice() -> None:
    config = load_config(ROOT / "config.yaml")
    assert invalid_key(config.menus["main"].options) == "4"
    assert invalid_key(config.menus["orders"].options) == "3"


# ---------------------------------------------------------------- walking through the simulator and the service

SPEED = 8.0  # call seconds per wall second; 16 also passes here, 8 leaves room on a busy CI machine


# The two walks below are minutes of simulated calls; what they write (the service's call rows, in a database
# of the work folder's own) runs on PostgreSQL in these modules.
WALK_ON_POSTGRES = pytest.mark.covered_on_postgres_by("tests/test_ivr_calls.py", "tests/test_privacy_outputs.py",
                                                      reason="a walk's database is the service's call rows")


@WALK_ON_POSTGRES
def test_walk_of_the_shipped_menus(tmp_path: Path) -> None:
    from app.walk import walk

    config = load_config(ROOT / "config.yaml")
    results = walk(config, speed=SPEED, workdir=tmp_path / "walk")
    assert [r.problem for r in results] == [""] * len(plan(config))
    by = {(r.path.kind, r.path.digits): r for r in results}
    assert by[("option", "1 1")].heard == ("greeting", "menu-main", "menu-orders", "transfer")
    assert by[("option", "1 1")].route == "queue support"
    assert by[("option", "1 1")].steps == "main:1 > orders:1"
    assert by[("option", "2")].route == "extension aftersales"
    assert by[("option", "1 *")].route is None  # back at main: the caller hung up there
    assert by[("option", "1 *")].heard[-1] == "menu-main"
    assert by[("no-input", "- - -")].steps == "main:-(timeout) > main:-(timeout) > main:-(fallback)"
    assert by[("invalid", "4 4 4")].heard.count("invalid") == 2
    # The walk ran in its own folder: its calls are in its database, not in the shipped config's.
    with db.transaction(f"sqlite:///{tmp_path / 'walk' / 'hotline.db'}") as s:
        assert s.scalar(select(func.count()).select_from(Call)) == len(results)


@WALK_ON_POSTGRES
def test_walk_after_edits_and_a_mismatch_is_reported(cfg: Path, tmp_path: Path) -> None:
    import asyncio

    from app.walk import walk_simulated

    edit(cfg,
         me.add_menu("billing", "账单查询请按1，返回请按星号键。", retries=1),
         me.set_option("billing", "1", "hangup"),
         me.set_option("billing", "*", "submenu", "main"),
         me.set_option("orders", "3", "submenu", "billing"))  # fmt: skip
    config = load_config(cfg)
    paths = plan(config)
    assert ("option", "1 3 1") in {(p.kind, p.digits) for p in paths}
    # Walk the planned paths against a service whose main menu sends 3 somewhere else.
    commit(me.prepare(cfg, me.set_option("main", "3", "queue", "support")), "test")
    results = asyncio.run(walk_simulated(cfg, paths, workdir=tmp_path / "walk", speed=SPEED))
    bad = {r.path.digits: r.problem for r in results if not r.ok}
    assert bad == {"3": "ended at queue support; expected queue complaints"}
    by = {(r.path.kind, r.path.digits): r for r in results}
    hung = by[("option", "1 3 1")]
    assert hung.heard == ("greeting", "menu-main", "menu-orders", "menu-billing", "goodbye")
    assert hung.route == "hangup"
    assert by[("no-input", "1 3 - -")].route == "queue support"  # billing took the entry menu's fallback
