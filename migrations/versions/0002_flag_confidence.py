"""flag confidence: the ASR's score, the audio check's score, the combined score, needs-listening

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Flags raised before this revision have no scores: they stay NULL (unknown), which
    # `qa list` shows as "-" and sorts last; needs_listening starts false for them.
    # Only plain ADD COLUMNs with a constant default: on SQLite anything else makes batch
    # mode copy-and-move the table, and dropping the old `flags` with foreign keys on
    # cascades into `reviews` (the audit trail would be deleted).
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('asr_confidence', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('verify_confidence', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('confidence', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('needs_listening', sa.Boolean(), nullable=False,
                                      server_default='0'))
        batch_op.create_index('ix_flags_confidence', ['confidence'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_index('ix_flags_confidence')
        batch_op.drop_column('needs_listening')
        batch_op.drop_column('confidence')
        batch_op.drop_column('verify_confidence')
        batch_op.drop_column('asr_confidence')
