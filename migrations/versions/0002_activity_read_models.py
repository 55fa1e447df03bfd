"""Read models: the stream directory (inline) and daily activity (catch-up).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stream_directory",
        sa.Column("stream_id", sa.Text(), primary_key=True),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_position", sa.BigInteger(), nullable=False),
        sa.Column("first_recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_stream_directory_category", "stream_directory", ["category"])
    op.create_table(
        "daily_activity",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("event_type", sa.Text(), primary_key=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("daily_activity")
    op.drop_index("ix_stream_directory_category", table_name="stream_directory")
    op.drop_table("stream_directory")
