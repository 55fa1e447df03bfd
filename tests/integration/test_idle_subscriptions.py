"""What a subscription run costs when there is nothing for it.

The clock asks every subscription to run every second. A run with nothing new to read
takes one read and no transaction that writes (on a durable server a written row lock alone
makes the commit wait for the disk); a run over events the subscription ignores moves its
checkpoint without waiting for the disk, since reading those events again does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, event

from events import NO_STREAM, EventStore, NewEvent, StoredEvent, Subscription, SubscriptionRunner
from events.subscriptions import checkpoint_position


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine runs in the block."""
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *rest: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def writes(seen: Sequence[str]) -> list[str]:
    return [s for s in seen if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")
            or "FOR UPDATE" in s.upper()]


class Seen:
    def __init__(self) -> None:
        self.types: list[str] = []

    def __call__(self, conn: Connection, batch: Sequence[StoredEvent]) -> None:
        self.types += [e.type for e in batch]


def test_a_caught_up_subscription_runs_on_one_read_and_writes_nothing(engine: Engine) -> None:
    store = EventStore(engine)
    store.append("case-idle", [NewEvent("Wanted", {"n": 1})], NO_STREAM)
    seen = Seen()
    runner = SubscriptionRunner(store, Subscription("idle", seen, frozenset({"Wanted"})))
    assert runner.run().delivered == 1

    with statements(engine) as ran:
        again = runner.run()

    assert again.delivered == 0 and not again.busy
    assert again.position == checkpoint_position(store, "idle") == store.head()
    assert writes(ran) == []
    assert len([s for s in ran if s.upper().startswith("SELECT")]) == 1
    assert seen.types == ["Wanted"]


def test_events_a_subscription_ignores_move_its_checkpoint_without_waiting_for_the_disk(
        engine: Engine) -> None:
    store = EventStore(engine)
    seen = Seen()
    runner = SubscriptionRunner(store, Subscription("picky", seen, frozenset({"Wanted"})))
    runner.run()
    store.append("case-other", [NewEvent("Ignored", {"n": 1}), NewEvent("Ignored", {"n": 2})],
                 NO_STREAM)

    with statements(engine) as ran:
        result = runner.run()

    assert result.delivered == 2
    assert checkpoint_position(store, "picky") == store.head()
    assert seen.types == []
    assert not any("SAVEPOINT" in s.upper() for s in ran)  # no handler ran
    relaxed = [s for s in ran if "synchronous_commit" in s]
    assert relaxed == (["SET LOCAL synchronous_commit TO OFF"]
                       if engine.dialect.name == "postgresql" else [])

    store.append("case-wanted", [NewEvent("Wanted", {"n": 3})], NO_STREAM)
    with statements(engine) as ran:
        runner.run()
    assert seen.types == ["Wanted"]
    assert not any("synchronous_commit" in s for s in ran)  # what it handled waits for the disk


def test_a_subscription_that_never_ran_gets_its_checkpoint_on_its_first_run(
        engine: Engine) -> None:
    store = EventStore(engine)
    store.append("case-new", [NewEvent("Wanted", {"n": 1})], NO_STREAM)
    seen = Seen()

    result = SubscriptionRunner(store, Subscription("newcomer", seen)).run()

    assert result.delivered == 1 and seen.types == ["Wanted"]
    assert checkpoint_position(store, "newcomer") == store.head()
