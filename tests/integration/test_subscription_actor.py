"""The subscription actor on a real Redis broker and a real Dramatiq worker, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import func, select

from campaign.bootstrap import Services
from campaign.infra.tables import daily_activity
from events import NewEvent
from events.subscriptions import checkpoint_position
from tests.redis_services import isolated_broker, services_on_redis
from workers.actors import SUBSCRIPTIONS_QUEUE, Actors, declare_actors
from workers.clock import tick

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def services(postgres_url: str, tmp_path: Path) -> Iterator[Services]:
    with services_on_redis(postgres_url, tmp_path / "var") as found:
        yield found


@pytest.fixture
def broker(services: Services) -> Iterator[RedisBroker]:
    assert services.settings.redis_url
    with isolated_broker(services.settings.redis_url) as broker:
        yield broker


@pytest.fixture
def actors(broker: RedisBroker, services: Services) -> Actors:
    actors = declare_actors(broker, services)
    broker.flush_all()
    return actors


@pytest.fixture
def worker(broker: RedisBroker, actors: Actors) -> Iterator[dramatiq.Worker]:
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def counts_by_type(services: Services) -> dict[str, int]:
    with services.engine.connect() as conn:
        query = (select(daily_activity.c.event_type, func.sum(daily_activity.c.count))
                 .group_by(daily_activity.c.event_type))
        return {event_type: int(total) for event_type, total in conn.execute(query)}


def run_clock_once(
    services: Services, actors: Actors, broker: RedisBroker, worker: dramatiq.Worker
) -> None:
    tick(services, actors)
    broker.join(SUBSCRIPTIONS_QUEUE, timeout=30_000)
    worker.join()


def test_the_actor_projects_appended_events_exactly_once(
    services: Services, actors: Actors, broker: RedisBroker, worker: dramatiq.Worker
) -> None:
    store = services.store
    store.append("case-1", [NewEvent("Opened", {}), NewEvent("Amended", {})])
    last = store.append("action-1", [NewEvent("Launched", {})]).positions[-1]

    run_clock_once(services, actors, broker, worker)

    assert counts_by_type(services) == {"Opened": 1, "Amended": 1, "Launched": 1}
    assert checkpoint_position(store, "daily_activity") == last

    store.append("case-1", [NewEvent("Amended", {}), NewEvent("Amended", {})])
    last = store.append("case-2", [NewEvent("Opened", {})]).positions[-1]
    run_clock_once(services, actors, broker, worker)
    run_clock_once(services, actors, broker, worker)  # a tick with nothing new changes nothing

    assert counts_by_type(services) == {"Opened": 2, "Amended": 3, "Launched": 1}
    assert checkpoint_position(store, "daily_activity") == last


def test_the_worker_consumes_every_queue_the_actors_send_to(
    broker: RedisBroker, actors: Actors
) -> None:
    assert actors.queues == broker.get_declared_queues()
    assert SUBSCRIPTIONS_QUEUE in actors.queues
