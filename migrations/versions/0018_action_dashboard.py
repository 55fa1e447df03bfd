"""The live action dashboard: counts per day and per official, channel, country and
language, the supporters' country and language, and the time chart's markers.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None
# New tables of a catch-up projection: events the code before it appends are
# caught up by the new code's clock.
compatible_with_previous = True

COUNTS = ("supporters", "letters_pledged", "letters_confirmed")


def _counts() -> list[sa.Column[int]]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS]


def upgrade() -> None:
    op.create_table(
        "dashboard_days",
        sa.Column("action_id", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *_counts(),
        sa.PrimaryKeyConstraint("action_id", "day"),
    )
    op.create_table(
        "dashboard_splits",
        sa.Column("action_id", sa.Text(), nullable=False),
        sa.Column("dimension", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        *_counts(),
        sa.PrimaryKeyConstraint("action_id", "dimension", "name"),
    )
    op.create_table(
        "dashboard_supporters",
        sa.Column("supporter_id", sa.Text(), nullable=False),
        sa.Column("country", sa.Text(), nullable=False),
        sa.Column("language", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("supporter_id"),
    )
    op.create_table(
        "dashboard_markers",
        sa.Column("action_id", sa.Text(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("action_id", "position"),
    )


def downgrade() -> None:
    for table in ("dashboard_markers", "dashboard_supporters", "dashboard_splits",
                  "dashboard_days"):
        op.drop_table(table)
