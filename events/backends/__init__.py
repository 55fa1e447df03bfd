"""Database-specific parts of the store: how to append atomically and how to tail safely."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import Connection, Engine, Row


@dataclass(frozen=True)
class EncodedEvent:
    """A new event whose payloads were checked by encoding them as JSON text."""

    event_id: UUID
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    data_json: str
    metadata_json: str


@dataclass(frozen=True)
class Appended:
    """One row an append wrote (or found already stored, when `existing`)."""

    position: int
    stream_version: int
    recorded_at: datetime
    existing: bool


class Backend(Protocol):
    """The operations whose SQL differs between PostgreSQL and SQLite."""

    commits_in_position_order: bool
    appends_in_one_statement: bool  # then an append needs no surrounding transaction

    def append(
        self, conn: Connection, stream_id: str, events: list[EncodedEvent], expected: int
    ) -> list[Appended]: ...

    def read_tail(
        self, conn: Connection, after: int, limit: int
    ) -> tuple[list[Row[Any]], frozenset[int]]: ...

    def in_flight_now(self, conn: Connection) -> frozenset[int]: ...


def backend_for(engine: Engine) -> Backend:
    """The backend matching the engine's dialect."""
    if engine.dialect.name == "postgresql":
        from events.backends.postgres import PostgresBackend

        return PostgresBackend(engine)
    if engine.dialect.name == "sqlite":
        from events.backends.sqlite import SqliteBackend

        return SqliteBackend(engine)
    raise ValueError(f"unsupported database dialect: {engine.dialect.name}")
