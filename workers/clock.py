"""The clock: a small loop that asks the workers to run the periodic jobs.

Every tick (each second) enqueues one run of every subscription; once a minute it also
enqueues a deadline scan (lapses and reminders, campaign.application.deadlines), and every
five minutes a sweep for mail batches whose queue message was lost (campaign.mail.sending).
Partner webhooks (campaign.partners.webhooks): every tick an outbox follower and a scan for
due deliveries, every five minutes the daily letter reports. Every hour the purge of sign-ups
left unconfirmed too long (campaign.application.supporters). Every minute the clock itself
(not a worker: the queue may be what is down) e-mails about subscriptions stuck longer than
ALERT_STUCK_AFTER_SECONDS (campaign.mail.stuck_alerts), once per stuck episode.
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
from datetime import timedelta

from campaign.bootstrap import Container, mail_config
from campaign.infra.clock import utc_now
from campaign.infra.logs import correlated, new_correlation_id
from campaign.mail.stuck_alerts import alert_stuck_subscriptions
from workers.actors import (
    follow_webhook_outbox,
    purge_unconfirmed_sign_ups,
    report_letter_counts,
    resend_lost_batches,
    run_subscription,
    scan_deadlines,
    scan_webhooks,
)

log = logging.getLogger(__name__)

DEADLINE_SCAN_SECONDS = 60.0
MAIL_SWEEP_SECONDS = 300.0
# Daily letter counts for partners: a day is reported within minutes of its end.
LETTER_REPORT_SECONDS = 300.0
RETENTION_PURGE_SECONDS = 3600.0
STUCK_CHECK_SECONDS = 60.0


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


@dataclass
class Cadences:
    """How often the clock asks for the periodic jobs; None asks on every tick (tests)."""

    deadline_scans: Every | None = None
    mail_sweeps: Every | None = None
    letter_reports: Every | None = None
    retention_purges: Every | None = None
    stuck_checks: Every | None = None

    @classmethod
    def standard(cls) -> Cadences:
        """Deadline scans every minute, lost-batch sweeps and letter reports every 5,
        retention purges every hour, stuck subscriptions checked every minute."""
        return cls(Every(DEADLINE_SCAN_SECONDS), Every(MAIL_SWEEP_SECONDS),
                   Every(LETTER_REPORT_SECONDS), Every(RETENTION_PURGE_SECONDS),
                   Every(STUCK_CHECK_SECONDS))


def tick(c: Container, cadences: Cadences | None = None) -> None:
    """Enqueue one run of every subscription and of the webhook jobs, and each periodic
    job that is due; the tick's correlation id goes with every message and log line."""
    with correlated(new_correlation_id("tick")):
        _tick(c, cadences or Cadences())


def _tick(c: Container, cadences: Cadences) -> None:
    for name in c.subscriptions:
        c.queue.send(run_subscription.__name__, name)
    now = time.monotonic()
    for job, cadence in ((scan_deadlines, cadences.deadline_scans),
                         (resend_lost_batches, cadences.mail_sweeps)):
        _ask(c, job.__name__, cadence, now)
    c.queue.send(follow_webhook_outbox.__name__)
    c.queue.send(scan_webhooks.__name__)
    _ask(c, report_letter_counts.__name__, cadences.letter_reports, now)
    _ask(c, purge_unconfirmed_sign_ups.__name__, cadences.retention_purges, now)
    if cadences.stuck_checks is None or cadences.stuck_checks.due(now):
        if cadences.stuck_checks is not None:
            cadences.stuck_checks.ran(now)  # a failed check waits its minute too
        check_stuck(c)


def check_stuck(c: Container) -> None:
    """E-mail the campaigners about subscriptions stuck too long (once per episode)."""
    after = timedelta(seconds=c.settings.alert_stuck_after_seconds)
    alert_stuck_subscriptions(c.engine, c.transport, mail_config(c.settings), after, utc_now())


def _ask(c: Container, actor_name: str, cadence: Every | None, now: float) -> None:
    if cadence is None or cadence.due(now):
        c.queue.send(actor_name)
        if cadence is not None:
            cadence.ran(now)  # only once sent: with Redis down, the next tick retries


def run_clock(c: Container, interval: float, stop: threading.Event) -> None:
    """Tick every `interval` seconds until `stop` is set; a failed tick is logged, not fatal."""
    cadences = Cadences.standard()
    while not stop.is_set():
        with correlated(new_correlation_id("tick")):
            try:
                _tick(c, cadences)
            except Exception:  # noqa: BLE001 - e.g. Redis briefly down: the next tick retries
                log.exception("clock tick failed")
        stop.wait(interval)
