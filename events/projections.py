"""Projections: read-model tables derived from events, kept live or rebuilt from position 0."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, Protocol

from sqlalchemy import Connection, Table, delete

from events.records import EVENT_FIELDS, StoredEvent
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


def fields_read(projection: Projection) -> frozenset[str]:
    """What a rebuild reads of each event for `projection` besides its position, stream
    and type: the `reads` it may declare (`EventStore.read_page` names the fields), or all.

    A projection that declares `reads` must not look at the other fields in `apply`: a
    rebuild hands them over empty.
    """
    reads: frozenset[str] | None = getattr(projection, "reads", None)
    return EVENT_FIELDS if reads is None else reads


def relevant(projection: Projection, batch: Iterable[StoredEvent]) -> list[StoredEvent]:
    """The events of `batch` that `projection` handles."""
    types = projection.event_types
    return list(batch) if types is None else [e for e in batch if e.type in types]


def apply_inline(
    conn: Connection, projections: Sequence[Projection], batch: Sequence[StoredEvent]
) -> None:
    """Update every inline projection for a just-appended batch, in the append's transaction."""
    for projection in projections:
        if projection.mode == "inline":
            handled = relevant(projection, batch)
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
