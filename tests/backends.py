"""What tests need to look at a test database the same way on SQLite and on PostgreSQL.

Import as ``from backends import ...``. Under tests/on_postgres.py every SQLite file a test names
is a database on a throwaway server (db.stand_in_database), so a test that opened the file with
sqlite3 would see nothing there: these go through the engine, or copy the PostgreSQL way.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import MetaData, create_engine, make_url, select

import db


def dump(url: str) -> str:
    """Every row of every table at ``url`` as text (what a search for leaked data must look through)."""
    engine = db.engine_for(url)
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as con:
        return "\n".join(f"{t.name}: {tuple(row)}" for t in meta.sorted_tables for row in con.execute(select(t)))


def copy_database(src: Path, dst: Path) -> None:
    """A consistent copy of the database file ``src`` at ``dst`` (a seeded template per module is
    cheaper than migrating and seeding per test); on PostgreSQL a CREATE DATABASE ... TEMPLATE."""
    src_url, dst_url = f"sqlite:///{src}", f"sqlite:///{dst}"
    src_name, dst_name = db.stand_in_database(src_url), db.stand_in_database(dst_url)
    if src_name is None or dst_name is None:
        with closing(sqlite3.connect(src)) as con:
            con.execute("VACUUM INTO ?", (str(dst),))  # WAL included
        return
    admin = create_engine(make_url(os.environ["HOTLINE_TEST_DATABASE_URL"]), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as con:
            # a template must have no other session: the seeding engine's idle pool still holds some
            con.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                f" WHERE datname = '{src_name}' AND pid <> pg_backend_pid()")
            con.exec_driver_sql(f'CREATE DATABASE "{dst_name}" TEMPLATE "{src_name}"')
    finally:
        admin.dispose()
