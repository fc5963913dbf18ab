"""service lease: which `serve` drives the calls (ivr/lease.py)

Revision ID: service_lease
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db

revision: str = 'service_lease'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A new table only: no existing row is touched.
    op.create_table('service_lease',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=128), nullable=True),
    sa.Column('beat', sa.Integer(), nullable=False),
    sa.Column('renewed_at', db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acquired_at', db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('service_lease')
