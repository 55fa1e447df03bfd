"""Action translations: an action's title, summary, body, asks and additional information
in other languages, and whether each still translates the action's current text.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "action_translations",
        sa.Column("action_id", sa.Text(), nullable=False),
        sa.Column("language", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("asks", sa.JSON(), nullable=False),
        sa.Column("additional_information", sa.Text(), nullable=False),
        sa.Column("translated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("action_id", "language"),
    )


def downgrade() -> None:
    op.drop_table("action_translations")
