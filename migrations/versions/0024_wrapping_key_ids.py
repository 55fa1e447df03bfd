"""Each wrapped data key records the id of the secret that wrapped it (expand only).

Code from before this migration inserts keys without an id; those read as "wrapped before
key ids" and are tried under each secret of the ring, so the two can run side by side.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None
compatible_with_previous = True


def upgrade() -> None:
    op.add_column("personal_data_keys", sa.Column("key_id", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("personal_data_keys") as batch:
        batch.drop_column("key_id")
