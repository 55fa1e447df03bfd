"""PostgreSQL: an append is one SQL statement; tails read rows and snapshot together."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, Row, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import Text

from events.backends.base import Appended, EncodedEvent, TailSnapshot
from events.errors import ConcurrencyError, DuplicateEventError
from events.schema import events

# One statement, one round trip. `state` takes the transaction id before the INSERT,
# which reads from it, draws any position: the gap-safe tail (events/tailing.py) relies
# on that order (a transaction that drew a position had an id before any later position
# was drawn). Nothing is inserted when an id is already stored or the version is wrong;
# the `state` row then says why.
#
# A session plans the statement once and keeps the plan until the table's statistics
# change. Planned on a young log (never analyzed), a plain join of the batch with `events`
# became a hash join over a scan of the whole log, kept as the log grew: every append
# read every event until autovacuum analyzed the table. Each id is therefore looked up
# on its own (LATERAL … LIMIT 1 cannot be turned into a join), which only an index serves.
# The parts both append statements share, so the version check cannot drift between them.
_STATE = """state AS MATERIALIZED (
  SELECT pg_current_xact_id()::text::bigint AS xid,
         (SELECT coalesce(max(stream_version), 0) FROM events
           WHERE stream_id = %(stream_id)s) AS version,
         (SELECT count(*) FROM existing) AS found
)"""
_INSERT = """INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, data,
                      metadata, recorded_at, xact_id)"""
_ADMITTED = "WHERE state.found = 0 AND %(expected)s IN (-1, state.version)"
_RETURNING = "RETURNING position, stream_version, recorded_at{returning}\n){folded}"
_OUTCOME = """
SELECT 'inserted' AS kind, position, stream_version, recorded_at, NULL AS stream_id
  FROM inserted
UNION ALL SELECT 'existing', position, stream_version, recorded_at, stream_id FROM existing
UNION ALL SELECT 'state', NULL, version, NULL, NULL FROM state
"""

_APPEND = f"""
WITH batch AS (
  SELECT (b.e->>'id')::uuid AS id, b.e->>'type' AS type, (b.e->>'v')::smallint AS v,
         b.e->'data' AS data, b.e->'meta' AS meta, b.n
    FROM jsonb_array_elements(%(batch)s::jsonb) WITH ORDINALITY AS b(e, n)
),
existing AS (
  SELECT e.position, e.stream_version, e.recorded_at, e.stream_id
    FROM batch CROSS JOIN LATERAL (
      SELECT position, stream_version, recorded_at, stream_id FROM events
       WHERE event_id = batch.id LIMIT 1
    ) AS e
),
{_STATE},
inserted AS (
  {_INSERT}
  SELECT batch.id, %(stream_id)s, state.version + batch.n::integer, batch.type, batch.v,
         batch.data, batch.meta, now(), state.xid
    FROM batch CROSS JOIN state
   {_ADMITTED}
   ORDER BY batch.n
  {_RETURNING}{_OUTCOME}"""

# The same steps for the commonest append, a single event, without a batch to unpack:
# a quarter less server time than the statement above for one event.
_APPEND_ONE = f"""
WITH existing AS (
  SELECT position, stream_version, recorded_at, stream_id FROM events
   WHERE event_id = %(id)s LIMIT 1
),
{_STATE},
inserted AS (
  {_INSERT}
  SELECT %(id)s, %(stream_id)s, state.version + 1, %(type)s, %(v)s::smallint,
         %(data)s::jsonb, %(meta)s::jsonb, now(), state.xid
    FROM state
   {_ADMITTED}
  {_RETURNING}{_OUTCOME}"""

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

_SNAPSHOT = text("SELECT pg_current_snapshot()::text")

_VERSION = text("SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = :s")


def parse_snapshot(snapshot: str) -> TailSnapshot:
    """A `pg_snapshot` text (`xmin:xmax:xip,...`) as the tail needs it."""
    _xmin, xmax, xip = snapshot.split(":", 2)
    return TailSnapshot(int(xmax), frozenset(int(x) for x in xip.split(",") if x))


class PostgresBackend:
    """Appends and tail reads for PostgreSQL 13+ (pg_current_xact_id, pg_current_snapshot)."""

    # Positions come from a sequence, and transactions commit in any order.
    commits_in_position_order = False
    # An append runs a projection's FoldedWrite inside its own statement.
    folds_writes = True

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(
        self, conn: Connection, stream_id: str, batch: list[EncodedEvent], expected: int,
        folded: Sequence[str] = (),
    ) -> list[Appended]:
        """Check ids and version and insert, in one statement; translate what it found.

        `folded` statements run in that statement too, as data-modifying CTEs reading the
        rows it inserted (events.projections.FoldedWrite).
        """
        # The driver's own cursor on SQLAlchemy's connection (same transaction): on the
        # hottest path of the store, SQLAlchemy's result machinery cost more than the query.
        return self._append(conn.connection.driver_connection, stream_id, batch, expected,
                            folded)

    def append_alone(
        self, stream_id: str, batch: list[EncodedEvent], expected: int,
        folded: Sequence[str] = (),
    ) -> list[Appended]:
        """The one statement in autocommit: its own transaction, no BEGIN, no COMMIT.

        On a pooled connection without SQLAlchemy's Connection around it, whose checkout,
        isolation switch and reset cost a third of a single-event append's client time.
        """
        try:
            pooled = self.engine.raw_connection()
        except psycopg.Error as exc:  # as SQLAlchemy reports a server it cannot reach
            raise DBAPIError.instance(None, None, exc, psycopg.Error,
                                      dialect=self.engine.dialect) from exc
        try:
            driver: psycopg.Connection[Any] = pooled.driver_connection  # type: ignore[assignment]
            if driver.autocommit:
                return self._append(driver, stream_id, batch, expected, folded)
            driver.autocommit = True
            try:
                return self._append(driver, stream_id, batch, expected, folded)
            finally:
                try:
                    driver.autocommit = False
                except psycopg.Error:  # a broken connection must not go back to the pool
                    pooled.invalidate()
        finally:
            pooled.close()

    def _append(
        self, driver: Any, stream_id: str, batch: list[EncodedEvent], expected: int,
        folded: Sequence[str],
    ) -> list[Appended]:
        statement, params = _statement(stream_id, batch, expected, tuple(folded))
        try:
            with driver.cursor() as cursor:
                cursor.execute(statement, params)
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

    def snapshot(self, conn: Connection) -> TailSnapshot:
        """The transactions running now, as `conn` sees them."""
        return parse_snapshot(conn.execute(_SNAPSHOT).scalar_one())

    def _current_version(self, stream_id: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(_VERSION, {"s": stream_id}).scalar_one())


def _statement(
    stream_id: str, batch: list[EncodedEvent], expected: int, folded: tuple[str, ...] = ()
) -> tuple[str, dict[str, Any]]:
    """The append's SQL and parameters: a lone event's own, or the batch's as one document;
    `folded` writes as CTEs of their own."""
    if len(batch) == 1:
        (e,) = batch
        return _sql(_APPEND_ONE, folded), {
            "stream_id": stream_id, "expected": expected, "id": e.event_id, "type": e.type,
            "v": e.schema_version, "data": e.data_json, "meta": e.metadata_json}
    return _sql(_APPEND, folded), {"stream_id": stream_id, "expected": expected,
                                   "batch": _batch_json(batch)}


@lru_cache(maxsize=64)
def _sql(template: str, folded: tuple[str, ...]) -> str:
    """`template` with `folded` as CTEs after `inserted`, which then returns what they read;
    built once per set (an append without them returns only what the caller needs)."""
    if not folded:
        return template.format(returning="", folded="")
    ctes = "".join(f",\nfolded_{n} AS (\n{sql}\n)" for n, sql in enumerate(folded))
    return template.format(returning=", stream_id, type, data", folded=ctes)


def _batch_json(batch: list[EncodedEvent]) -> str:
    """`[{"id", "type", "v", "data", "meta"}, …]` without decoding and re-encoding payloads.

    Ids go as 32 hex digits (which `uuid` reads), types encoded once per name: a batch
    repeats a few types, and both cost more per event than joining the payloads.
    """
    items = [
        f'{{"id":"{e.event_id.hex}","type":{_json_string(e.type)},"v":{e.schema_version},'
        f'"data":{e.data_json},"meta":{e.metadata_json}}}'
        for e in batch
    ]
    return "[" + ",".join(items) + "]"


@lru_cache(maxsize=1024)
def _json_string(value: str) -> str:
    return json.dumps(value)
