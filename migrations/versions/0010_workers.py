"""Procrastinate's task tables, on PostgreSQL only: workers on many hosts (issue 17)

Revision ID: 0010
Revises: 0009

SQLite (the single-host default: serve's own worker pool) gets nothing. On PostgreSQL the tables
exist even while ``workers.engine`` is ``pool``, so switching engines needs no schema step.
A later Procrastinate release brings its own SQL migrations (procrastinate/sql/migrations):
they become revisions after this one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # a database whose tables Procrastinate's own CLI made (`procrastinate schema --apply`) keeps them
    if bind.execute(sa.text("SELECT to_regclass('procrastinate_jobs')")).scalar() is None:
        bind.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for kind, names in (
        ("TABLE", "SELECT tablename FROM pg_tables WHERE tablename LIKE 'procrastinate%'"),
        ("FUNCTION", "SELECT oid::regprocedure::text FROM pg_proc WHERE proname LIKE 'procrastinate%'"),
        ("TYPE", "SELECT typname FROM pg_type WHERE typname LIKE 'procrastinate%' AND typtype IN ('e', 'c')"),
    ):
        for (name,) in bind.execute(sa.text(names)).all():
            bind.exec_driver_sql(f"DROP {kind} IF EXISTS {name} CASCADE")
