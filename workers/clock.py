"""The clock: a small loop that asks the workers to run the periodic jobs.

Every tick (each second) enqueues one run of every subscription; once a minute it also
enqueues a deadline scan (lapses and reminders, campaign/deadlines.py), and every five
minutes a sweep for mail batches whose queue message was lost (workers/fanout.py).
Partner webhooks (workers/webhooks): every tick an outbox follower and a scan for due
deliveries, every five minutes the daily letter reports.
Cadences are kept per process, on the monotonic clock, and the first tick of a process
always asks for each job: nothing needs to survive a restart or live in Redis, because
what is due lives in the database and the next scan finds it (after a Redis flush too).

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
MAIL_SWEEP_SECONDS = 300.0
# Daily letter counts for partners: a day is reported within minutes of its end.
LETTER_REPORT_SECONDS = 300.0


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


def tick(services: Services, actors: Actors, deadline_scans: Every | None = None,
         mail_sweeps: Every | None = None, letter_reports: Every | None = None) -> None:
    """Enqueue one run of every subscription, and each periodic job that is due.

    Without a cadence every tick asks for the job (tests drive single ticks this way).
    """
    for subscription in services.subscriptions:
        actors.run_subscription.send(subscription.name)
    now = time.monotonic()
    for job, cadence in ((actors.scan_deadlines, deadline_scans),
                         (actors.resend_lost_batches, mail_sweeps)):
        if cadence is None or cadence.due(now):
            job.send()
            if cadence is not None:
                cadence.ran(now)  # only once sent: with Redis down, the next tick retries
    if actors.webhooks is not None:  # partner webhooks: every tick, letter reports now and then
        report = letter_reports is None or letter_reports.due(now)
        actors.webhooks.tick(report_letters=report)
        if report and letter_reports is not None:
            letter_reports.ran(now)


def run_clock(
    services: Services, actors: Actors, interval: float, stop: threading.Event
) -> None:
    """Tick every `interval` seconds until `stop` is set; a failed tick is logged, not fatal."""
    deadline_scans, mail_sweeps = Every(DEADLINE_SCAN_SECONDS), Every(MAIL_SWEEP_SECONDS)
    letter_reports = Every(LETTER_REPORT_SECONDS)
    while not stop.is_set():
        try:
            tick(services, actors, deadline_scans, mail_sweeps, letter_reports)
        except Exception:  # noqa: BLE001 - e.g. Redis briefly down: the next tick retries
            log.exception("clock tick failed")
        stop.wait(interval)
