"""`hotline menu walk --pbx` on the lab's Asterisk: every DTMF path placed as a call through the real PBX
(AMI Originate of a Local channel into the hotline context), answered by the session's ``hotline serve``.

Each path must be heard as planned and end where the menus say, as the call log records it;
paths that reach a queue or an extension hang up during the transfer prompt, so no agent rings.
"""

from __future__ import annotations

import json

import pytest
from pbx_batch import Service

pytestmark = pytest.mark.pbx


def test_menu_walk_through_the_real_pbx(service: Service) -> None:
    plan = service.hotline.json("menu", "walk", "--plan")
    res = service.hotline.run("menu", "walk", "--pbx", "--json", timeout=400)
    assert res.stdout.strip(), f"menu walk --pbx printed nothing (exit {res.returncode}): {res.stderr.strip()}"
    results = json.loads(res.stdout)
    assert [(r["kind"], r["digits"]) for r in results] == [(p["kind"], p["digits"]) for p in plan]
    bad = [f"{r['kind']} [{r['digits']}]: {r['problem']}" for r in results if not r["ok"]]
    assert not bad and res.returncode == 0, "\n".join(bad) + f"\nserve log:\n{service.serve.text()[-3000:]}"
    routes = {r["route"] for r in results}
    assert {"hangup", "queue complaints", "queue support", "extension aftersales", "extension operator"} <= routes
