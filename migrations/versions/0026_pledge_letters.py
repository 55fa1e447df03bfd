"""Each pledge's confirmed letters on its read-model row, so a letter needs no replay
(expand only: new nullable column; rows written before it keep NULL and replay).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None
compatible_with_previous = True


def upgrade() -> None:
    op.add_column("pledges", sa.Column(
        "letters", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pledges") as batch:
        batch.drop_column("letters")
