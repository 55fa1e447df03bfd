"""Since when a subscription has been failing at its failed position (expand only).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None
# A nullable column: the code before it records a failure without since when,
# which the new code fills at the next failure it records at that position.
compatible_with_previous = True


def upgrade() -> None:
    op.add_column("subscription_checkpoints",
                  sa.Column("failed_since", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE subscription_checkpoints SET failed_since = updated_at "
               "WHERE failed_position IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("subscription_checkpoints") as batch:
        batch.drop_column("failed_since")
