"""The queue's call-time sorts (qa/views.py): page after page, the flags come in the order a reviewer was
promised (severity: high, medium, low, then anything else; within each, the newest call first), whether a
group is walked call by call or found by its index and sorted."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

import db
from ivr.tables import Call
from qa import views
from qa.tables import Flag
from qa.views import FlagFilter, list_flags

RANK = {"high": 0, "medium": 1, "low": 2}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """60 calls, 400 flags of four severities (one unknown to the queue), every status."""
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('order')) / 'q.db'}"
    rnd = random.Random(7)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    calls = [{"id": i, "uniqueid": f"c{i}", "channel": "SIP/x", "status": "ended", "agent": f"SIP/agent{i % 3}",
              "started_at": t0 + timedelta(minutes=rnd.randrange(10_000))} for i in range(1, 61)]
    flags = [{"id": n, "call_id": rnd.randrange(1, 61), "fingerprint": f"f{n}", "rule_id": rnd.choice("ab"),
              "category": "forbidden", "severity": rnd.choice(["high", "medium", "low", "odd"]),
              "status": rnd.choice(["new", "confirmed", "dismissed"]), "offset_s": rnd.choice([1.0, 2.0])}
             for n in range(1, 401)]
    with db.transaction(url) as s:
        s.execute(insert(Call), calls)
        s.execute(insert(Flag), flags)
    return url


def expected(rows: list[dict[str, Any]], sort: str) -> list[int]:
    def newest(r: dict[str, Any]) -> tuple[Any, ...]:
        return (-datetime.fromisoformat(r["call_started_at"]).timestamp(), -r["call"], r["offset_s"], r["id"])

    if sort == "oldest":
        return [r["id"] for r in sorted(rows, key=lambda r: (-newest(r)[0], r["call"], r["offset_s"], r["id"]))]
    if sort == "severity":
        return [r["id"] for r in sorted(rows, key=lambda r: (RANK.get(r["severity"], 3), *newest(r)))]
    return [r["id"] for r in sorted(rows, key=newest)]


@pytest.mark.parametrize("walk_from", [1, 10_000])  # every group walked call by call / every group sorted
@pytest.mark.parametrize("where", [FlagFilter(), FlagFilter(status="new"), FlagFilter(severity="low", rule="a"),
                                   FlagFilter(agent="agent1", status="dismissed")])
def test_pages_follow_one_another_in_the_promised_order(url: str, where: FlagFilter, walk_from: int,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "WALK_FROM", walk_from)
    with db.transaction(url) as s:
        every = list_flags(s, where=where, sort="confidence", limit=1000)
        assert every  # the filter matches something
        for sort in ("severity", "newest", "oldest"):
            pages = [f["id"] for offset in range(0, len(every), 17)
                     for f in list_flags(s, where=where, sort=sort, limit=17, offset=offset)]
            assert pages == expected(every, sort), sort
        assert list_flags(s, where=where, sort="severity", limit=17, offset=len(every)) == []
