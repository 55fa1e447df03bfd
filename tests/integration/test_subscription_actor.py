"""The subscription actor on a real Redis broker and a real Dramatiq worker, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import func, select

from campaign.bootstrap import Container
from campaign.infra.tables import daily_activity
from events import NewEvent
from events.subscriptions import checkpoint_position
from tests.wiring import actors_of, container_on_redis
from workers.actors import SUBSCRIPTIONS_QUEUE, Actors
from workers.clock import tick

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def container(postgres_url: str, tmp_path: Path) -> Iterator[Container]:
    with container_on_redis(postgres_url, tmp_path / "var") as found:
        yield found


@pytest.fixture
def broker(container: Container) -> RedisBroker:
    assert isinstance(container.broker, RedisBroker)
    return container.broker


@pytest.fixture
def actors(container: Container) -> Actors:
    return actors_of(container)


@pytest.fixture
def worker(broker: RedisBroker, actors: Actors) -> Iterator[dramatiq.Worker]:
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def counts_by_type(container: Container) -> dict[str, int]:
    with container.engine.connect() as conn:
        query = (select(daily_activity.c.event_type, func.sum(daily_activity.c.count))
                 .group_by(daily_activity.c.event_type))
        return {event_type: int(total) for event_type, total in conn.execute(query)}


def run_clock_once(
    container: Container, actors: Actors, broker: RedisBroker, worker: dramatiq.Worker
) -> None:
    tick(container)
    broker.join(SUBSCRIPTIONS_QUEUE, timeout=30_000)
    worker.join()


def test_the_actor_projects_appended_events_exactly_once(
    container: Container, actors: Actors, broker: RedisBroker, worker: dramatiq.Worker
) -> None:
    store = container.store
    store.append("case-1", [NewEvent("Opened", {}), NewEvent("Amended", {})])
    last = store.append("action-1", [NewEvent("Launched", {})]).positions[-1]

    run_clock_once(container, actors, broker, worker)

    assert counts_by_type(container) == {"Opened": 1, "Amended": 1, "Launched": 1}
    assert checkpoint_position(store, "daily_activity") == last

    store.append("case-1", [NewEvent("Amended", {}), NewEvent("Amended", {})])
    last = store.append("case-2", [NewEvent("Opened", {})]).positions[-1]
    run_clock_once(container, actors, broker, worker)
    run_clock_once(container, actors, broker, worker)  # a tick with nothing new changes nothing

    assert counts_by_type(container) == {"Opened": 2, "Amended": 3, "Launched": 1}
    assert checkpoint_position(store, "daily_activity") == last


def test_the_worker_consumes_every_queue_the_actors_send_to(
    broker: RedisBroker, actors: Actors
) -> None:
    assert actors.queues == broker.get_declared_queues()
    assert SUBSCRIPTIONS_QUEUE in actors.queues
