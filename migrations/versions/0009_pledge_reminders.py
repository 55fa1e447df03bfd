"""Pledge reminders: one row per (pledge, deadline, kind) with its due time and status.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pledge_reminders",
        sa.Column("reminder_id", sa.Text(), nullable=False),
        sa.Column("pledge_id", sa.Text(), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("reminder_id"),
        sa.UniqueConstraint("pledge_id", "deadline_at", "kind",
                            name="uq_pledge_reminders_pledge_deadline_kind"),
    )
    with op.batch_alter_table("pledge_reminders", schema=None) as batch_op:
        batch_op.create_index("ix_pledge_reminders_status_due_at", ["status", "due_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pledge_reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_pledge_reminders_status_due_at")
    op.drop_table("pledge_reminders")
