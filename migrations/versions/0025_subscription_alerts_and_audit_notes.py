"""Which stuck subscriptions were alerted about; a note on operators' audit entries
(expand only: new table, new nullable column).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None
compatible_with_previous = True


def upgrade() -> None:
    op.create_table(
        "subscription_alerts",
        sa.Column("subscription", sa.Text(), primary_key=True),
        sa.Column("failed_position", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("audit_entries", sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_entries") as batch:
        batch.drop_column("note")
    op.drop_table("subscription_alerts")
