"""recording_access dropped: its listens move to access_log, where every listen has gone since then

Revision ID: 0012
Revises: 0011

The review app stopped writing recording_access when listens joined the accounts' access log
(``listen`` / ``listen-original``, target ``call <id> <track>``). A database that served audio
before that still holds the older listens only here; an audit trail must not lose them, so they
are copied into access_log first, in the form the app writes today. The downgrade brings back the
table of 0001, empty: the copied listens stay in access_log.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# recordings/redacted.py names a redacted copy's kind with this suffix (caller -> caller-r); written
# out here so the revision keeps meaning what it meant if that module changes. A track without the
# suffix, or with no kind (the first web page served only originals), was the original recording.
_COPY = """
INSERT INTO access_log (at, account, action, target, via, address)
SELECT at, reviewer,
       CASE WHEN kind LIKE '%-r' THEN 'listen' ELSE 'listen-original' END,
       CASE WHEN kind IS NULL THEN 'call ' || CAST(call_id AS VARCHAR)
            ELSE 'call ' || CAST(call_id AS VARCHAR) || ' ' || kind END,
       'web', remote
FROM recording_access ORDER BY id
"""


def upgrade() -> None:
    op.execute(_COPY)
    with op.batch_alter_table("recording_access", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recording_access_call_id"))
    op.drop_table("recording_access")


def downgrade() -> None:
    op.create_table(
        "recording_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=True),
        sa.Column("at", db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("recording_access", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recording_access_call_id"), ["call_id"], unique=False)
