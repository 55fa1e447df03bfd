"""Reads run on the driver's cursor (events.sql.DriverRead, driver_rows) give what SQLAlchemy
gives.

On PostgreSQL a DriverRead skips SQLAlchemy's execution and result machinery; its rows
must hold the same values, of the same types, as the same statement run through
SQLAlchemy: uuids, aware datetimes, JSON documents, booleans, NULLs of outer joins.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine, bindparam, select

from events import EventStore, NewEvent
from events.schema import events
from events.sql import DriverRead, driver_rows

STREAM = (select(events).where(events.c.stream_id == bindparam("stream_id"))
          .order_by(events.c.stream_version))
# An outer join that finds nothing on its right: NULLs where a row was missing.
OTHER = events.alias("other")
MISSING = (select(events.c.stream_id, events.c.recorded_at, OTHER.c.data.label("elsewhere"))
           .select_from(events.outerjoin(OTHER, OTHER.c.stream_id == bindparam("nowhere")))
           .where(events.c.stream_id == bindparam("stream_id")))


def both(engine: Engine, read: DriverRead, params: dict[str, Any]) -> tuple[list[Any], ...]:
    with engine.connect() as conn:
        through_driver = [tuple(r) for r in read.rows(conn, params)]
        through_sqlalchemy = [tuple(r) for r in conn.execute(read.statement, params)]
    return through_driver, through_sqlalchemy


def test_a_driver_read_gives_the_rows_sqlalchemy_gives(engine: Engine) -> None:
    store = EventStore(engine)
    stream_id = f"thing-{uuid.uuid4()}"
    store.append(stream_id, [
        NewEvent("Made", {"name": "Olga", "tags": ["a", "b"], "n": 3, "ok": True}),
        NewEvent("Changed", {"nested": {"deep": [1, 2.5, None]}}, {"actor": "test"}),
    ])
    driver, plain = both(engine, DriverRead(STREAM), {"stream_id": stream_id})
    assert len(driver) == 2
    assert driver == plain
    assert [type(v) for v in driver[0]] == [type(v) for v in plain[0]]
    assert driver[0][1] == plain[0][1] and isinstance(driver[0][1], uuid.UUID)


def test_a_driver_read_gives_none_where_an_outer_join_found_nothing(engine: Engine) -> None:
    store = EventStore(engine)
    stream_id = f"thing-{uuid.uuid4()}"
    store.append(stream_id, [NewEvent("Made", {"name": "Lucía"})])
    driver, plain = both(engine, DriverRead(MISSING),
                         {"stream_id": stream_id, "nowhere": "no-such-stream"})
    assert driver == plain
    assert driver[0][2] is None
    empty, nothing = both(engine, DriverRead(STREAM), {"stream_id": "no-such-stream"})
    assert empty == nothing == []


def test_driver_rows_give_the_rows_sqlalchemy_gives_with_a_list_and_a_json_key(
        engine: Engine) -> None:
    """The statement's own values, a list in `IN` among them, bound on the driver's cursor;
    a metadata key read as text."""
    store = EventStore(engine)
    stream_id = f"thing-{uuid.uuid4()}"
    store.append(stream_id, [NewEvent("Made", {"n": 1}, {"actor": "token:a"}),
                             NewEvent("Kept", {"n": 2}), NewEvent("Changed", {"n": 3},
                                                                  {"actor": "cli"})])
    read = (select(events.c.position, events.c.type, events.c.data, events.c.recorded_at,
                   events.c.metadata["actor"].as_string())
            .where(events.c.stream_id == stream_id,
                   events.c.type.in_(["Made", "Changed"])).order_by(events.c.position))
    with engine.connect() as conn:
        through_driver = [tuple(r) for r in driver_rows(conn, read)]
        through_sqlalchemy = [tuple(r) for r in conn.execute(read)]
    assert through_driver == through_sqlalchemy
    assert [(r[1], r[2], r[4]) for r in through_driver] == [
        ("Made", {"n": 1}, "token:a"), ("Changed", {"n": 3}, "cli")]
    assert [type(v) for v in through_driver[0]] == [type(v) for v in through_sqlalchemy[0]]


def test_documents_the_fast_decoder_refuses_read_as_the_standard_library_reads_them(
        engine: Engine) -> None:
    """orjson decodes the documents (events.json_reading); an integer beyond 64 bits is
    not its to decode, and reads as `json.loads` gives it, on both paths."""
    store = EventStore(engine)
    stream_id = f"thing-{uuid.uuid4()}"
    data = {"big": 2**70, "negative": -(2**65), "name": "Ольга \u2028 \"quoted\"",
            "deep": [{"n": 1.5}, None, True]}
    store.append(stream_id, [NewEvent("Made", data)])
    read = select(events.c.data).where(events.c.stream_id == stream_id)
    with engine.connect() as conn:
        assert [r[0] for r in driver_rows(conn, read)] == [data]
        assert conn.execute(read).scalar_one() == data
    assert [e.data for e in store.read_stream(stream_id)] == [data]
