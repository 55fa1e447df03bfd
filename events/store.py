"""The event store: append to streams with optimistic concurrency, read streams and the log."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, Row, bindparam, case, func, null, select
from sqlalchemy.sql import ColumnElement

from events.backends import EncodedEvent, backend_for
from events.projections import FoldedWrite, Projection, apply_inline, fold_plan
from events.records import ANY, EVENT_FIELDS, JSON, AppendResult, NewEvent, StoredEvent, as_utc
from events.schema import events
from events.serialization import to_json
from events.sql import DriverRead, driver_rows
from events.upcasting import Upcasters

UNREAD: dict[str, Any] = {
    "event_id": UUID(int=0), "stream_version": 0, "schema_version": 0, "data": {},
    "metadata": {}, "recorded_at": datetime.fromtimestamp(0, UTC)}
"""What a field `read_page` was not asked to read holds."""

AppendObserver = Callable[[Sequence[str]], None]
"""Told the types of the events an append wrote (not of ids already stored), in order."""


# A stream's events, the statement built once: a command reads its stream on every write.
_STREAM = DriverRead(
    select(events)
    .where(events.c.stream_id == bindparam("stream_id"),
           events.c.stream_version >= bindparam("from_version"))
    .order_by(events.c.stream_version)
)


class EventStore:
    """Append-only storage of events in streams, with inline projections in the same transaction."""

    def __init__(
        self,
        engine: Engine,
        upcasters: Upcasters | None = None,
        projections: Sequence[Projection] = (),
        observers: Sequence[AppendObserver] = (),
    ) -> None:
        self.engine = engine
        self.backend = backend_for(engine)
        self.upcasters = upcasters or Upcasters()
        self.projections = list(projections)
        self.observers = list(observers)
        self._settled = 0
        self._settled_guard = threading.Lock()

    @property
    def settled(self) -> int:
        """A position at or below which every gap is dead for good (rolled back), as proven
        by a tail (events.tailing): a gap there never fills, so no reader need wait on it."""
        return self._settled

    def settle(self, position: int) -> None:
        """Record that no gap at or below `position` can fill any more."""
        with self._settled_guard:
            self._settled = max(self._settled, position)

    @contextmanager
    def transaction(self, conn: Connection | None = None) -> Iterator[Connection]:
        """The caller's connection as is, or a new transaction committed on success."""
        if conn is not None:
            yield conn
            return
        with self.engine.begin() as own:
            yield own

    def append(
        self,
        stream_id: str,
        new_events: Sequence[NewEvent],
        expected_version: int = ANY,
        *,
        conn: Connection | None = None,
    ) -> AppendResult:
        """Append atomically; re-appending stored event ids returns their original positions.

        Raises ConcurrencyError when the stream is not at `expected_version` (NO_STREAM, ANY
        or an exact version) and EventSerializationError before touching the database when
        a payload is not JSON.
        """
        if not new_events:
            raise ValueError("append needs at least one event")
        batch = [_encode(e) for e in new_events]
        plan = fold_plan(self.projections, [e.type for e in batch]) \
            if self.backend.folds_writes else {}
        folded = tuple(w.sql for w in plan.values())
        if conn is None and not self._inline_for(batch, plan):
            # Nothing else to write in the same transaction: the backend's cheapest commit.
            appended = self.backend.append_alone(stream_id, batch, expected_version, folded)
            self._observe(appended[0].existing, batch)
            return AppendResult([a.position for a in appended], appended[-1].stream_version)
        with self.transaction(conn) as tx:
            appended = self.backend.append(tx, stream_id, batch, expected_version, folded)
            if not appended[0].existing:
                stored = [
                    self._record(
                        a.position, e.event_id, stream_id, a.stream_version, e.type,
                        e.schema_version, e.data, e.metadata, a.recorded_at,
                    )
                    for a, e in zip(appended, batch, strict=True)
                ]
                apply_inline(tx, self.projections, stored, folded=plan)
        self._observe(appended[0].existing, batch)
        return AppendResult([a.position for a in appended], appended[-1].stream_version)

    def _observe(self, existing: bool, batch: Sequence[EncodedEvent]) -> None:
        """Tell the observers what was written; a retried append wrote nothing.

        Inside a caller's transaction that is when the rows are written, before the commit.
        """
        if existing or not self.observers:
            return
        types = [e.type for e in batch]
        for observer in self.observers:
            observer(types)

    def _inline_for(self, batch: Sequence[EncodedEvent], plan: dict[str, FoldedWrite]) -> bool:
        """Whether an inline projection wants any event of the batch that the append's
        statement does not write for it (`plan`, from `fold_plan`)."""
        return any(self._wants(p, e.type, plan.get(p.name))
                   for p in self.projections for e in batch)

    @staticmethod
    def _wants(projection: Projection, event_type: str, write: FoldedWrite | None) -> bool:
        if projection.mode != "inline":
            return False
        if projection.event_types is not None and event_type not in projection.event_types:
            return False
        return write is None or not write.handles(event_type)

    def read_stream(
        self, stream_id: str, from_version: int = 1, *, to_version: int | None = None,
        before_position: int | None = None, conn: Connection | None = None,
    ) -> list[StoredEvent]:
        """The stream's events from `from_version` on, upcast to their current schema.

        `to_version` stops at that version (included); `before_position` keeps only the
        events the log held before that global position: the stream as it stood then.
        """
        params = {"stream_id": stream_id, "from_version": from_version}
        if to_version is None and before_position is None:
            with self.transaction(conn) as tx:
                return [self.to_record(row) for row in _STREAM.rows(tx, params)]
        query = _STREAM.statement
        if to_version is not None:
            query = query.where(events.c.stream_version <= to_version)
        if before_position is not None:
            query = query.where(events.c.position < before_position)
        with self.transaction(conn) as tx:
            return [self.to_record(row) for row in tx.execute(query, params)]

    def read_all(
        self, after_position: int = 0, limit: int = 1000, *, conn: Connection | None = None
    ) -> list[StoredEvent]:
        """Committed events in global order after `after_position`.

        Not gap-safe on PostgreSQL: a tail that must never skip uses `events.Tail`.
        """
        query = (
            select(events)
            .where(events.c.position > after_position)
            .order_by(events.c.position)
            .limit(limit)
        )
        with self.transaction(conn) as tx:
            return [self.to_record(row) for row in tx.execute(query)]

    def read_page(
        self, conn: Connection, after_position: int, limit: int, *,
        types: frozenset[str] | None = None, fields: frozenset[str] = EVENT_FIELDS,
        through: int | None = None, data_of: frozenset[str] | None = None,
        metadata_keys: frozenset[str] | None = None,
    ) -> list[StoredEvent]:
        """Committed events after `after_position` (and up to `through`) of `types` (None:
        every type), in global order, reading only `fields` of each: the others come empty
        (`UNREAD`). For a reader of much of the log at once, a rebuild; not gap-safe.

        `position`, `stream_id` and `type` are always read; `data` brings its schema version,
        as the payload is upcast, and is read only for events of `data_of` if given.
        With `metadata_keys`, `metadata` holds only those keys, each read as text in SQL
        (a key absent or null is left out): no metadata document is parsed.
        """
        wanted = [f for f in EVENT_FIELDS if f in fields or (f == "schema_version"
                                                                and "data" in fields)]
        columns: list[ColumnElement[Any]] = [events.c[f] for f in wanted]
        if data_of is not None and "data" in wanted:
            columns[wanted.index("data")] = case(
                (events.c.type.in_(sorted(data_of)), events.c.data), else_=null())
        keys = sorted(metadata_keys or ()) if "metadata" in wanted else []
        if metadata_keys is not None and "metadata" in wanted:
            del columns[wanted.index("metadata")]
            wanted.remove("metadata")
            columns += [events.c.metadata[key].as_string() for key in keys]
        query = (select(events.c.position, events.c.stream_id, events.c.type, *columns)
                 .where(events.c.position > after_position)
                 .order_by(events.c.position).limit(limit))
        if types is not None:
            query = query.where(events.c.type.in_(sorted(types)))
        if through is not None:
            query = query.where(events.c.position <= through)
        at = {name: n for n, name in enumerate(["position", "stream_id", "type", *wanted])}
        n_id, n_version, n_metadata, n_recorded = (
            at.get(name) for name in ("event_id", "stream_version", "metadata", "recorded_at"))
        n_data = at.get("data")
        n_schema = at["schema_version"] if n_data is not None else 0  # read with the data
        key_at = list(enumerate(keys, start=3 + len(wanted)))  # their columns come last
        upcast = self.upcasters.upcast
        found = []
        # All rows at once: fetching them one by one costs more than building the events.
        for row in driver_rows(conn, query):
            version, data = (upcast(row[2], row[n_schema], row[n_data])
                             if n_data is not None and row[n_data] is not None
                             else (0, UNREAD["data"]))
            if n_metadata is not None:
                meta = row[n_metadata]
            elif keys:  # a loop, not a comprehension: no call per row
                meta = {}
                for n, key in key_at:
                    if row[n] is not None:
                        meta[key] = row[n]
            else:
                meta = UNREAD["metadata"]
            found.append(StoredEvent(
                row[0], UNREAD["event_id"] if n_id is None else row[n_id], row[1],
                UNREAD["stream_version"] if n_version is None else row[n_version], row[2],
                version, data, meta,
                UNREAD["recorded_at"] if n_recorded is None
                else row[n_recorded] if row[n_recorded].tzinfo is UTC  # psycopg's, mostly
                else as_utc(row[n_recorded])))
        return found

    def stream_version(self, stream_id: str, *, conn: Connection | None = None) -> int:
        """The stream's current version, 0 when it has no events."""
        query = select(func.coalesce(func.max(events.c.stream_version), 0)).where(
            events.c.stream_id == stream_id
        )
        with self.transaction(conn) as tx:
            return int(tx.execute(query).scalar_one())

    def head(self, *, conn: Connection | None = None) -> int:
        """The highest position in the log (committed and visible now), 0 when it is empty."""
        query = select(func.coalesce(func.max(events.c.position), 0))
        with self.transaction(conn) as tx:
            return int(tx.execute(query).scalar_one())

    def to_record(self, row: Row[Any]) -> StoredEvent:
        """A database row as a StoredEvent, its payload upcast to the current schema."""
        return self._record(
            row.position, row.event_id, row.stream_id, row.stream_version, row.type,
            row.schema_version, row.data, row.metadata, row.recorded_at,
        )

    def _record(
        self,
        position: int,
        event_id: UUID,
        stream_id: str,
        stream_version: int,
        event_type: str,
        schema_version: int,
        data: JSON,
        metadata: JSON,
        recorded_at: datetime,
    ) -> StoredEvent:
        version, current = self.upcasters.upcast(event_type, schema_version, data)
        return StoredEvent(
            position, event_id, stream_id, stream_version, event_type, version, current,
            metadata, as_utc(recorded_at),
        )


def _encode(event: NewEvent) -> EncodedEvent:
    return EncodedEvent(
        event_id=event.event_id,
        type=event.type,
        schema_version=event.schema_version,
        data=event.data,
        metadata=event.metadata,
        data_json=to_json(event.data, f"data of {event.type}"),
        metadata_json=to_json(event.metadata, f"metadata of {event.type}"),
    )
