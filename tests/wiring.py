"""Containers for tests: their actors declared as in a worker, on SQLite or on the run's
PostgreSQL and Redis with a broker of their own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dramatiq.brokers.redis import RedisBroker

from campaign.application.reminders import ReminderSender
from campaign.bootstrap import Container, build
from campaign.settings import Settings
from tests.commands import SECRET_KEY
from workers.actors import ACTORS, Actors, declare_actors


def with_actors(container: Container) -> Container:
    """`container` with every actor declared on its broker and bound to it, as in a worker:
    subscriptions that enqueue (the mail dispatcher) find the actors they name."""
    declare_actors(container)
    return container


def actors_of(container: Container) -> Actors:
    """The actors declared on the container's broker, by name."""
    return Actors({spec.name: container.broker.get_actor(spec.name) for spec in ACTORS})


@contextmanager
def container_on_redis(postgres_url: str, var_dir: Path,
                       reminder_sender: ReminderSender | None = None,
                       **env: str) -> Iterator[Container]:
    """A Container on `postgres_url` and the run's Redis (TEST_REDIS_URL), plus `env`, with
    a broker of its own (see `isolated_broker`) and its actors declared, as in a worker."""
    settings = Settings.from_env({
        "DATABASE_URL": postgres_url, "REDIS_URL": os.environ["TEST_REDIS_URL"],
        "SECRET_KEY": SECRET_KEY, "VAR_DIR": str(var_dir), **env,
    })
    assert settings.redis_url
    with isolated_broker(settings.redis_url) as broker:
        container = with_actors(build(settings, broker=broker,
                                      reminder_sender=reminder_sender))
        broker.flush_all()
        try:
            yield container
        finally:
            container.engine.dispose()


@contextmanager
def isolated_broker(redis_url: str) -> Iterator[RedisBroker]:
    """A Redis broker in a key namespace of its own: parallel tests never share messages."""
    broker = RedisBroker(  # type: ignore[no-untyped-call]
        url=redis_url, namespace=f"test-{uuid.uuid4().hex[:8]}")
    try:
        yield broker
    finally:
        broker.flush_all()
        broker.close()
