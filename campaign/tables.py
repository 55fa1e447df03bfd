"""The product's own tables: read models (filled by projections), credentials, idempotency.

Alembic creates them; projections fill the read models; rebuilds refill them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Table,
    Text,
    func,
)

metadata = MetaData()

stream_directory = Table(
    "stream_directory",
    metadata,
    Column("stream_id", Text(), primary_key=True),
    Column("category", Text(), nullable=False, index=True),
    Column("version", Integer(), nullable=False),
    Column("last_position", BigInteger(), nullable=False),
    Column("first_recorded_at", DateTime(timezone=True), nullable=False),
    Column("last_recorded_at", DateTime(timezone=True), nullable=False),
)

daily_activity = Table(
    "daily_activity",
    metadata,
    Column("day", Date(), primary_key=True),
    Column("event_type", Text(), primary_key=True),
    Column("count", BigInteger(), nullable=False),
)

# Credentials, not history: tokens live outside the log and are stored only as hashes.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", Text(), primary_key=True),
    Column("name", Text(), nullable=False),
    Column("role", Text(), nullable=False),
    Column("token_hash", Text(), nullable=False, unique=True),
    Column("revoked", Boolean(), nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
