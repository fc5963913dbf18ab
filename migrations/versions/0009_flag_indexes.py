"""flag indexes for the review app at 50,000 flags (issue 14): report counts, rule and severity filters

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, columns); qa/tables.py declares the same on Flag, so autogenerate finds nothing to add.
INDEXES = (
    # The reports count a period's flags per rule, category, status, sureness and severity, reached from
    # the period's calls by call_id: with every counted column in the index, no flag row is read (a
    # year: 1.2 s to 0.3 s at 50,000 flags). Scoring a call reads the same columns by call_id.
    ("ix_flags_call_facts", ["call_id", "rule_id", "category", "status", "needs_listening", "severity",
                             "confidence"]),
    # The queue: the flags of one status surest first, read in the index's order down to the page (page
    # 100 of the unreviewed no longer walks every flag's confidence to skip the other statuses); filtered
    # by rule or severity the same, and the counts per status read from the index alone.
    ("ix_flags_status_confidence", ["status", "confidence"]),
    ("ix_flags_rule_status", ["rule_id", "status", "confidence"]),
    ("ix_flags_severity_status", ["severity", "status", "confidence"]),
)


def upgrade() -> None:
    # Plain CREATE INDEX: no batch mode, so the flags table (and its reviews) is never copied.
    for name, columns in INDEXES:
        op.create_index(name, "flags", columns, unique=False)


def downgrade() -> None:
    for name, _ in INDEXES:
        op.drop_index(name, table_name="flags")
