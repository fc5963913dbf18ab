"""needs-review flags get a category of their own: ``review`` instead of ``opening``

Revision ID: 0013
Revises: 0012

A transcript the ASR could not make out raised ``transcript.needs-review`` filed under the
opening, so reports counted it as a missing opening. The scan now files it as ``review``;
flags raised before are moved too, so a period's figures do not mix the two. Reviews and
statuses stay as they are. The downgrade puts them back under ``opening``.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported: the revision keeps meaning what it meant if settings change.
_RULE = "transcript.needs-review"


def upgrade() -> None:
    op.execute(f"UPDATE flags SET category = 'review' WHERE rule_id = '{_RULE}'")


def downgrade() -> None:
    op.execute(f"UPDATE flags SET category = 'opening' WHERE rule_id = '{_RULE}'")
