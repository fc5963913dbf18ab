"""What the `hotline qa` command modules share: a database session with one-line errors, a clock format."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from cliutil import fail
from settings import Config

if TYPE_CHECKING:  # SQLAlchemy loads in the commands that use the database, not at `hotline --help`
    from sqlalchemy.orm import Session


@contextmanager
def db_session(cfg: Config) -> Iterator[Session]:
    import db

    try:
        with db.transaction(cfg.database_url) as session:
            yield session
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:  # an unreachable or broken database: one line, no traceback
        if type(exc).__module__.startswith("sqlalchemy") or isinstance(exc, OSError):
            fail(f"database {cfg.database.url}: {str(exc).splitlines()[0]}", code=2)
        raise


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "  --:--"
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m):3d}:{s:04.1f}"
