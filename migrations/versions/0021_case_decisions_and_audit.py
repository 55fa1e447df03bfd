"""Case timeline: who recorded, approved or rejected each development; the audit entries.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None
# Not compatible: the inline case timeline would record developments without
# who recorded, approved or rejected them until `campaign projections rebuild`.
compatible_with_previous = False

TIMELINE_COLUMNS = ("recorded_by", "approved_by", "rejected_by", "rejection_reason")


def upgrade() -> None:
    # Rows written before these columns knew no actor: they stay null until a rebuild.
    for name in TIMELINE_COLUMNS:
        op.add_column("case_timeline", sa.Column(name, sa.Text(), nullable=True))
    op.add_column("case_timeline",
                  sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "audit_entries",
        sa.Column("position", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("stream_id", sa.Text(), nullable=False),
    )
    op.create_index("ix_audit_entries_actor_position", "audit_entries", ["actor", "position"])
    op.create_index("ix_audit_entries_type_position", "audit_entries",
                    ["event_type", "position"])


def downgrade() -> None:
    op.drop_table("audit_entries")
    with op.batch_alter_table("case_timeline") as batch:
        for name in (*TIMELINE_COLUMNS, "rejected_at"):
            batch.drop_column(name)
