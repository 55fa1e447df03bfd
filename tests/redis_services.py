"""Services on the test run's PostgreSQL and Redis, and a broker no other test shares."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dramatiq.brokers.redis import RedisBroker

from campaign.bootstrap import Services, bootstrap
from campaign.settings import Settings
from tests.commands import SECRET_KEY


@contextmanager
def services_on_redis(postgres_url: str, var_dir: Path, **env: str) -> Iterator[Services]:
    """Services on `postgres_url` and the run's Redis (TEST_REDIS_URL), plus `env`."""
    services = bootstrap(Settings.from_env({
        "DATABASE_URL": postgres_url, "REDIS_URL": os.environ["TEST_REDIS_URL"],
        "SECRET_KEY": SECRET_KEY, "VAR_DIR": str(var_dir), **env,
    }))
    try:
        yield services
    finally:
        services.engine.dispose()


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
