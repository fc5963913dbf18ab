"""web_sessions: the review app's sign-in sessions in the database, not one process's memory

Revision ID: 0011
Revises: 0010

A restart of the app no longer signs everyone out, two app processes share the sessions, and
`hotline users passwd / disable` end an account's sessions at once. Only a hash of each token is
stored. Sessions held in memory before this are simply gone: their users sign in again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("started_at", db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_web_sessions_account", "web_sessions", ["account"])
    op.create_index("ix_web_sessions_seen_at", "web_sessions", ["seen_at"])


def downgrade() -> None:
    op.drop_table("web_sessions")
