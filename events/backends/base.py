"""What every backend provides: the shapes of an append and the operations that differ."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import Connection, Row


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
