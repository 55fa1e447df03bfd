"""Projections: read-model tables derived from events, kept live or rebuilt from position 0."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from sqlalchemy import Connection, Table, delete

from events.records import StoredEvent
from events.sql import lock_tables

Mode = Literal["inline", "catch-up"]


class Projection(Protocol):
    """A read model: the event types it handles, the tables it owns, how it applies a batch.

    `apply` receives only events of the declared types, in position order, inside the
    transaction that also records progress (the append for inline projections, the
    checkpoint for catch-up ones). It must be deterministic: a rebuild replays it.
    """

    name: str
    mode: Mode
    event_types: frozenset[str] | None  # None: every type
    tables: Sequence[Table]

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None: ...


@dataclass(frozen=True)
class FoldedWrite:
    """A projection's writes for some event types as one SQL statement that a backend able
    to (PostgreSQL) runs inside the append's own statement, as a data-modifying CTE: no
    round trip and no statement of their own. `sql` reads the appended rows from
    `inserted(position, stream_id, stream_version, type, data, recorded_at)` (`data` is the
    stored JSON); it must write what `apply` writes for those types, and nothing when
    `inserted` holds none of them. A projection offers one as its `folded` attribute.
    """

    event_types: frozenset[str] | None  # None: every type
    sql: str

    def handles(self, event_type: str) -> bool:
        """Whether the statement writes for events of `event_type`."""
        return self.event_types is None or event_type in self.event_types


def folded_write(projection: Projection) -> FoldedWrite | None:
    """The projection's folded write, if it offers one (an optional attribute)."""
    folded = getattr(projection, "folded", None)
    return folded if isinstance(folded, FoldedWrite) else None


def relevant(projection: Projection, batch: Iterable[StoredEvent]) -> list[StoredEvent]:
    """The events of `batch` that `projection` handles."""
    types = projection.event_types
    return list(batch) if types is None else [e for e in batch if e.type in types]


def apply_inline(
    conn: Connection, projections: Sequence[Projection], batch: Sequence[StoredEvent],
    *, folded: bool = False,
) -> None:
    """Update every inline projection for a just-appended batch, in the append's transaction.

    `folded`: the append's statement ran the projections' folded writes already, so the
    events they handled are left out.
    """
    for projection in projections:
        if projection.mode == "inline":
            handled = relevant(projection, batch)
            write = folded_write(projection) if folded else None
            if write is not None:
                handled = [e for e in handled if not write.handles(e.type)]
            if handled:
                projection.apply(conn, handled)


def clear_tables(conn: Connection, projection: Projection) -> None:
    """Empty a projection's tables, children first (the declared order is parents first)."""
    # Writers of inline projections wait here, so the rebuild sees every committed event.
    lock_tables(conn, projection.tables)
    for table in reversed(projection.tables):
        conn.execute(delete(table))


def latest_per_stream(batch: Iterable[StoredEvent]) -> dict[str, StoredEvent]:
    """The last event of each stream in `batch`, streams in the order they first appear.

    Projections that mirror an aggregate rewrite its row once per batch, from the state
    as of that last event.
    """
    latest: dict[str, StoredEvent] = {}
    for event in batch:
        latest[event.stream_id] = event
    return latest
