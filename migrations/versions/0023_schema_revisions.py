"""Which migrations the code before them runs on, for rolling deploys (expand only).

Code one migration behind the database cannot read the newer migration's file, so
`campaign db upgrade` records each revision's `compatible_with_previous` in this table
(migrations/env.py) and `ensure_migrated` reads it there.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None
# A new table that the code before it never reads.
compatible_with_previous = True


def upgrade() -> None:
    op.create_table(
        "schema_revisions",
        sa.Column("revision", sa.Text(), nullable=False),
        sa.Column("previous_revision", sa.Text(), nullable=True),
        sa.Column("compatible_with_previous", sa.Boolean(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("revision"),
    )


def downgrade() -> None:
    op.drop_table("schema_revisions")
