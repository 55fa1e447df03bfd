"""Mail batches: each planned batch, its outcome, and its last attempt.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_batches",
        sa.Column("batch_id", sa.Text(), nullable=False),
        sa.Column("mailing_id", sa.Text(), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("batch_id"),
    )
    with op.batch_alter_table("mail_batches", schema=None) as batch_op:
        batch_op.create_index("ix_mail_batches_outcome_planned_at", ["outcome", "planned_at"],
                              unique=False)
    # Batches planned before this table existed: the log has them; rebuilding the
    # projection (`campaign projections rebuild mail_batches`) fills it in.


def downgrade() -> None:
    with op.batch_alter_table("mail_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_batches_outcome_planned_at")
    op.drop_table("mail_batches")
