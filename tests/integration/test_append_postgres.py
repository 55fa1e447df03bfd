"""PostgreSQL only: what one append costs the server does not grow with the log.

A session prepares the append statement once and keeps its plan until the table's statistics
change, which on a young database (never analyzed) can be a whole run of appends. A plan
made while the log was empty must still find stored ids and the stream's version through
the indexes once the log has grown, instead of reading every event on each append.
"""

from __future__ import annotations

import json
import re
import socket
import uuid
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.exc import OperationalError

from events import NO_STREAM, EventStore, NewEvent
from events.backends.postgres import _APPEND, _batch_json
from events.store import _encode
from tests.databases import engine_for

pytestmark = pytest.mark.postgres

PARAMETERS = ("batch", "stream_id", "expected")
# About the size of a real event (600 bytes of JSON), so the log spans pages as it would.
PAYLOAD = {"body": "x" * 600}


def positional(statement: str) -> str:
    """The statement with `%(name)s` placeholders as PREPARE's `$1`, `$2`, `$3`."""
    return re.sub(r"%\((\w+)\)s", lambda m: f"${PARAMETERS.index(m.group(1)) + 1}", statement)


def blocks_touched(conn: psycopg.Connection[Any]) -> int:
    """Shared buffers that appending one event through the prepared plan reads (rolled back)."""
    batch = _batch_json([_encode(NewEvent("Noted", PAYLOAD))])
    query = sql.SQL("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE append_probe({}, {}, {})")
    with conn.transaction(force_rollback=True):
        row = conn.execute(query.format(batch, "case-probe", NO_STREAM)).fetchone()
    assert row is not None
    plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
    return int(plan[0]["Plan"]["Shared Hit Blocks"]) + int(plan[0]["Plan"]["Shared Read Blocks"])


def test_an_append_planned_on_an_empty_log_reads_no_more_once_the_log_has_grown(
    postgres_url: str,
) -> None:
    with engine_for(postgres_url) as engine, engine.connect() as session:
        conn: psycopg.Connection[Any] = session.connection.driver_connection  # type: ignore[assignment]
        conn.autocommit = True
        # The plan a session reuses, made now, while the log is empty and never analyzed.
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute(f"PREPARE append_probe(jsonb, text, integer) AS {positional(_APPEND)}")
        on_empty_log = blocks_touched(conn)

        store = EventStore(engine)
        for _ in range(20):
            batch = [NewEvent("Noted", PAYLOAD) for _ in range(100)]
            store.append(f"case-{uuid.uuid4()}", batch, NO_STREAM)
        on_grown_log = blocks_touched(conn)

    # Index probes read a page more when a tree grows a level; a scan of the 2,000 events
    # would read every one of their pages (about 200) on each append.
    assert on_grown_log <= on_empty_log + 10, (on_empty_log, on_grown_log)


def test_an_unreachable_server_is_reported_as_sqlalchemy_reports_it() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # released below: nothing listens there
    with engine_for(f"postgresql://nobody@127.0.0.1:{port}/none") as engine:
        with pytest.raises(OperationalError):
            EventStore(engine).append("case-1", [NewEvent("Noted", {})], NO_STREAM)
