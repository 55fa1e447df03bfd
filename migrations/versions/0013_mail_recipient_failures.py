"""Mail recipient failures: who was left out of a batch, and why (ids and a reason only).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_recipient_failures",
        sa.Column("delivery_id", sa.Text(), nullable=False),
        sa.Column("mailing_id", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Text(), nullable=False),
        sa.Column("supporter_id", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("delivery_id"),
    )
    with op.batch_alter_table("mail_recipient_failures", schema=None) as batch_op:
        batch_op.create_index("ix_mail_recipient_failures_mailing_id", ["mailing_id"],
                              unique=False)
        batch_op.create_index("ix_mail_recipient_failures_supporter_id", ["supporter_id"],
                              unique=False)
    # Outcomes recorded before this revision list no failures: there is nothing to fill in.


def downgrade() -> None:
    with op.batch_alter_table("mail_recipient_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_recipient_failures_supporter_id")
        batch_op.drop_index("ix_mail_recipient_failures_mailing_id")
    op.drop_table("mail_recipient_failures")
