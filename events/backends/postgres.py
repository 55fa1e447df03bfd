"""PostgreSQL: an append is one server-side function call; tails read with their snapshot."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, Row, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.types import SmallInteger, Text, Uuid

from events.backends import Appended, EncodedEvent
from events.errors import ConcurrencyError, DuplicateEventError
from events.schema import events

WRONG_VERSION = "ES409"
MIXED_DUPLICATES = "ES002"
UNIQUE_VIOLATION = "23505"

_APPEND = text(
    "SELECT out_position, out_stream_version, out_recorded_at, out_existing "
    "FROM events_append(:stream_id, :expected, :ids, :types, :schema_versions, :data, :meta)"
).bindparams(
    bindparam("ids", type_=ARRAY(Uuid())),
    bindparam("types", type_=ARRAY(Text())),
    bindparam("schema_versions", type_=ARRAY(SmallInteger())),
    bindparam("data", type_=ARRAY(Text())),
    bindparam("meta", type_=ARRAY(Text())),
)

# One statement, so the rows and the snapshot describe the same instant.
_TAIL = text(
    "SELECT pg_current_snapshot()::text AS snapshot, events.* FROM events "
    "WHERE position > :after ORDER BY position LIMIT :limit"
).columns(*events.c, snapshot=Text())

_VERSION = text("SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = :s")


def parse_in_flight(snapshot: str) -> frozenset[int]:
    """The in-progress transaction ids of a `pg_snapshot` text (`xmin:xmax:xip,...`)."""
    xip = snapshot.split(":", 2)[2]
    return frozenset(int(x) for x in xip.split(",") if x)


class PostgresBackend:
    """Appends and tail reads for PostgreSQL 13+."""

    # Positions come from a sequence, and transactions commit in any order.
    commits_in_position_order = False

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(
        self, conn: Connection, stream_id: str, batch: list[EncodedEvent], expected: int
    ) -> list[Appended]:
        """Call `events_append`, which takes a transaction id before drawing any position."""
        params = {
            "stream_id": stream_id,
            "expected": expected,
            "ids": [e.event_id for e in batch],
            "types": [e.type for e in batch],
            "schema_versions": [e.schema_version for e in batch],
            "data": [e.data_json for e in batch],
            "meta": [e.metadata_json for e in batch],
        }
        try:
            rows = conn.execute(_APPEND, params).all()
        except DBAPIError as exc:
            raise self._translate(exc, stream_id, expected) from exc
        return sorted((Appended(*row) for row in rows), key=lambda a: a.stream_version)

    def read_tail(
        self, conn: Connection, after: int, limit: int
    ) -> tuple[list[Row[Any]], frozenset[int]]:
        """Committed events after `after`, and the transactions in flight in that snapshot."""
        rows = conn.execute(_TAIL, {"after": after, "limit": limit}).all()
        return list(rows), parse_in_flight(rows[0].snapshot) if rows else frozenset()

    def in_flight_now(self, conn: Connection) -> frozenset[int]:
        """Transaction ids in progress right now."""
        snapshot = conn.execute(text("SELECT pg_current_snapshot()::text")).scalar_one()
        return parse_in_flight(snapshot)

    def _translate(self, exc: DBAPIError, stream_id: str, expected: int) -> Exception:
        diag = getattr(exc.orig, "diag", None)
        state = getattr(exc.orig, "sqlstate", None)
        if state == WRONG_VERSION and diag is not None:
            return ConcurrencyError(stream_id, expected, int(diag.message_detail))
        if state == MIXED_DUPLICATES:
            return DuplicateEventError(f"some event ids of the batch for {stream_id!r} are stored")
        if isinstance(exc, IntegrityError) and state == UNIQUE_VIOLATION:
            # A concurrent writer got there first and has committed: a fresh read sees it.
            return ConcurrencyError(stream_id, expected, self._current_version(stream_id))
        return exc

    def _current_version(self, stream_id: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(_VERSION, {"s": stream_id}).scalar_one())
