"""Actors, declared on an explicit broker so nothing binds to a broker at import time."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import dramatiq

from campaign.bootstrap import Services
from events import SubscriptionRunner

log = logging.getLogger(__name__)

SUBSCRIPTIONS_QUEUE = "subscriptions"


@dataclass(frozen=True)
class Actors:
    """Handles for sending messages to the declared actors."""

    run_subscription: dramatiq.Actor[Any, Any]

    @property
    def queues(self) -> set[str]:
        """Every queue these actors consume."""
        return {self.run_subscription.queue_name}


def declare_actors(broker: dramatiq.Broker, services: Services) -> Actors:
    """Declare every actor on `broker`, bound to `services`."""

    def run_subscription(name: str) -> None:
        """Move one subscription forward until it is caught up (idempotent: checkpointed)."""
        runner = SubscriptionRunner(services.store, services.subscription(name))
        result = runner.run(max_seconds=20)
        if result.delivered:
            log.debug("subscription %s delivered %d up to %d", name, result.delivered,
                      result.position)

    return Actors(
        run_subscription=dramatiq.actor(
            broker=broker,
            actor_name="run_subscription",
            queue_name=SUBSCRIPTIONS_QUEUE,
            time_limit=60_000,
            # The clock sends another run every tick; a failed run is not worth retrying.
            max_retries=0,
        )(run_subscription),
    )
