"""Correlation ids cross the queue: a message carries its sender's, the worker handling it
logs under it, and every message of one clock tick carries that tick's."""

from __future__ import annotations

import dramatiq
from dramatiq import Worker
from sqlalchemy import Engine

from campaign.bootstrap import build
from campaign.infra.logs import correlated, current_correlation_id
from campaign.infra.queue import CORRELATION_OPTION, Queue, create_broker
from campaign.settings import Settings
from tests.wiring import with_actors
from workers.clock import tick


def test_a_message_carries_its_senders_correlation_id_to_the_worker_handling_it() -> None:
    broker = create_broker(None)
    seen: list[str | None] = []
    dramatiq.actor(actor_name="note_correlation", broker=broker, max_retries=0)(
        lambda: seen.append(current_correlation_id()))
    queue = Queue(broker)

    with correlated("req-135-10"):
        queue.send("note_correlation")
    queue.send("note_correlation")  # sent outside any request or tick
    worker = Worker(broker, worker_threads=1)
    worker.start()
    try:
        broker.join("default")
        worker.join()
    finally:
        worker.stop()
        broker.close()

    assert seen[0] == "req-135-10"
    assert seen[1] is not None and seen[1].startswith("message-")
    assert current_correlation_id() is None


def test_every_message_of_one_clock_tick_carries_that_ticks_id(
    settings: Settings, engine: Engine,
) -> None:
    container = with_actors(build(settings, engine=engine, broker=create_broker(None)))
    broker = container.broker

    tick(container)
    tick(container)

    ids = [dramatiq.Message.decode(data).options.get(CORRELATION_OPTION)
           for queue in broker.queues.values() for data in list(queue.queue)]
    broker.close()
    assert len(ids) > 2 and all(i and i.startswith("tick-") for i in ids)
    assert len(set(ids)) == 2  # one per tick
