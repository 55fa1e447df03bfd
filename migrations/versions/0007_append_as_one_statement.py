"""Drop events_append: an append is now one plain SQL statement (events/backends/postgres.py).

The PL/pgSQL function cost four times the server CPU of the same steps written as a
single statement, and its five array parameters cost the client more than the insert
cost the server. The statement keeps every guarantee: transaction id before position,
version check, idempotent event ids.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from importlib import import_module

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION events_append(text, integer, uuid[], text[], smallint[], "
                   "text[], text[])")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(import_module("migrations.versions.0001_event_store").POSTGRES_APPEND)
