"""Revision 0002 adds the confidence columns to flags and keeps flags raised before it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect, select, text

import db
from qa.tables import Flag


def test_upgrade_0001_to_0002_keeps_flags_and_reviews(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    cfg = db.alembic_config(url)
    command.upgrade(cfg, "0001")
    with db.make_engine(url).begin() as con:  # the rows an 0001 database held, written as 0001 wrote them
        con.execute(text("insert into calls(id, uniqueid, channel, status, started_at)"
                         " values (1, 'u1', 'SIP/c-1', 'ended', '2026-11-01 08:00:00')"))
        con.execute(text("insert into flags(id, call_id, fingerprint, rule_id, category, severity, status, matched,"
                         " created_at) values (7, 1, 'fp7', 'forbidden.blame', 'forbidden', 'high', 'confirmed',"
                         " '这不是我们的责任', '2026-11-01 08:01:00')"))
        con.execute(text("insert into reviews(flag_id, reviewer, decision, at)"
                         " values (7, 'qa1', 'confirmed', '2026-11-01 09:00:00')"))

    command.upgrade(cfg, "0002")

    engine = db.make_engine(url)
    with engine.connect() as con:
        assert con.execute(text("select version_num from alembic_version")).scalar_one() == "0002"
    cols = {c["name"] for c in inspect(engine).get_columns("flags")}
    assert {"asr_confidence", "verify_confidence", "confidence", "needs_listening"} <= cols
    engine.dispose()
    with db.transaction(url) as s:
        flag = s.scalars(select(Flag)).one()
        assert (flag.id, flag.fingerprint, flag.status, flag.matched) == (7, "fp7", "confirmed", "这不是我们的责任")
        assert [r.decision for r in flag.reviews] == ["confirmed"]
        # an old flag has no scores: unknown, not "sure" and not "unsure"
        assert flag.confidence is None and flag.asr_confidence is None and flag.verify_confidence is None
        assert flag.needs_listening is False
        flag.confidence, flag.needs_listening = 0.42, True
    with db.transaction(url) as s:
        flag = s.scalars(select(Flag)).one()
        assert (flag.confidence, flag.needs_listening) == (0.42, True)
    db.dispose_all()


def test_models_match_the_migrated_schema(tmp_path: Path) -> None:
    """The Flag model and revision 0002 agree (autogenerate finds nothing to add)."""
    cfg = db.alembic_config(f"sqlite:///{tmp_path}/h.db")
    command.upgrade(cfg, "head")
    command.check(cfg)  # raises if the models and the newest revision differ
    command.downgrade(cfg, "0001")
    command.upgrade(cfg, "head")
