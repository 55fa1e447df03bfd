"""The read-model tables. Alembic creates them; projections fill them; rebuilds refill them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, Integer, MetaData, Table, Text

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
