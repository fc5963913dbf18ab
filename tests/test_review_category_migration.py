"""Revision 0013 moves needs-review flags raised before it out of ``opening`` into ``review``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

import db


def _flags(url: str) -> dict[int, tuple[str, str, str]]:
    engine = db.make_engine(url)
    try:
        with engine.connect() as con:
            return {i: (r, c, s) for i, r, c, s in con.execute(text("select id, rule_id, category, status from flags"))}
    finally:
        engine.dispose()


def test_needs_review_flags_move_to_their_own_category_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    cfg = db.alembic_config(url)
    command.upgrade(cfg, "0012")
    engine = db.make_engine(url)
    with engine.begin() as con:  # as the scan filed them before: the review flag under opening
        con.execute(text("insert into calls(id, uniqueid, channel, status, started_at)"
                         " values (1, 'u1', 'SIP/c-1', 'ended', '2026-11-01 08:00:00')"))
        add = text("insert into flags(id, call_id, fingerprint, rule_id, category, severity, status, created_at)"
                   " values (:id, 1, :fp, :rule, 'opening', 'high', :status, '2026-11-01 08:01:00')")
        con.execute(add, [{"id": 1, "fp": "a", "rule": "transcript.needs-review", "status": "confirmed"},
                          {"id": 2, "fp": "b", "rule": "opening.mandated", "status": "new"}])
    engine.dispose()

    command.upgrade(cfg, "0013")
    assert _flags(url) == {1: ("transcript.needs-review", "review", "confirmed"),  # the verdict stays
                           2: ("opening.mandated", "opening", "new")}  # a real opening flag does not move
    command.downgrade(cfg, "0012")
    assert _flags(url)[1] == ("transcript.needs-review", "opening", "confirmed")
    db.dispose_all()
