"""Checkpointed subscriptions: at-least-once, in order; a bad event is parked, a temporary
failure stops the subscription at its event until the next run."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import Connection, Engine, select

from events import (
    NO_STREAM,
    EventStore,
    NewEvent,
    StoredEvent,
    Subscription,
    SubscriptionRunner,
    TemporaryFailure,
)
from events.schema import subscription_checkpoints
from events.status import parked, subscription_states
from events.subscriptions import checkpoint_position


def append_numbers(store: EventStore, stream: str, numbers: range) -> None:
    store.append(stream, [NewEvent("Numbered", {"n": n}) for n in numbers], NO_STREAM)


class Recorder:
    """A handler that remembers what it saw and can be told to fail on one number."""

    def __init__(self, fail_on: int | None = None,
                 error: type[Exception] = RuntimeError) -> None:
        self.seen: list[int] = []
        self.fail_on = fail_on
        self.error = error

    def __call__(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        for event in events:
            if event.data["n"] == self.fail_on:
                raise self.error("handler broke on a value it never expected")
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


def test_an_event_the_handler_cannot_handle_is_parked_and_the_rest_goes_on(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    store = EventStore(engine)
    append_numbers(store, "case-1", range(0, 10))
    bad = store.read_stream("case-1")[6]
    broken = Recorder(fail_on=6)

    with caplog.at_level(logging.ERROR, logger="events.subscriptions"):
        result = SubscriptionRunner(store, Subscription("numbers", broken), batch_size=100).run()

    assert not result.failed and result.parked == 1
    # Tried as one batch (rolled back), then event by event, past the bad one.
    assert broken.seen == [0, 1, 2, 3, 4, 5] + [0, 1, 2, 3, 4, 5, 7, 8, 9]
    assert checkpoint_position(store, "numbers") == store.read_all()[-1].position
    assert str(bad.event_id) in caplog.text
    assert "on a value it never expected" not in caplog.text  # messages may quote data
    with engine.connect() as conn:
        (state,) = subscription_states(conn)
        (set_aside,) = parked(conn, "numbers")
    assert (state.name, state.failed_position, state.last_error, state.parked) == (
        "numbers", None, None, 1)
    assert (set_aside.position, set_aside.event_id, set_aside.event_type, set_aside.error) == (
        bad.position, str(bad.event_id), "Numbered", "RuntimeError")

    again = Recorder(fail_on=6)
    SubscriptionRunner(store, Subscription("numbers", again)).run()
    assert again.seen == []  # a parked event is not read again


def test_a_temporary_failure_stops_at_its_event_and_resumes_there(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    store = EventStore(engine)
    append_numbers(store, "case-1", range(0, 10))
    failing_event = store.read_stream("case-1")[6]
    broken = Recorder(fail_on=6, error=TemporaryFailure)

    with caplog.at_level(logging.ERROR, logger="events.subscriptions"):
        result = SubscriptionRunner(store, Subscription("numbers", broken), batch_size=100).run()

    assert result.failed and result.parked == 0
    assert broken.seen == [0, 1, 2, 3, 4, 5] * 2
    assert checkpoint_position(store, "numbers") == failing_event.position - 1
    assert str(failing_event.event_id) in caplog.text
    with engine.connect() as conn:
        row = conn.execute(select(subscription_checkpoints)).one()
        assert parked(conn, "numbers") == []
    assert row.failed_position == failing_event.position
    assert str(failing_event.event_id) in row.last_error

    fixed = Recorder()
    result = SubscriptionRunner(store, Subscription("numbers", fixed)).run()

    assert fixed.seen == [6, 7, 8, 9]
    assert not result.failed
    with engine.connect() as conn:
        row = conn.execute(select(subscription_checkpoints)).one()
    assert row.failed_position is None and row.last_error is None


@pytest.mark.parametrize("error", [ConnectionResetError, TimeoutError])
def test_lost_connections_and_timeouts_count_as_temporary(
    engine: Engine, error: type[Exception]
) -> None:
    store = EventStore(engine)
    append_numbers(store, "case-1", range(0, 3))

    result = SubscriptionRunner(store, Subscription("numbers", Recorder(1, error))).run()

    assert result.failed and result.parked == 0


@pytest.mark.parametrize("error, written, checkpoint_at", [
    (TemporaryFailure, ["n0", "n1"], 1),  # stopped at n2: its write and the move roll back
    (RuntimeError, ["n0", "n1"], 2),  # n2 parked: its write rolls back, the move goes past
])
def test_handler_writes_and_checkpoint_commit_together(
    engine: Engine, error: type[Exception], written: list[str], checkpoint_at: int,
) -> None:
    """A failure after a handler wrote leaves none of that event's writes behind."""
    from sqlalchemy import text

    store = EventStore(engine)
    append_numbers(store, "case-1", range(0, 3))

    def write_then_fail(conn: Connection, events: Sequence[StoredEvent]) -> None:
        for event in events:
            conn.execute(text("INSERT INTO daily_activity (day, event_type, count) "
                              "VALUES ('2010-10-27', :t, 1)"), {"t": f"n{event.data['n']}"})
            if event.data["n"] == 2:
                raise error("after writing")

    SubscriptionRunner(store, Subscription("writer", write_then_fail)).run()

    with engine.connect() as conn:
        found = conn.execute(text("SELECT event_type FROM daily_activity ORDER BY 1")).scalars()
        assert list(found) == written
    expected = store.read_stream("case-1")[checkpoint_at].position
    assert checkpoint_position(store, "writer") == expected


def test_status_shows_the_lag_and_since_when_a_subscription_has_been_stuck(
    engine: Engine,
) -> None:
    store = EventStore(engine)
    append_numbers(store, "case-1", range(0, 10))
    failing_event = store.read_stream("case-1")[6]
    broken = Recorder(fail_on=6, error=TemporaryFailure)
    SubscriptionRunner(store, Subscription("numbers", broken), batch_size=100).run()
    with engine.connect() as conn:
        (first,) = subscription_states(conn)
    later = first.stuck_since + timedelta(minutes=10) if first.stuck_since else None

    SubscriptionRunner(store, Subscription("numbers", broken), batch_size=100).run()
    with engine.connect() as conn:
        (again,) = subscription_states(conn, now=later)

    assert first.stuck and first.stuck_since is not None
    assert again.stuck_since == first.stuck_since  # still the first failure's time
    assert again.lag_events == 4  # positions 7..10 of 10 are not handled
    assert again.lag_seconds is not None and 599 < again.lag_seconds < 700
    assert failing_event.position == again.failed_position

    SubscriptionRunner(store, Subscription("numbers", Recorder()), batch_size=100).run()
    with engine.connect() as conn:
        (recovered,) = subscription_states(conn)
    assert (recovered.stuck, recovered.stuck_since, recovered.lag_events,
            recovered.lag_seconds) == (False, None, 0, 0.0)


def test_an_expected_subscription_that_never_ran_is_behind_by_the_whole_log(
    engine: Engine,
) -> None:
    store = EventStore(engine)
    append_numbers(store, "case-1", range(0, 3))
    first_recorded = store.read_all()[0].recorded_at

    with engine.connect() as conn:
        (never,) = subscription_states(conn, now=first_recorded + timedelta(minutes=5),
                                       expected=["numbers"])

    assert (never.name, never.position, never.stuck, never.lag_events) == (
        "numbers", None, False, 3)
    assert never.lag_seconds is not None and 299 < never.lag_seconds < 301
