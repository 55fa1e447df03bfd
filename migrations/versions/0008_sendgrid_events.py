"""E-mail delivery: mail_deliveries, sendgrid_events (webhook dedupe), mailing_event_counts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_deliveries",
        sa.Column("delivery_id", sa.Text(), nullable=False),
        sa.Column("mailing_id", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Text(), nullable=False),
        sa.Column("supporter_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("delivery_id"),
    )
    op.create_index("ix_mail_deliveries_mailing_id", "mail_deliveries", ["mailing_id"])
    op.create_index("ix_mail_deliveries_batch_id", "mail_deliveries", ["batch_id"])
    op.create_table(
        "sendgrid_events",
        sa.Column("sg_event_id", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sg_event_id"),
    )
    op.create_index("ix_sendgrid_events_received_at", "sendgrid_events", ["received_at"])
    op.create_table(
        "mailing_event_counts",
        sa.Column("mailing_id", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("mailing_id", "event_type"),
    )


def downgrade() -> None:
    op.drop_table("mailing_event_counts")
    op.drop_index("ix_sendgrid_events_received_at", table_name="sendgrid_events")
    op.drop_table("sendgrid_events")
    op.drop_index("ix_mail_deliveries_batch_id", table_name="mail_deliveries")
    op.drop_index("ix_mail_deliveries_mailing_id", table_name="mail_deliveries")
    op.drop_table("mail_deliveries")
