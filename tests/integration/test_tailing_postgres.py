"""PostgreSQL only: concurrent writers, out-of-order commits, and a tail that never skips."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Connection, Engine, text

from events import (
    ANY,
    NO_STREAM,
    ConcurrencyError,
    EventStore,
    NewEvent,
    StoredEvent,
    Subscription,
    SubscriptionRunner,
    Tail,
)
from events.tailing import read_settled
from tests.databases import engine_for

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    with engine_for(postgres_url) as engine:
        engine.pool._pool.maxsize = 30  # type: ignore[attr-defined]
        yield engine


class Collector:
    def __init__(self) -> None:
        self.events: list[StoredEvent] = []

    def __call__(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        self.events.extend(events)


def test_eight_writers_on_one_stream_write_each_version_exactly_once(pg_engine: Engine) -> None:
    store = EventStore(pg_engine)
    start = threading.Barrier(8)
    wins: list[int] = []
    losses: list[ConcurrencyError] = []
    lock = threading.Lock()

    def writer(number: int) -> None:
        start.wait()
        for attempt in range(25):
            version = store.stream_version("action-1")
            try:
                result = store.append(
                    "action-1", [NewEvent("Pledged", {"writer": number, "attempt": attempt})],
                    version,
                )
            except ConcurrencyError as exc:
                with lock:
                    losses.append(exc)
            else:
                with lock:
                    wins.append(result.stream_version)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(writer, range(8)))

    stored = store.read_stream("action-1")
    assert sorted(wins) == list(range(1, len(wins) + 1))
    assert [e.stream_version for e in stored] == list(range(1, len(wins) + 1))
    assert len(wins) + len(losses) == 8 * 25
    assert losses, "eight writers racing on one stream should conflict at least once"
    assert all(exc.actual > exc.expected for exc in losses)


def test_appends_to_different_streams_do_not_wait_for_each_other(pg_engine: Engine) -> None:
    store = EventStore(pg_engine)
    with pg_engine.begin() as holding:
        store.append("case-a", [NewEvent("Opened", {})], NO_STREAM, conn=holding)
        with ThreadPoolExecutor(1) as pool:
            other = pool.submit(store.append, "case-b", [NewEvent("Opened", {})], NO_STREAM)
            assert other.result(timeout=5).stream_version == 1  # while case-a is uncommitted


def test_a_tail_waits_for_an_open_transaction_below_a_committed_one(pg_engine: Engine) -> None:
    store = EventStore(pg_engine)
    collector = Collector()
    runner = SubscriptionRunner(store, Subscription("tail", collector))

    t1 = pg_engine.connect()
    t1.begin()
    first = store.append("case-1", [NewEvent("Early", {})], NO_STREAM, conn=t1)
    second = store.append("case-2", [NewEvent("Late", {})], NO_STREAM)
    assert first.positions[0] < second.positions[0]

    stuck = runner.run(max_seconds=0.3)
    assert stuck.delivered == 0 and collector.events == []

    t1.commit()
    t1.close()
    runner.run()
    runner.run()

    assert [e.type for e in collector.events] == ["Early", "Late"]


def test_a_tail_passes_a_gap_once_its_transaction_rolled_back(pg_engine: Engine) -> None:
    store = EventStore(pg_engine)
    collector = Collector()
    runner = SubscriptionRunner(store, Subscription("tail", collector))

    t1 = pg_engine.connect()
    t1.begin()
    store.append("case-1", [NewEvent("Doomed", {})], NO_STREAM, conn=t1)
    store.append("case-2", [NewEvent("Kept", {})], NO_STREAM)
    assert runner.run(max_seconds=0.3).delivered == 0

    t1.rollback()
    t1.close()
    runner.run()

    assert [e.type for e in collector.events] == ["Kept"]


def test_a_tail_waits_for_a_transaction_whose_id_is_newer_than_every_finished_one(
    pg_engine: Engine,
) -> None:
    """A snapshot lists only ids below its `xmax` (the newest finished id, plus one): a
    writer that took its id after the one that committed, but drew the lower position, is
    in flight although the snapshot does not name it."""
    store = EventStore(pg_engine)

    older = pg_engine.connect()
    older.begin()
    older_id = older.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
    newer = pg_engine.connect()
    newer.begin()
    first = store.append("case-1", [NewEvent("Early", {})], NO_STREAM, conn=newer)
    second = store.append("case-2", [NewEvent("Late", {})], NO_STREAM, conn=older)
    newer_id = newer.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
    assert first.positions[0] < second.positions[0] and older_id < newer_id
    older.commit()
    older.close()

    with pg_engine.connect() as reader:
        stuck = Tail(store).read(reader, 0)
    assert stuck.events == [] and stuck.blocked
    assert read_settled(store, 0, patience=0.1).events == []

    newer.commit()
    newer.close()

    assert [e.type for e in read_settled(store, 0).events] == ["Early", "Late"]


def test_tailing_eight_writers_with_slow_transactions_and_rollbacks_delivers_each_once(
    pg_engine: Engine,
) -> None:
    store = EventStore(pg_engine)
    collector = Collector()
    rolled_back: set[uuid.UUID] = set()
    writers_done = threading.Event()
    guard = threading.Lock()

    def writer(number: int) -> None:
        rng = random.Random(number)
        for i in range(60):
            event = NewEvent("Written", {"writer": number, "i": i})
            doomed = rng.random() < 0.05
            try:
                with pg_engine.begin() as conn:
                    store.append(f"case-{number}-{i % 4}", [event], ANY, conn=conn)
                    threading.Event().wait(rng.choice([0, 0, 0, 0.001, 0.005, 0.03]))
                    if doomed:
                        raise _Rollback
            except _Rollback:
                with guard:
                    rolled_back.add(event.event_id)

    def tail() -> None:
        runner = SubscriptionRunner(store, Subscription("tail", collector), batch_size=50)
        while not writers_done.is_set():
            runner.run(max_seconds=0.5)
        runner.run(max_seconds=10)

    tailer = threading.Thread(target=tail)
    tailer.start()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(writer, range(8)))
    writers_done.set()
    tailer.join(timeout=60)

    committed = store.read_all(limit=10_000)
    delivered = [e.position for e in collector.events]
    assert delivered == [e.position for e in committed]
    assert delivered == sorted(set(delivered))
    assert len(committed) == 8 * 60 - len(rolled_back)
    assert rolled_back, "about 5% of transactions should have rolled back"
    assert not rolled_back & {e.event_id for e in collector.events}


class _Rollback(Exception):
    pass
