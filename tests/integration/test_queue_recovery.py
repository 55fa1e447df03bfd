"""A killed worker's messages come back within seconds, not minutes (the product's broker)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import dramatiq
import pytest
import redis

from campaign.infra.queue import HEARTBEAT_TIMEOUT_MS, create_broker

pytestmark = pytest.mark.redis
REDIS_DB = 8  # a database of its own: maintenance looks at every worker in the namespace
QUEUE = "recovery"


@pytest.fixture
def redis_url() -> Iterator[str]:
    url = os.environ["TEST_REDIS_URL"].rsplit("/", 1)[0] + f"/{REDIS_DB}"
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()


def test_a_message_taken_by_a_worker_that_died_is_handed_to_another_soon_after_its_heartbeat(
    redis_url: str,
) -> None:
    dead, alive = create_broker(redis_url), create_broker(redis_url)
    try:
        dead.declare_queue(QUEUE)
        alive.declare_queue(QUEUE)
        dead.enqueue(dramatiq.Message(queue_name=QUEUE, actor_name="send_batch",
                                      args=("batch-1",), kwargs={}, options={}))
        taken = next(iter(dead.consume(QUEUE, prefetch=1, timeout=100)))
        assert taken is not None and taken.args == ("batch-1",)
        died = time.monotonic()  # it never acknowledges, nor says another word

        # The survivor polls as an idle worker process does, about once a second.
        consumer = alive.consume(QUEUE, prefetch=1, timeout=1_000)
        limit = HEARTBEAT_TIMEOUT_MS / 1000 + 30
        while (message := next(consumer)) is None:
            assert time.monotonic() - died < limit, f"still lost after {limit:.0f} s"
        recovered = time.monotonic() - died
    finally:
        dead.close()
        alive.close()

    assert message.args == ("batch-1",)
    assert HEARTBEAT_TIMEOUT_MS / 1000 <= recovered
