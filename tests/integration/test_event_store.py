"""The event store contract, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import DBAPIError

from events import (
    ANY,
    NO_STREAM,
    ConcurrencyError,
    DuplicateEventError,
    EventSerializationError,
    EventStore,
    NewEvent,
    Upcasters,
)
from events.schema import events


def new(kind: str = "Noted", **data: object) -> NewEvent:
    return NewEvent(type=kind, data=dict(data) or {"n": 1}, metadata={"actor": "test"})


def count_events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def test_appended_events_read_back_in_stream_order(engine: Engine) -> None:
    store = EventStore(engine)
    result = store.append("case-1", [new(n=1), new(n=2)], NO_STREAM)
    store.append("case-1", [new(n=3)], 2)

    stored = store.read_stream("case-1")

    assert [e.data["n"] for e in stored] == [1, 2, 3]
    assert [e.stream_version for e in stored] == [1, 2, 3]
    assert result.stream_version == 2
    assert stored[0].position < stored[1].position < stored[2].position
    assert stored[0].metadata == {"actor": "test"}
    assert stored[0].recorded_at.tzinfo is UTC
    assert abs((datetime.now(UTC) - stored[0].recorded_at).total_seconds()) < 60


def test_read_stream_from_a_version(engine: Engine) -> None:
    store = EventStore(engine)
    store.append("case-1", [new(n=1), new(n=2), new(n=3)], NO_STREAM)

    assert [e.data["n"] for e in store.read_stream("case-1", from_version=2)] == [2, 3]
    assert store.read_stream("case-unknown") == []
    assert store.stream_version("case-1") == 3
    assert store.stream_version("case-unknown") == 0


def test_no_stream_expectation_fails_on_an_existing_stream(engine: Engine) -> None:
    store = EventStore(engine)
    store.append("case-1", [new()], NO_STREAM)

    with pytest.raises(ConcurrencyError) as caught:
        store.append("case-1", [new()], NO_STREAM)

    assert (caught.value.expected, caught.value.actual) == (NO_STREAM, 1)
    assert count_events(engine) == 1


def test_wrong_exact_version_raises_with_the_actual_version(engine: Engine) -> None:
    store = EventStore(engine)
    store.append("case-1", [new(), new(), new()], NO_STREAM)

    with pytest.raises(ConcurrencyError) as caught:
        store.append("case-1", [new()], 1)

    assert caught.value.actual == 3
    assert caught.value.stream_id == "case-1"


def test_any_expectation_appends_after_whatever_is_there(engine: Engine) -> None:
    store = EventStore(engine)
    store.append("case-1", [new()], ANY)
    result = store.append("case-1", [new()], ANY)

    assert result.stream_version == 2


def test_reappending_stored_event_ids_returns_the_original_positions(engine: Engine) -> None:
    store = EventStore(engine)
    batch = [new(n=1), new(n=2)]
    first = store.append("case-1", batch, NO_STREAM)

    again = store.append("case-1", batch, NO_STREAM)

    assert again.positions == first.positions
    assert again.stream_version == 2
    assert count_events(engine) == 2


def test_a_batch_mixing_stored_and_new_ids_is_refused(engine: Engine) -> None:
    store = EventStore(engine)
    stored = new(n=1)
    store.append("case-1", [stored], NO_STREAM)

    with pytest.raises(DuplicateEventError):
        store.append("case-1", [stored, new(n=2)], ANY)
    with pytest.raises(DuplicateEventError):
        store.append("case-2", [stored], ANY)
    assert count_events(engine) == 1


def test_a_batch_is_all_or_nothing(engine: Engine) -> None:
    store = EventStore(engine)
    store.append("case-1", [new()], NO_STREAM)
    with pytest.raises(ConcurrencyError):
        store.append("case-1", [new(), new(), new()], NO_STREAM)

    assert count_events(engine) == 1


@pytest.mark.parametrize("data", [
    {"when": datetime(2010, 10, 27)},
    {"id": uuid.uuid4()},
    {"ratio": float("nan")},
    ["not", "an", "object"],
])
def test_non_json_payloads_are_refused_before_the_database_is_touched(
    engine: Engine, data: object
) -> None:
    store = EventStore(engine)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_: statements.append(sql))

    with pytest.raises(EventSerializationError):
        store.append("case-1", [new(), NewEvent(type="Bad", data=data)], NO_STREAM)  # type: ignore[arg-type]

    assert statements == []


def test_non_json_metadata_is_refused(engine: Engine) -> None:
    with pytest.raises(EventSerializationError, match="metadata of Noted"):
        EventStore(engine).append("case-1", [NewEvent("Noted", {}, {"at": object()})])


@pytest.mark.parametrize("statement", [
    "UPDATE events SET type = 'Tampered'",
    "DELETE FROM events",
])
def test_the_database_refuses_to_change_or_remove_events(engine: Engine, statement: str) -> None:
    store = EventStore(engine)
    store.append("case-1", [new(n=1)], NO_STREAM)

    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))

    (stored,) = store.read_stream("case-1")
    assert stored.type == "Noted"


@pytest.mark.postgres
def test_postgres_refuses_truncate(postgres_url: str) -> None:
    from tests.databases import engine_for

    with engine_for(postgres_url) as engine:
        EventStore(engine).append("case-1", [new()], NO_STREAM)
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("TRUNCATE events"))
        assert count_events(engine) == 1


def test_read_all_follows_global_order_across_streams(engine: Engine) -> None:
    store = EventStore(engine)
    store.append("case-1", [new(n=1)], NO_STREAM)
    store.append("action-1", [new(n=2), new(n=3)], NO_STREAM)
    store.append("case-1", [new(n=4)], 1)

    everything = store.read_all()
    page = store.read_all(after_position=everything[0].position, limit=2)

    assert [e.data["n"] for e in everything] == [1, 2, 3, 4]
    assert [e.data["n"] for e in page] == [2, 3]
    assert [e.category for e in everything] == ["case", "action", "action", "case"]


def test_old_schema_versions_are_upcast_on_read_and_never_rewritten(engine: Engine) -> None:
    EventStore(engine).append("supporter-1", [
        NewEvent(type="SupporterRegistered", data={"name": "Ada Lovelace"}, schema_version=1)
    ], NO_STREAM)
    upcasters = Upcasters()

    @upcasters.register("SupporterRegistered", from_version=1)
    def split_name(data: dict[str, object]) -> dict[str, object]:
        given, family = str(data.pop("name")).split(" ", 1)
        return {**data, "given_name": given, "family_name": family}

    (read,) = EventStore(engine, upcasters=upcasters).read_stream("supporter-1")

    assert read.schema_version == 2
    assert read.data == {"given_name": "Ada", "family_name": "Lovelace"}
    assert upcasters.current_version("SupporterRegistered") == 2
    with engine.connect() as conn:
        raw = conn.execute(select(events.c.schema_version, events.c.data)).one()
    assert (raw.schema_version, raw.data) == (1, {"name": "Ada Lovelace"})


def test_observers_hear_the_types_an_append_wrote_and_nothing_of_a_retried_one(
    engine: Engine,
) -> None:
    heard: list[list[str]] = []
    store = EventStore(engine, observers=[lambda types: heard.append(list(types))])
    opened, amended = NewEvent("Opened", {}), NewEvent("Amended", {})

    store.append("case-1", [opened, amended])
    store.append("case-1", [opened, amended])  # the same ids again: nothing written
    with engine.begin() as conn:
        store.append("case-2", [NewEvent("Opened", {})], conn=conn)

    assert heard == [["Opened", "Amended"], ["Opened"]]


def test_a_transaction_after_an_append_of_its_own_still_rolls_back(engine: Engine) -> None:
    store = EventStore(engine)
    store.append("case-1", [new()], NO_STREAM)  # a transaction of its own, on a pooled connection

    with pytest.raises(RuntimeError), engine.begin() as conn:
        store.append("case-1", [new()], 1, conn=conn)
        raise RuntimeError("the caller gives up")

    assert store.stream_version("case-1") == 1
