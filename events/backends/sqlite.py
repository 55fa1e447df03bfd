"""SQLite: one writer at a time, so commits follow positions and appends need no function."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, insert, literal_column, select
from sqlalchemy.sql.elements import ColumnElement

from events.backends.base import Appended, EncodedEvent, TailSnapshot
from events.errors import ConcurrencyError, DuplicateEventError
from events.records import ANY
from events.schema import events

_NOW: ColumnElement[str] = literal_column("strftime('%Y-%m-%d %H:%M:%f', 'now')")


class SqliteBackend:
    """Appends and tail reads for SQLite (every transaction is BEGIN IMMEDIATE)."""

    commits_in_position_order = True
    folds_writes = False

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(
        self, conn: Connection, stream_id: str, batch: list[EncodedEvent], expected: int,
        folded: Sequence[str] = (),
    ) -> list[Appended]:
        """Check ids and version, then insert; the write lock makes the two steps atomic."""
        if folded:
            raise ValueError("SQLite runs no folded writes: apply the projections instead")
        ids = [e.event_id for e in batch]
        stored = conn.execute(
            select(events.c.event_id, events.c.stream_id, events.c.position,
                   events.c.stream_version, events.c.recorded_at)
            .where(events.c.event_id.in_(ids))
        ).all()
        if stored:
            return _already_stored(stream_id, ids, stored)
        current = conn.execute(
            select(func.coalesce(func.max(events.c.stream_version), 0))
            .where(events.c.stream_id == stream_id)
        ).scalar_one()
        if expected != ANY and expected != current:
            raise ConcurrencyError(stream_id, expected, current)
        rows = [
            {
                "event_id": e.event_id,
                "stream_id": stream_id,
                "stream_version": current + n,
                "type": e.type,
                "schema_version": e.schema_version,
                "data": e.data,
                "metadata": e.metadata,
            }
            for n, e in enumerate(batch, start=1)
        ]
        result = conn.execute(
            insert(events)
            .values(recorded_at=_NOW)
            .returning(events.c.position, events.c.stream_version, events.c.recorded_at,
                       sort_by_parameter_order=True),
            rows,
        )
        return [Appended(p, v, at, False) for p, v, at in result.all()]

    def append_alone(
        self, stream_id: str, batch: list[EncodedEvent], expected: int,
        folded: Sequence[str] = (),
    ) -> list[Appended]:
        """The append in a transaction of its own."""
        with self.engine.begin() as conn:
            return self.append(conn, stream_id, batch, expected, folded)

    def read_tail(
        self, conn: Connection, after: int, limit: int
    ) -> tuple[list[Row[Any]], TailSnapshot | None]:
        """Committed events after `after`; nothing is ever in flight below them."""
        rows = conn.execute(
            select(events).where(events.c.position > after).order_by(events.c.position).limit(limit)
        ).all()
        return list(rows), None

    def horizon(self, conn: Connection) -> int:
        """Never needed: a committed position is never preceded by an uncommitted one."""
        return 0

    def snapshot(self, conn: Connection) -> TailSnapshot | None:
        """Never needed, for the same reason."""
        return None


def _already_stored(
    stream_id: str, ids: list[Any], stored: Sequence[Any]
) -> list[Appended]:
    by_id = {row.event_id: row for row in stored}
    if len(by_id) != len(ids) or any(row.stream_id != stream_id for row in stored):
        raise DuplicateEventError(f"some event ids of the batch for {stream_id!r} are stored")
    return [
        Appended(by_id[i].position, by_id[i].stream_version, by_id[i].recorded_at, True)
        for i in ids
    ]
