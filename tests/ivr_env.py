"""Shared pieces of the IVR scenario tests: one prompt render per session, a runner.

Import as ``from ivr_env import ...`` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

import db
from app.demo import DemoEnv, demo_env, write_config
from ivr.tables import Call, CallEvent, MenuStep
from recordings.tables import Recording
from settings import load_config

ROOT = Path(__file__).resolve().parent.parent
BASE_CONFIG = ROOT / "config.yaml"
SPEED = 20.0  # simulated call seconds per wall second

_SOUNDS: dict[str, Path] = {}


def rendered_sounds(tmp_root: Path) -> Path:
    """Render the shipped config's prompts once; every test copies them."""
    if "dir" not in _SOUNDS:
        from app.demo import render

        work = tmp_root / "prompts-once"
        path = write_config(BASE_CONFIG, work, port=5038)
        render(load_config(path))
        _SOUNDS["dir"] = work / "sounds"
    return _SOUNDS["dir"]


def run_env(tmp: Path, sounds: Path, body: Callable[[DemoEnv], Awaitable[Any]], **kw: Any) -> Any:
    """Run ``body(env)`` with a simulator and the real service in ``tmp``."""

    async def main() -> Any:
        async with demo_env(tmp, base_config=BASE_CONFIG, speed=kw.pop("speed", SPEED), sounds_dir=sounds,
                            **kw) as env:
            return await body(env)

    return asyncio.run(main())


def call_row(url: str, uniqueid: str) -> dict[str, Any]:
    """The call row with its steps, events and recordings, as plain data."""
    with db.transaction(url) as s:
        call = s.scalars(select(Call).where(Call.uniqueid == uniqueid)).one()
        out = {c.name: getattr(call, c.name) for c in Call.__table__.columns}
        out["steps"] = [(m.menu, m.digit, m.outcome, m.action, m.target, m.typeahead)
                        for m in s.scalars(select(MenuStep).where(MenuStep.call_id == call.id)
                                           .order_by(MenuStep.seq))]
        out["events"] = [(e.kind, e.data) for e in s.scalars(select(CallEvent).where(CallEvent.call_id == call.id)
                                                               .order_by(CallEvent.id))]
        out["recordings"] = {r.kind: (r.status, r.path) for r in s.scalars(select(Recording)
                                                                            .where(Recording.call_id == call.id))}
        return out


def prompts_heard(call: Any) -> list[str]:
    """What the simulated caller heard, as prompt names (``custom/menu-main`` -> ``menu-main``)."""
    return [name.rsplit("/", 1)[-1] for _, name in call.heard]


def copy_tree(src: Path, dest: Path) -> None:
    shutil.copytree(src, dest, dirs_exist_ok=True)
