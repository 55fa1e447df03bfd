"""Console sessions, and what the console shows about each API token.

A campaigner signs in to the console with an API token and gets a server-side session: the
cookie holds a random session id, and only its hash is stored. Tokens gain the campaigner's
own address (for test sends), who made them, when they were last used and when revoked.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None
# A new table and nullable columns: the code before it never reads them, and
# tokens it creates simply have no e-mail or creator.
compatible_with_previous = True


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("session_hash", sa.Text(), primary_key=True),
        sa.Column("token_id", sa.Text(), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_console_sessions_created_at", "console_sessions", ["created_at"])
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("email", sa.Text(), nullable=True))
        batch.add_column(sa.Column("created_by", sa.Text(), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        for column in ("revoked_at", "last_used_at", "created_by", "email"):
            batch.drop_column(column)
    op.drop_index("ix_console_sessions_created_at", "console_sessions")
    op.drop_table("console_sessions")
