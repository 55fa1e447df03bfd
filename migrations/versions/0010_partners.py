"""Partners: the registry read model, sealed signing secrets, inbound webhook ids.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("partner_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("contact_email", sa.Text(), nullable=False),
        sa.Column("webhook_url", sa.Text(), nullable=False),
        sa.Column("case_ids", sa.JSON(), nullable=False),
        sa.Column("action_ids", sa.JSON(), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("auto_approve_developments", sa.Boolean(), nullable=False),
        sa.Column("endpoint_enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("api_key_hash", sa.Text(), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("partner_id"),
        sa.UniqueConstraint("api_key_hash"),
    )
    op.create_table(
        "partner_secrets",
        sa.Column("secret_id", sa.Text(), nullable=False),
        sa.Column("partner_id", sa.Text(), nullable=False),
        sa.Column("sealed_secret", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("secret_id"),
    )
    with op.batch_alter_table("partner_secrets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_secrets_partner_id"), ["partner_id"],
                              unique=False)
    op.create_table(
        "partner_inbound_messages",
        sa.Column("partner_id", sa.Text(), nullable=False),
        sa.Column("webhook_id", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("development_id", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("partner_id", "webhook_id"),
    )


def downgrade() -> None:
    op.drop_table("partner_inbound_messages")
    with op.batch_alter_table("partner_secrets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_secrets_partner_id"))
    op.drop_table("partner_secrets")
    op.drop_table("partners")
