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
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from events import ANY, NO_STREAM, ConcurrencyError, DuplicateEventError, EventStore, NewEvent
from events.backends import EncodedEvent, postgres
from events.backends.postgres import _statement
from events.store import _encode
from tests.databases import PostgresDatabases, engine_for

pytestmark = pytest.mark.postgres

# About the size of a real event (600 bytes of JSON), so the log spans pages as it would.
PAYLOAD = {"body": "x" * 600}


def prepare(conn: psycopg.Connection[Any], size: int) -> list[str]:
    """PREPARE the statement an append of `size` events runs; its parameters, in order."""
    statement, _ = _statement("case-probe", batch(size), NO_STREAM)
    order = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
    positional = re.sub(r"%\((\w+)\)s", lambda m: f"${order.index(m.group(1)) + 1}", statement)
    conn.execute(f"PREPARE append_probe AS {positional}")
    return order


def batch(size: int) -> list[EncodedEvent]:
    return [_encode(NewEvent("Noted", PAYLOAD)) for _ in range(size)]


def blocks_touched(conn: psycopg.Connection[Any], order: list[str], size: int) -> int:
    """Shared buffers that appending `size` new events through the prepared plan reads."""
    _, params = _statement("case-probe", batch(size), NO_STREAM)
    arguments = sql.SQL(", ").join(sql.Literal(params[name]) for name in order)
    query = sql.SQL("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE append_probe({})")
    with conn.transaction(force_rollback=True):
        row = conn.execute(query.format(arguments)).fetchone()
    assert row is not None
    plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
    return int(plan[0]["Plan"]["Shared Hit Blocks"]) + int(plan[0]["Plan"]["Shared Read Blocks"])


@pytest.mark.parametrize("size", [1, 2], ids=["one event", "a batch"])
def test_an_append_planned_on_an_empty_log_reads_no_more_once_the_log_has_grown(
    postgres_url: str, size: int
) -> None:
    with engine_for(postgres_url) as engine, engine.connect() as session:
        conn: psycopg.Connection[Any] = session.connection.driver_connection  # type: ignore[assignment]
        conn.autocommit = True
        # The plan a session reuses, made now, while the log is empty and never analyzed.
        conn.execute("SET plan_cache_mode = force_generic_plan")
        order = prepare(conn, size)
        on_empty_log = blocks_touched(conn, order, size)

        store = EventStore(engine)
        for _ in range(20):
            events = [NewEvent("Noted", PAYLOAD) for _ in range(100)]
            store.append(f"case-{uuid.uuid4()}", events, NO_STREAM)
        on_grown_log = blocks_touched(conn, order, size)

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


def outcomes_of_lone_events(engine: Engine) -> list[object]:
    """What a script of single-event appends gets: versions, retries, refusals."""
    store, first = EventStore(engine), NewEvent("Opened", {"n": 1})
    seen: list[object] = []
    for stream, event, expected in [
        ("case-1", first, NO_STREAM), ("case-1", first, NO_STREAM),  # a retry
        ("case-1", NewEvent("Noted", {"n": 2}), 1), ("case-1", NewEvent("Noted", {}), 1),
        ("case-1", NewEvent("Noted", {"n": 3}), ANY), ("case-2", first, ANY),
    ]:
        try:
            result = store.append(stream, [event], expected)
            seen.append(("appended", result.stream_version, len(result.positions)))
        except ConcurrencyError as exc:
            seen.append(("conflict", exc.expected, exc.actual))
        except DuplicateEventError:
            seen.append(("duplicate",))
    stored = store.read_stream("case-1")
    seen.append([(e.stream_version, e.type, e.data) for e in stored])
    seen.append([a.position < b.position for a, b in zip(stored, stored[1:], strict=False)])
    seen.append(store.append("case-1", [first], ANY).positions == [stored[0].position])
    return seen


def test_a_lone_event_gets_what_a_batch_of_one_gets(
    postgres_databases: PostgresDatabases, monkeypatch: pytest.MonkeyPatch
) -> None:
    with postgres_databases.fresh() as url, engine_for(url) as engine:
        lone = outcomes_of_lone_events(engine)
    # The plain path: a lone event goes as a batch of one, through the batch's statement.
    monkeypatch.setattr(postgres, "_statement", lambda stream_id, batch, expected, folded=(): (
        postgres._sql(postgres._APPEND, folded), {"stream_id": stream_id, "expected": expected,
                                                  "batch": postgres._batch_json(batch)}))
    with postgres_databases.fresh() as url, engine_for(url) as engine:
        as_batch = outcomes_of_lone_events(engine)

    assert lone == as_batch
    assert lone[:6] == [("appended", 1, 1), ("appended", 1, 1), ("appended", 2, 1),
                        ("conflict", 1, 2), ("appended", 3, 1), ("duplicate",)]
