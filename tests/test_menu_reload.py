"""A saved menu edit reaches the running service for the next call; a call in progress keeps its menu.

The real IVR service on the built-in Asterisk simulator (app/demo.py's environment), the
edit made with the same functions `hotline menu option set` uses (lint, atomic write,
version), the reload done by the service's own file watcher.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

import db
from app.demo import demo_env, prompt_seconds
from ivr.service import wait_for
from ivr.tables import Call
from menus import edit as me
from menus.versions import commit, history
from pbx.simulator import Agent, CallScript, Press
from settings import load_config

ROOT = Path(__file__).resolve().parent.parent
SPEED = 2.0


async def _scenario(workdir: Path) -> dict[str, object]:
    async with demo_env(workdir, base_config=ROOT / "config.yaml", speed=SPEED, reload_interval=0.05) as env:
        seconds = prompt_seconds(env.config)
        # Press 2 well into the main prompt: time enough to save and reload before it.
        press = Press(round(seconds["greeting"] + seconds["menu-main"] * 0.6, 3), "2")
        a = env.sim.place_call(CallScript("in progress", presses=(press,), agent=Agent(answer_after=1.0)))
        assert await wait_for(lambda: a.uniqueid in env.service.sessions, 10)
        assert env.service.reloads == 0

        pending = me.prepare(env.config_path, me.set_option("main", "2", "queue", "complaints"))
        version = commit(pending, "admin")
        assert await wait_for(lambda: env.service.reloads == 1, 10), "the service did not pick up the save"
        assert not a.done.done() and a.uniqueid in env.service.sessions  # A is still in its menus
        assert all(name != "custom/transfer" for _t, name in a.heard)  # and has not chosen yet

        b = env.sim.place_call(CallScript("next call", caller_num="5550002", presses=(press,),
                                          agent=Agent(answer_after=1.0)))  # fmt: skip
        await asyncio.wait_for(asyncio.gather(a.done, b.done), 120)
        await env.settled(a.uniqueid)
        await env.settled(b.uniqueid)
        done = {s.uniqueid: s for s in env.service.finished}
        with db.transaction(env.url) as s:
            rows = {c.uniqueid: c.menu_version for c in s.scalars(select(Call))}
        return {"a": done[a.uniqueid], "b": done[b.uniqueid], "version": version, "rows": rows,
                "a_uid": a.uniqueid, "b_uid": b.uniqueid, "path": env.config_path}  # fmt: skip


def test_call_in_progress_keeps_its_menu_next_call_gets_the_new_one(tmp_path: Path) -> None:
    out = asyncio.run(_scenario(tmp_path / "env"))
    a, b = out["a"], out["b"]
    assert (a.path, a.route) == ("main:2", "extension aftersales")  # the menu A started with
    assert (b.path, b.route) == ("main:2", "queue complaints")  # the saved change
    assert a.status == b.status == "ended" and a.error is None and b.error is None
    assert out["version"] == 2  # version 1 is the file as it was before the edit
    rows = out["rows"]
    assert rows[out["a_uid"]] is None  # A started before any version existed
    assert rows[out["b_uid"]] == 2
    assert [v.number for v in history(load_config(out["path"]))] == [1, 2]
