"""Projections: inline ones commit with the append; any projection rebuilt equals the live one."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, Table, select

from campaign.bootstrap import Container
from campaign.infra.tables import daily_activity, stream_directory
from events import ANY, NO_STREAM, EventStore, NewEvent, StoredEvent, SubscriptionRunner, rebuild
from events.projections import Mode
from events.status import parked
from events.subscriptions import projection_subscription


def rows(engine: Engine, table: Table) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key))]


def catch_up(container: Container) -> None:
    for subscription in container.subscriptions.values():
        SubscriptionRunner(container.store, subscription).run()


def test_an_inline_projection_is_current_as_soon_as_the_append_returns(
    container: Container,
) -> None:
    container.store.append("case-7", [NewEvent("Opened", {}), NewEvent("Noted", {})],
                          NO_STREAM)

    (row,) = rows(container.engine, stream_directory)

    assert row[:3] == ("case-7", "case", 2)


class Exploding:
    name = "exploding"
    mode: Mode = "inline"
    event_types: frozenset[str] | None = frozenset({"Boom"})
    tables: Sequence[Table] = ()

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        raise RuntimeError("projection failed")


def test_a_failing_inline_projection_rolls_the_append_back(container: Container) -> None:
    engine, store = container.engine, container.store
    store.projections = [*store.projections, Exploding()]
    store.append("case-1", [NewEvent("Quiet", {})], NO_STREAM)

    with pytest.raises(RuntimeError, match="projection failed"):
        store.append("case-1", [NewEvent("Boom", {})], 1)

    assert [e.type for e in store.read_stream("case-1")] == ["Quiet"]
    assert rows(engine, stream_directory)[0][2] == 1


def test_a_catch_up_projection_follows_the_log_through_its_subscription(
    container: Container,
) -> None:
    container.store.append("case-1", [NewEvent("Opened", {}), NewEvent("Noted", {})],
                          NO_STREAM)
    assert rows(container.engine, daily_activity) == []

    catch_up(container)

    counts = {r[1]: r[2] for r in rows(container.engine, daily_activity)}
    assert counts == {"Opened": 1, "Noted": 1}


streams = st.sampled_from(["case-1", "case-2", "action-1", "supporter-9", "pledge-1-9"])
types = st.sampled_from(["Opened", "Noted", "Signed", "Posted"])
batches = st.lists(st.tuples(streams, st.lists(types, min_size=1, max_size=4)),
                   min_size=1, max_size=12)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=batches, catch_up_every=st.integers(min_value=1, max_value=5))
def test_rebuilding_any_projection_gives_back_the_live_read_model(
    container: Container, batches: list[tuple[str, list[str]]], catch_up_every: int
) -> None:
    for n, (stream, kinds) in enumerate(batches, start=1):
        container.store.append(stream, [NewEvent(k, {"n": n}) for k in kinds], ANY)
        if n % catch_up_every == 0:
            catch_up(container)
    catch_up(container)

    for projection in container.projections.values():
        live = [rows(container.engine, t) for t in projection.tables]
        rebuild(container.store, projection)
        assert [rows(container.engine, t) for t in projection.tables] == live, projection.name


def test_a_rebuilt_catch_up_projection_continues_from_where_the_replay_ended(
    container: Container,
) -> None:
    activity = container.projections["daily_activity"]
    container.store.append("case-1", [NewEvent("Noted", {})], NO_STREAM)
    rebuild(container.store, activity)
    container.store.append("case-1", [NewEvent("Noted", {})], 1)

    SubscriptionRunner(container.store, projection_subscription(activity)).run()

    assert [r[2] for r in rows(container.engine, daily_activity)] == [2]


class Fragile:
    """An inline projection that cannot apply one event: what a bug or an old payload does."""

    name = "fragile"
    mode: Mode = "inline"
    event_types: frozenset[str] | None = frozenset({"Numbered"})
    tables: Sequence[Table] = ()

    def __init__(self) -> None:
        self.applied: list[int] = []

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        numbers = [e.data["n"] for e in events]
        if 2 in numbers:
            raise ValueError("no reader expected this")
        self.applied.extend(numbers)


def test_a_rebuild_parks_the_event_its_projection_cannot_apply_and_goes_on(
    engine: Engine,
) -> None:
    store = EventStore(engine)
    store.append("case-1", [NewEvent("Numbered", {"n": n}) for n in range(5)])
    fragile = Fragile()

    applied = rebuild(store, fragile, batch_size=10)

    assert applied == 4
    assert fragile.applied == [0, 1, 3, 4]
    with engine.connect() as conn:
        (set_aside,) = parked(conn, "fragile")
    assert (set_aside.position, set_aside.error) == (store.read_all()[2].position, "ValueError")


class Folding(Fragile):
    """`Fragile` with a replay of its own, which fails too when `broken`."""

    def __init__(self, broken: bool) -> None:
        super().__init__()
        self.broken = broken
        self.replayed: list[int] = []

    def replay(self) -> Folding:
        return self

    def finish(self, conn: Connection) -> None:
        if self.broken:
            raise ValueError("the fold went wrong")
        self.replayed.extend(self.applied)
        self.applied.clear()


def test_a_rebuild_folds_with_the_projection_s_replay_when_it_has_one(engine: Engine) -> None:
    store = EventStore(engine)
    store.append("case-1", [NewEvent("Numbered", {"n": n}) for n in (0, 1, 3)])
    folding = Folding(broken=False)

    applied = rebuild(store, folding, batch_size=2)

    assert (applied, folding.replayed, folding.applied) == (3, [0, 1, 3], [])


def test_a_rebuild_whose_replay_fails_starts_over_page_by_page_and_parks_the_bad_event(
    engine: Engine, caplog: pytest.LogCaptureFixture,
) -> None:
    store = EventStore(engine)
    store.append("case-1", [NewEvent("Numbered", {"n": n}) for n in range(5)])
    folding = Folding(broken=True)

    with caplog.at_level(logging.WARNING, logger="events.rebuilding"):
        applied = rebuild(store, folding, batch_size=10)

    assert (applied, folding.replayed) == (4, [])
    assert "rebuild of fragile: its replay failed (ValueError); rebuilding page by page" in [
        r.getMessage() for r in caplog.records]
    assert folding.applied[-4:] == [0, 1, 3, 4]
    with engine.connect() as conn:
        (set_aside,) = parked(conn, "fragile")
    assert set_aside.position == store.read_all()[2].position


def test_a_page_read_for_some_types_data_leaves_the_others_data_empty(engine: Engine) -> None:
    store = EventStore(engine)
    store.append("case-1", [NewEvent("Noted", {"n": 1}), NewEvent("Skipped", {"why": "x"})])

    with engine.connect() as conn:
        page = store.read_page(conn, 0, 10, data_of=frozenset({"Skipped"}))

    assert [(e.type, e.data) for e in page] == [("Noted", {}), ("Skipped", {"why": "x"})]


def test_a_page_read_for_some_metadata_keys_holds_only_those_keys(engine: Engine) -> None:
    store = EventStore(engine)
    store.append("case-1", [NewEvent("Noted", {"n": 1}, {"actor": "cli", "trace": "t-1"}),
                            NewEvent("Noted", {"n": 2}, {"trace": "t-2"})])

    with engine.connect() as conn:
        page = store.read_page(conn, 0, 10, metadata_keys=frozenset({"actor"}))

    assert [e.metadata for e in page] == [{"actor": "cli"}, {}]
