"""Tables owned by the event store. Alembic creates them; this module only describes them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

JSONDocument = JSON().with_variant(JSONB(), "postgresql")
# SQLite only turns INTEGER PRIMARY KEY into the rowid alias; PostgreSQL gets bigint.
Position = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("event_id", Uuid(), nullable=False, unique=True),
    Column("stream_id", Text(), nullable=False),
    Column("stream_version", Integer(), nullable=False),
    Column("type", Text(), nullable=False),
    Column("schema_version", SmallInteger(), nullable=False),
    Column("data", JSONDocument, nullable=False),
    Column("metadata", JSONDocument, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    # PostgreSQL only: the writing transaction (pg_current_xact_id), for diagnosing tails.
    Column("xact_id", BigInteger(), nullable=True),
    Index("events_stream_version_key", "stream_id", "stream_version", unique=True),
    sqlite_autoincrement=True,
)

subscription_checkpoints = Table(
    "subscription_checkpoints",
    metadata,
    Column("name", Text(), primary_key=True),
    Column("position", BigInteger(), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("failed_position", BigInteger(), nullable=True),
    Column("last_error", Text(), nullable=True),
    # When the subscription first failed at `failed_position`; kept while it fails there.
    Column("failed_since", DateTime(timezone=True), nullable=True),
)

# Events a subscription or a rebuild could not handle for a reason no retry fixes: set aside
# so the rest of the log goes on, kept with the error for operators to see.
parked_events = Table(
    "parked_events",
    metadata,
    Column("subscription", Text(), primary_key=True),
    Column("position", BigInteger(), primary_key=True),
    Column("event_id", Uuid(), nullable=False),
    Column("event_type", Text(), nullable=False),
    Column("error", Text(), nullable=False),
    Column("parked_at", DateTime(timezone=True), nullable=False),
)

# Unlike the log, this table allows DELETE: destroying a key is how a person is erased.
personal_data_keys = Table(
    "personal_data_keys",
    metadata,
    Column("subject_id", Text(), primary_key=True),
    Column("wrapped_key", LargeBinary(), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The id of the secret that wrapped the key (events.keyring.key_id); NULL for keys
    # wrapped before key ids, which are tried under each secret of the ring.
    Column("key_id", Text(), nullable=True),
)
