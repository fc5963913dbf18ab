"""The database shared by all packages: engine, sessions, migrations.

Each package declares its own tables (``<package>/tables.py``) on :class:`Base`; the
schema is created and upgraded by Alembic (``migrations/``), automatically on first use.
SQLite runs in WAL mode so the IVR, the transcription workers and the CLI can read and
write the same file at once; PostgreSQL works by URL.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import DateTime, Engine, create_engine, event, make_url
from sqlalchemy.exc import IntegrityError, ProgrammingError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use db.now() or an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


def now() -> datetime:
    return datetime.now(UTC)


_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def stand_in_database(url: str) -> str | None:
    """Under HOTLINE_TEST_DATABASE_URL (a PostgreSQL URL; tests only) the name of the database on that
    server that stands for the SQLite file ``url`` names; None when the URL is used as it is."""
    if not os.environ.get("HOTLINE_TEST_DATABASE_URL") or not url.startswith("sqlite:///") or url.endswith(":memory:"):
        return None
    return "t_" + hashlib.sha1(str(Path(url[len("sqlite:///"):]).resolve()).encode()).hexdigest()[:20]


def _note_test_use(url: str) -> None:
    """With HOTLINE_TEST_DB_LOG (tests only; ./dev.sh sets it) note the test module that opens a database
    file, in-process or in a `hotline` child (pytest's PYTEST_CURRENT_TEST is inherited): the modules the
    PostgreSQL pass runs."""
    log, current = os.environ.get("HOTLINE_TEST_DB_LOG"), os.environ.get("PYTEST_CURRENT_TEST")
    if log and current and url.startswith("sqlite:///") and not url.endswith(":memory:"):
        with open(log, "a", encoding="utf-8") as f:  # one short line per write: appends do not interleave
            f.write(current.split("::", 1)[0] + "\n")


def _on_test_server(url: str) -> str:
    """With HOTLINE_TEST_DATABASE_URL each SQLite file a test names becomes a database of its own
    on that server (created on first use), so the suite runs unchanged on both."""
    _note_test_use(url)
    name = stand_in_database(url)
    if name is None:
        return url
    base = make_url(os.environ["HOTLINE_TEST_DATABASE_URL"])
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.exec_driver_sql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'").first() is None:
            with contextlib.suppress(ProgrammingError, IntegrityError):  # another process created it meanwhile
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    url = _on_test_server(url)
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> Any:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", _on_test_server(url).replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Bring the schema at ``url`` to the newest revision."""
    command.upgrade(alembic_config(url), "head")


def engine_for(url: str) -> Engine:
    """One engine per URL per process, migrated on first use."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            upgrade(url)
            engine = _engines[url] = make_engine(url)
        return engine


def sessions(url: str) -> sessionmaker[Session]:
    return sessionmaker(engine_for(url), expire_on_commit=False)


@contextmanager
def transaction(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with sessions(url).begin() as session:
        yield session


def close_idle() -> None:
    """Close the pooled connections no one holds (engines stay, migrated). The PostgreSQL pass of the
    tests calls it after each test: a database per test keeps its idle connections, up to the server's
    client limit ("too many clients already") some hundred tests in."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()


def dispose_all() -> None:
    """Forget engines (after fork, so a child process opens its own connections)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose(close=False)
        _engines.clear()
