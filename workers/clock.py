"""The clock: a small loop that asks the workers to run the periodic jobs.

Running two clocks at once is safe: each subscription runner takes its checkpoint row
with SKIP LOCKED, so a duplicate tick finds nothing to do.
"""

from __future__ import annotations

import logging
import threading

from campaign.bootstrap import Services
from workers.actors import Actors

log = logging.getLogger(__name__)


def tick(services: Services, actors: Actors) -> None:
    """Enqueue one run of every subscription."""
    for subscription in services.subscriptions:
        actors.run_subscription.send(subscription.name)


def run_clock(
    services: Services, actors: Actors, interval: float, stop: threading.Event
) -> None:
    """Tick every `interval` seconds until `stop` is set; a failed tick is logged, not fatal."""
    while not stop.is_set():
        try:
            tick(services, actors)
        except Exception:  # noqa: BLE001 - e.g. Redis briefly down: the next tick retries
            log.exception("clock tick failed")
        stop.wait(interval)
