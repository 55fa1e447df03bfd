"""Checkpointed subscriptions: at-least-once, in order, stopping at a failing event."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest
from sqlalchemy import Connection, Engine, select

from events import NO_STREAM, EventStore, NewEvent, StoredEvent, Subscription, SubscriptionRunner
from events.schema import subscription_checkpoints
from events.subscriptions import checkpoint_position


def append_numbers(store: EventStore, stream: str, numbers: range) -> None:
    store.append(stream, [NewEvent("Numbered", {"n": n}) for n in numbers], NO_STREAM)


class Recorder:
    """A handler that remembers what it saw and can be told to fail on one number."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.seen: list[int] = []
        self.fail_on = fail_on

    def __call__(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        for event in events:
            if event.data["n"] == self.fail_on:
                raise RuntimeError("handler broke")
            self.seen.append(event.data["n"])


def test_a_subscription_delivers_every_event_in_order_and_remembers_where_it_is(
    engine: Engine,
) -> None:
    store = EventStore(engine)
    append_numbers(store, "case-1", range(0, 5))
    append_numbers(store, "case-2", range(5, 12))
    recorder = Recorder()

    result = SubscriptionRunner(store, Subscription("numbers", recorder), batch_size=3).run()

    assert recorder.seen == list(range(12))
    assert result.delivered == 12
    assert checkpoint_position(store, "numbers") == store.read_all()[-1].position


def test_a_restarted_runner_resumes_after_its_checkpoint(engine: Engine) -> None:
    store = EventStore(engine)
    append_numbers(store, "case-1", range(0, 4))
    first = Recorder()
    SubscriptionRunner(store, Subscription("numbers", first)).run()
    append_numbers(store, "case-2", range(4, 6))

    second = Recorder()
    SubscriptionRunner(store, Subscription("numbers", second)).run()

    assert first.seen == [0, 1, 2, 3]
    assert second.seen == [4, 5]


def test_subscriptions_only_receive_the_types_they_ask_for(engine: Engine) -> None:
    store = EventStore(engine)
    store.append("case-1", [NewEvent("Numbered", {"n": 1}), NewEvent("Other", {"n": 2}),
                            NewEvent("Numbered", {"n": 3})], NO_STREAM)
    recorder = Recorder()

    SubscriptionRunner(store, Subscription("odd", recorder, frozenset({"Numbered"}))).run()

    assert recorder.seen == [1, 3]
    assert checkpoint_position(store, "odd") == store.read_all()[-1].position


def test_a_failing_handler_stops_at_the_failing_event_and_resumes_there(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    store = EventStore(engine)
    append_numbers(store, "case-1", range(0, 10))
    failing_event = store.read_stream("case-1")[6]
    broken = Recorder(fail_on=6)

    with caplog.at_level(logging.ERROR, logger="events.subscriptions"):
        result = SubscriptionRunner(store, Subscription("numbers", broken), batch_size=100).run()

    assert result.failed
    # Tried as one batch (rolled back), then event by event up to the failing one.
    assert broken.seen == [0, 1, 2, 3, 4, 5] * 2
    assert checkpoint_position(store, "numbers") == failing_event.position - 1
    assert str(failing_event.event_id) in caplog.text
    with engine.connect() as conn:
        row = conn.execute(select(subscription_checkpoints)).one()
    assert row.failed_position == failing_event.position
    assert str(failing_event.event_id) in row.last_error

    fixed = Recorder()
    result = SubscriptionRunner(store, Subscription("numbers", fixed)).run()

    assert fixed.seen == [6, 7, 8, 9]
    assert not result.failed
    with engine.connect() as conn:
        row = conn.execute(select(subscription_checkpoints)).one()
    assert row.failed_position is None and row.last_error is None


def test_handler_writes_and_checkpoint_commit_together(engine: Engine) -> None:
    """A failure after a handler wrote leaves neither the write nor the checkpoint move."""
    from sqlalchemy import text

    store = EventStore(engine)
    append_numbers(store, "case-1", range(0, 3))

    def write_then_fail(conn: Connection, events: Sequence[StoredEvent]) -> None:
        for event in events:
            conn.execute(text("INSERT INTO daily_activity (day, event_type, count) "
                              "VALUES ('2010-10-27', :t, 1)"), {"t": f"n{event.data['n']}"})
            if event.data["n"] == 2:
                raise RuntimeError("after writing")

    SubscriptionRunner(store, Subscription("writer", write_then_fail)).run()

    with engine.connect() as conn:
        written = conn.execute(text("SELECT event_type FROM daily_activity ORDER BY 1")).scalars()
        assert list(written) == ["n0", "n1"]
    assert checkpoint_position(store, "writer") == store.read_stream("case-1")[1].position
