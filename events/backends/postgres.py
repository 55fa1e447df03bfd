"""PostgreSQL: an append is one SQL statement; tails read rows and snapshot together."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, Row, text
from sqlalchemy.types import Text

from events.backends.base import Appended, EncodedEvent, TailSnapshot
from events.errors import ConcurrencyError, DuplicateEventError
from events.schema import events

# One statement, one round trip. `state` takes the transaction id before the INSERT,
# which reads from it, draws any position: the gap-safe tail (events/tailing.py) relies
# on that order (a transaction that drew a position had an id before any later position
# was drawn). Nothing is inserted when an id is already stored or the version is wrong;
# the `state` row then says why.
_APPEND = """
WITH batch AS (
  SELECT (b.e->>'id')::uuid AS id, b.e->>'type' AS type, (b.e->>'v')::smallint AS v,
         b.e->'data' AS data, b.e->'meta' AS meta, b.n
    FROM jsonb_array_elements(%(batch)s::jsonb) WITH ORDINALITY AS b(e, n)
),
existing AS (
  SELECT e.position, e.stream_version, e.recorded_at, e.stream_id
    FROM events e JOIN batch ON e.event_id = batch.id
),
state AS MATERIALIZED (
  SELECT pg_current_xact_id()::text::bigint AS xid,
         (SELECT coalesce(max(stream_version), 0) FROM events
           WHERE stream_id = %(stream_id)s) AS version,
         (SELECT count(*) FROM existing) AS found
),
inserted AS (
  INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, data,
                      metadata, recorded_at, xact_id)
  SELECT batch.id, %(stream_id)s, state.version + batch.n::integer, batch.type, batch.v,
         batch.data, batch.meta, now(), state.xid
    FROM batch CROSS JOIN state
   WHERE state.found = 0 AND %(expected)s IN (-1, state.version)
   ORDER BY batch.n
  RETURNING position, stream_id, stream_version, type, data, recorded_at
){folded}
SELECT 'inserted' AS kind, position, stream_version, recorded_at, NULL AS stream_id
  FROM inserted
UNION ALL SELECT 'existing', position, stream_version, recorded_at, stream_id FROM existing
UNION ALL SELECT 'state', NULL, version, NULL, NULL FROM state
"""

# One statement, so the rows and the snapshot describe the same instant.
_TAIL = text(
    "SELECT pg_current_snapshot()::text AS snapshot, events.* FROM events "
    "WHERE position > :after ORDER BY position LIMIT :limit"
).columns(*events.c, snapshot=Text())

# A fresh id is taken only by a transaction that has none yet; one that had an id before its
# read cannot answer for the transactions that began between that id and the read.
_OWN_FRESH_ID = text(
    "SELECT CASE WHEN pg_current_xact_id_if_assigned() IS NULL "
    "THEN pg_current_xact_id()::text::bigint END"
)
_FRESH_ID = text("SELECT pg_current_xact_id()::text::bigint")

_VERSION = text("SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = :s")


def parse_snapshot(snapshot: str) -> TailSnapshot:
    """A `pg_snapshot` text (`xmin:xmax:xip,...`) as the tail needs it."""
    _xmin, xmax, xip = snapshot.split(":", 2)
    return TailSnapshot(int(xmax), frozenset(int(x) for x in xip.split(",") if x))


class PostgresBackend:
    """Appends and tail reads for PostgreSQL 13+ (pg_current_xact_id, pg_current_snapshot)."""

    # Positions come from a sequence, and transactions commit in any order.
    commits_in_position_order = False
    appends_in_one_statement = True
    folds_writes = True

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._statements: dict[tuple[str, ...], str] = {}

    def append(
        self, conn: Connection, stream_id: str, batch: list[EncodedEvent], expected: int,
        folded: Sequence[str] = (),
    ) -> list[Appended]:
        """Check ids and version and insert, in one statement; translate what it found.

        `folded` statements run in that statement too, as data-modifying CTEs reading the
        rows it inserted (events.projections.FoldedWrite).
        """
        params = {"stream_id": stream_id, "expected": expected, "batch": _batch_json(batch)}
        # The driver's own cursor on SQLAlchemy's connection (same transaction): on the
        # hottest path of the store, SQLAlchemy's result machinery cost more than the query.
        try:
            with conn.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
                cursor.execute(self._statement(tuple(folded)), params)
                rows: list[tuple[Any, ...]] = cursor.fetchall()
        except psycopg.errors.UniqueViolation:
            # A concurrent writer got there first and has committed: a fresh read sees it.
            raise ConcurrencyError(stream_id, expected, self._current_version(stream_id)) from None
        by_kind: dict[str, list[Appended]] = {"inserted": [], "existing": [], "state": []}
        for kind, position, version, recorded_at, found_in in rows:
            if kind == "existing" and found_in != stream_id:
                raise DuplicateEventError(f"some event ids of the batch for {stream_id!r} are "
                                          "stored in another stream")
            by_kind[kind].append(Appended(position, version, recorded_at, kind == "existing"))
        if by_kind["inserted"]:
            return sorted(by_kind["inserted"], key=lambda a: a.stream_version)
        if by_kind["existing"]:
            if len(by_kind["existing"]) != len(batch):
                raise DuplicateEventError(
                    f"some event ids of the batch for {stream_id!r} are stored")
            return sorted(by_kind["existing"], key=lambda a: a.stream_version)
        raise ConcurrencyError(stream_id, expected, by_kind["state"][0].stream_version)

    def _statement(self, folded: tuple[str, ...]) -> str:
        """The append with `folded` as CTEs of its own, built once per set."""
        statement = self._statements.get(folded)
        if statement is None:  # two threads may both build it: either is as good
            ctes = "".join(f",\nfolded_{n} AS (\n{sql}\n)" for n, sql in enumerate(folded))
            statement = self._statements[folded] = _APPEND.format(folded=ctes)
        return statement

    def read_tail(
        self, conn: Connection, after: int, limit: int
    ) -> tuple[list[Row[Any]], TailSnapshot | None]:
        """Committed events after `after`, and the snapshot they were read in."""
        rows = conn.execute(_TAIL, {"after": after, "limit": limit}).all()
        return list(rows), parse_snapshot(rows[0].snapshot) if rows else None

    def horizon(self, conn: Connection) -> int:
        """A transaction id taken now, so above every id taken before `conn`'s last read.

        `conn`'s transaction takes it when it has none yet (the id ends with it); otherwise
        a short transaction of its own does, and commits at once.
        """
        own = conn.execute(_OWN_FRESH_ID).scalar_one()
        if own is not None:
            return int(own)
        with self.engine.connect() as fresh:
            taken = int(fresh.execute(_FRESH_ID).scalar_one())
            fresh.commit()
        return taken

    def _current_version(self, stream_id: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(_VERSION, {"s": stream_id}).scalar_one())


def _batch_json(batch: list[EncodedEvent]) -> str:
    """`[{"id", "type", "v", "data", "meta"}, …]` without decoding and re-encoding payloads."""
    items = (
        f'{{"id":"{e.event_id}","type":{json.dumps(e.type)},"v":{e.schema_version},'
        f'"data":{e.data_json},"meta":{e.metadata_json}}}'
        for e in batch
    )
    return "[" + ",".join(items) + "]"
