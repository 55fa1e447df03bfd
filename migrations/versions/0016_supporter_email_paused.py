"""Supporters: whether they paused campaign e-mail (EmailPaused, EmailResumed).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nobody paused before the events existed: every row starts unpaused.
    op.add_column("supporters", sa.Column("email_paused", sa.Boolean(), nullable=False,
                                          server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("supporters") as batch:
        batch.drop_column("email_paused")
