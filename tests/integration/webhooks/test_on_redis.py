"""Webhooks through the real thing: Redis, a Dramatiq worker, the clock's ticks, PostgreSQL.

One partner answers after two seconds; the other partner's deliveries must not wait for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker

from campaign.bootstrap import Container
from campaign.infra.clock import utc_now
from campaign.partners.webhooks.slots import SLOTS
from tests.fakes.partner_receiver import Answer, PartnerReceiver
from tests.integration.webhooks.conftest import launch_seed_action, register
from tests.wiring import actors_of, container_on_redis
from workers.actors import PARTNER_JOBS_QUEUE, WEBHOOKS_QUEUE, Actors
from workers.clock import tick

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
SEED_DELIVERIES = 7


@pytest.fixture
def container(postgres_url: str, tmp_path: Path) -> Iterator[Container]:
    with container_on_redis(postgres_url, tmp_path / "var", WEBHOOK_ALLOW_PRIVATE="1") as found:
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
    worker = dramatiq.Worker(broker, worker_threads=4, worker_timeout=100)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def ticking_until(container: Container, done: Callable[[], bool], seconds: float) -> None:
    """Tick like the clock (every half second here) until `done`, or fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "the webhooks did not arrive in time"
        tick(container)
        time.sleep(0.5)


def test_a_slow_partner_does_not_hold_up_another_on_a_real_worker(
    container: Container, actors: Actors, broker: RedisBroker, worker: dramatiq.Worker,
) -> None:
    with PartnerReceiver() as slow, PartnerReceiver() as fast:
        slow.answer_always(Answer(200, delay=2.0))
        register(container, slow, utc_now())
        register(container, fast, utc_now())
        launch_seed_action(container)

        ticking_until(container, lambda: len(fast.deliveries()) == SEED_DELIVERIES, 60)
        slow_meanwhile = len(slow.deliveries())
        ticking_until(container, lambda: len(slow.deliveries()) == SEED_DELIVERIES, 120)

    assert slow_meanwhile < SEED_DELIVERIES
    assert slow.max_in_flight <= SLOTS
    for partner in (slow, fast):
        ids = [r.webhook_id for r in partner.requests()]
        assert len(ids) == len(set(ids)) == SEED_DELIVERIES  # each once, each verified
        assert all(r.verified for r in partner.requests())


def test_the_webhook_queues_are_consumed_by_the_worker(
    broker: RedisBroker, actors: Actors,
) -> None:
    assert actors.queues == broker.get_declared_queues()
    assert {WEBHOOKS_QUEUE, PARTNER_JOBS_QUEUE} <= actors.queues
