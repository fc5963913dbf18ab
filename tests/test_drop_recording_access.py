"""Revision 0012 drops recording_access and keeps the listens it held, in the access log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import bindparam, inspect, text

import db
from accounts.users import access_log

AT = datetime(2026, 11, 1, 8, 5, tzinfo=UTC)


def _schema(url: str) -> dict[str, object]:
    """What the inspector sees of every table: columns, keys and indexes (a downgrade must match 0001's)."""
    engine = db.make_engine(url)
    try:
        look = inspect(engine)
        return {t: (sorted((c["name"], str(c["type"]), c["nullable"]) for c in look.get_columns(t)),
                    look.get_pk_constraint(t)["constrained_columns"],
                    sorted((tuple(f["constrained_columns"]), f["referred_table"], f["options"].get("ondelete"))
                           for f in look.get_foreign_keys(t)),
                    sorted((i["name"], tuple(i["column_names"]), i["unique"]) for i in look.get_indexes(t)))
                for t in look.get_table_names()}
    finally:
        engine.dispose()


def test_the_old_listens_move_to_the_access_log_and_the_table_goes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    cfg = db.alembic_config(url)
    command.upgrade(cfg, "0011")
    engine = db.make_engine(url)
    at = bindparam("at", type_=db.UTCDateTime)
    with engine.begin() as con:  # listens as the review app wrote them before the access log took them
        con.execute(text("insert into calls(id, uniqueid, channel, status, started_at)"
                         " values (4, 'u4', 'SIP/c-4', 'ended', :at)").bindparams(at), {"at": AT})
        add = text("insert into recording_access(call_id, reviewer, remote, kind, at)"
                   " values (4, :who, :remote, :kind, :at)").bindparams(at)
        con.execute(add, [{"who": "lin", "remote": "10.0.0.7", "kind": "caller-r", "at": AT},
                          {"who": "admin", "remote": None, "kind": "mix", "at": AT.replace(minute=6)},
                          {"who": "qa1", "remote": "10.0.0.8", "kind": None, "at": AT.replace(minute=7)}])
    engine.dispose()

    command.upgrade(cfg, "0012")

    assert "recording_access" not in _schema(url)
    with db.transaction(url) as s:
        got = [(r.at, r.account, r.action, r.target, r.via, r.address) for r in access_log(s)]
    assert got == [  # newest first, as `hotline users log` shows them
        (AT.replace(minute=7), "qa1", "listen-original", "call 4", "web", "10.0.0.8"),
        (AT.replace(minute=6), "admin", "listen-original", "call 4 mix", "web", None),
        (AT, "lin", "listen", "call 4 caller-r", "web", "10.0.0.7"),
    ]
    db.dispose_all()


def test_the_downgrade_brings_back_the_table_of_0001(tmp_path: Path) -> None:
    fresh, round_trip = f"sqlite:///{tmp_path}/fresh.db", f"sqlite:///{tmp_path}/trip.db"
    command.upgrade(db.alembic_config(fresh), "0011")
    cfg = db.alembic_config(round_trip)
    command.upgrade(cfg, "0012")
    command.downgrade(cfg, "0011")
    want, got = _schema(fresh), _schema(round_trip)
    assert "recording_access" in got
    assert got == want
    command.upgrade(cfg, "head")
    command.check(cfg)  # the models no longer describe the table: nothing left to add or drop
