"""What every backend provides: the shapes of an append and the operations that differ."""

from __future__ import annotations

from collections.abc import Sequence
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


@dataclass(frozen=True)
class TailSnapshot:
    """Which transactions a tail read could not see finish.

    `in_flight` lists only ids below `xmax`, one past the newest id that had finished; an id
    at or above `xmax` may belong to a transaction still running, which the snapshot does
    not name. The reader's own transaction is never listed.
    """

    xmax: int
    in_flight: frozenset[int]

    def all_finished_below(self, horizon: int) -> bool:
        """Whether every transaction with an id below `horizon`, but the reader's, had ended."""
        return horizon <= self.xmax and all(xid >= horizon for xid in self.in_flight)


class Backend(Protocol):
    """The operations whose SQL differs between PostgreSQL and SQLite."""

    commits_in_position_order: bool
    folds_writes: bool  # then `append` runs `folded` statements in the append's own

    def append(
        self, conn: Connection, stream_id: str, events: list[EncodedEvent], expected: int,
        folded: Sequence[str] = (),
    ) -> list[Appended]: ...

    def append_alone(
        self, stream_id: str, events: list[EncodedEvent], expected: int,
        folded: Sequence[str] = (),
    ) -> list[Appended]:
        """The append as a transaction of its own, committed on return."""

    def read_tail(
        self, conn: Connection, after: int, limit: int
    ) -> tuple[list[Row[Any]], TailSnapshot | None]:
        """Committed events after `after`, and the snapshot they were read in (None where
        commits follow positions, so nothing uncommitted can precede a committed event)."""

    def horizon(self, conn: Connection) -> int:
        """A transaction id above that of every transaction begun before `conn`'s last read."""

    def snapshot(self, conn: Connection) -> TailSnapshot | None:
        """Which transactions have not ended, as `conn` sees now (None where commits follow
        positions)."""
