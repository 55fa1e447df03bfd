"""Each pledge's confirmed letters on its read-model row, so a letter needs no replay
(expand only: new nullable column; rows written before it keep NULL and replay), and room
left on the table's pages for the rows to grow (a storage parameter: pages written from now
on keep it).

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
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE pledges SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE pledges RESET (fillfactor)")
    with op.batch_alter_table("pledges") as batch:
        batch.drop_column("letters")
