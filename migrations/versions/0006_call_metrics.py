"""call_metrics: the conversation measured per call (qa/conversation.py, issue 15)

Revision ID: 0006
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A new table only: calls scanned before it have no row until QA scans them again.
    op.create_table(
        "call_metrics",
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("measured_at", db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("connected_s", sa.Double(), nullable=False),
        sa.Column("agent_talk_s", sa.Double(), nullable=False),
        sa.Column("caller_talk_s", sa.Double(), nullable=False),
        sa.Column("talk_ratio", sa.Double(), nullable=True),
        sa.Column("silence_s", sa.Double(), nullable=False),
        sa.Column("longest_silence_s", sa.Double(), nullable=True),
        sa.Column("longest_silence_at_s", sa.Double(), nullable=True),
        sa.Column("interruptions", sa.Integer(), nullable=False),
        sa.Column("agent_cpm", sa.Double(), nullable=True),
        sa.Column("caller_cpm", sa.Double(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("call_id"),
    )


def downgrade() -> None:
    op.drop_table("call_metrics")
