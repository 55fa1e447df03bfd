"""The clock: a small loop that asks the workers to run the periodic jobs.

Every tick (each second) enqueues one run of every subscription; once a minute it also
enqueues a deadline scan (lapses and reminders, campaign/deadlines.py). The minute is kept
per process, on the monotonic clock, and the first tick of a process always asks for a
scan: nothing needs to survive a restart or live in Redis, because what is due lives in
the database and the next scan finds it (after a Redis flush too).

Running two clocks at once is safe: each subscription runner takes its checkpoint row
with SKIP LOCKED, so a duplicate tick finds nothing to do, and the deadline scans claim
the reminders they send and lapse pledges through idempotent commands.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from campaign.bootstrap import Services
from workers.actors import Actors

log = logging.getLogger(__name__)

DEADLINE_SCAN_SECONDS = 60.0


@dataclass
class Every:
    """A per-process cadence on the monotonic clock: due at once, then every `seconds`."""

    seconds: float
    last: float | None = None

    def due(self, now: float) -> bool:
        """True when the job has never run here or ran at least `seconds` ago."""
        return self.last is None or now - self.last >= self.seconds

    def ran(self, now: float) -> None:
        """Record that the job was asked for at `now`."""
        self.last = now


def tick(services: Services, actors: Actors, deadline_scans: Every | None = None) -> None:
    """Enqueue one run of every subscription, and a deadline scan when one is due.

    Without a cadence every tick asks for a scan (tests drive single ticks this way).
    """
    for subscription in services.subscriptions:
        actors.run_subscription.send(subscription.name)
    now = time.monotonic()
    if deadline_scans is None or deadline_scans.due(now):
        actors.scan_deadlines.send()
        if deadline_scans is not None:
            deadline_scans.ran(now)  # only once sent: with Redis down, the next tick retries


def run_clock(
    services: Services, actors: Actors, interval: float, stop: threading.Event
) -> None:
    """Tick every `interval` seconds until `stop` is set; a failed tick is logged, not fatal."""
    deadline_scans = Every(DEADLINE_SCAN_SECONDS)
    while not stop.is_set():
        try:
            tick(services, actors, deadline_scans)
        except Exception:  # noqa: BLE001 - e.g. Redis briefly down: the next tick retries
            log.exception("clock tick failed")
        stop.wait(interval)
