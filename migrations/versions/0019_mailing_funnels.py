"""Mailing funnels: each mailing of an action as unique people per stage.

`mailings`, `mailing_recipients`, `mailing_batch_failures` and `mailing_response_hours`
belong to the `mailings` catch-up projection, which starts from the beginning of the log:
mailings sent before this revision are filled in by the first runs.
`mailing_provider_people`, `mailing_provider_counts` and `mailing_provider_hours` are kept
from SendGrid's events as they arrive: events received before this revision were counted
as events only (`mailing_event_counts`), not as people.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None
# Not compatible: the code before it takes SendGrid's events without counting
# their people in mailing_provider_*, so funnels would miss the overlap's readers.
compatible_with_previous = False

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mailings",
        sa.Column("mailing_id", sa.Text(), nullable=False),
        sa.Column("action_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("planned_at", WHEN, nullable=False),
        sa.Column("batches_planned", sa.Integer(), nullable=False),
        sa.Column("recipients_planned", sa.Integer(), nullable=False),
        sa.Column("batches_accepted", sa.Integer(), nullable=False),
        sa.Column("batches_failed", sa.Integer(), nullable=False),
        sa.Column("recipients_sent", sa.Integer(), nullable=False),
        sa.Column("recipients_failed", sa.Integer(), nullable=False),
        sa.Column("first_outcome_at", WHEN, nullable=True),
        sa.Column("last_outcome_at", WHEN, nullable=True),
        sa.Column("completed_at", WHEN, nullable=True),
        sa.Column("pledged", sa.Integer(), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("mailing_id"),
    )
    op.create_index("ix_mailings_action_id", "mailings", ["action_id"])
    op.create_table(
        "mailing_recipients",
        sa.Column("delivery_id", sa.Text(), nullable=False),
        sa.Column("mailing_id", sa.Text(), nullable=False),
        sa.Column("action_id", sa.Text(), nullable=False),
        sa.Column("supporter_id", sa.Text(), nullable=False),
        sa.Column("sent_at", WHEN, nullable=False),
        sa.Column("pledged_at", WHEN, nullable=True),
        sa.Column("confirmed_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("delivery_id"),
    )
    op.create_index("ix_mailing_recipients_mailing_id", "mailing_recipients", ["mailing_id"])
    op.create_index("ix_mailing_recipients_supporter_action", "mailing_recipients",
                    ["supporter_id", "action_id"])
    op.create_table(
        "mailing_batch_failures",
        sa.Column("batch_id", sa.Text(), nullable=False),
        sa.Column("mailing_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("failed_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("batch_id"),
    )
    op.create_index("ix_mailing_batch_failures_mailing_id", "mailing_batch_failures",
                    ["mailing_id"])
    op.create_table(
        "mailing_provider_people",
        sa.Column("delivery_id", sa.Text(), nullable=False),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("mailing_id", sa.Text(), nullable=False),
        sa.Column("first_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", "stage"),
    )
    op.create_table(
        "mailing_provider_counts",
        sa.Column("mailing_id", sa.Text(), nullable=False),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("people", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("mailing_id", "stage"),
    )


    for name in ("mailing_provider_hours", "mailing_response_hours"):
        op.create_table(
            name,
            sa.Column("mailing_id", sa.Text(), nullable=False),
            sa.Column("stage", sa.Text(), nullable=False),
            sa.Column("hour", WHEN, nullable=False),
            sa.Column("people", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("mailing_id", "stage", "hour"),
        )


def downgrade() -> None:
    op.drop_table("mailing_response_hours")
    op.drop_table("mailing_provider_hours")
    op.drop_table("mailing_provider_counts")
    op.drop_table("mailing_provider_people")
    op.drop_index("ix_mailing_batch_failures_mailing_id", "mailing_batch_failures")
    op.drop_table("mailing_batch_failures")
    op.drop_index("ix_mailing_recipients_supporter_action", "mailing_recipients")
    op.drop_index("ix_mailing_recipients_mailing_id", "mailing_recipients")
    op.drop_table("mailing_recipients")
    op.drop_index("ix_mailings_action_id", "mailings")
    op.drop_table("mailings")
