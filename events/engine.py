"""Engines tuned for the event store: SQLite gets WAL and write-locking transactions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from events import json_reading

POOL_SIZE = 20
"""Connections a process keeps open. A pool smaller than what a process uses at once closes
every connection returned beyond its size, and the next checkout opens a new one: a new
PostgreSQL backend costs milliseconds of CPU. A worker thread can hold two at a time (a
webhook turn and its record; a follower and its slot), and a worker runs 4 to 8 threads."""
POOL_OVERFLOW = 20
"""Connections opened beyond `POOL_SIZE` when more are in use at once, closed on return."""


def create_store_engine(url: str, **options: Any) -> Engine:
    """An engine for `url`; on SQLite every transaction begins IMMEDIATE to avoid deadlocks.

    JSON documents are read through `json_reading` (see there why)."""
    parsed = make_url(url)
    options.setdefault("json_deserializer", json_reading.loads)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        # No pre-ping: it costs a round trip per checkout, a third of a small append. A
        # connection the server dropped fails once, is discarded, and the pool refills.
        options.setdefault("pool_size", POOL_SIZE)
        options.setdefault("max_overflow", POOL_OVERFLOW)
        return create_engine(parsed, **options)
    options.setdefault("connect_args", {}).setdefault("timeout", 30)
    engine = create_engine(parsed, **options)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" hook, not the driver, decide when transactions start.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows (destroyed data keys above all) are overwritten, not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")
