"""The actors: thin functions that take ids and call the application, declared in one loop.

Dramatiq binds an actor to a broker when it is declared, so the functions live at module
level and `declare_actors` binds each one to the Container (and its broker) in a loop over
ACTORS; nothing binds to a broker at import time. Each function reads the clock, calls one
thing below, and logs what happened.

Actor names (the function names), queue names and the arguments messages carry are wire
format: messages waiting in Redis hold them, so they never change
(tests/unit/test_wire_format.py holds them fixed). Every actor is idempotent: rows are
claimed or leased, subscriptions are checkpointed, outcomes are recorded once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, Final

import dramatiq
from dramatiq.middleware import Shutdown

from campaign.application.deadlines import ScanResult, run_deadline_scans
from campaign.application.supporters import purge_unconfirmed
from campaign.bootstrap import Container
from campaign.infra.clock import utc_now
from campaign.mail.sending import SEND_BATCH
from campaign.partners.letter_reports import report_daily_letter_counts
from campaign.partners.webhooks.deliveries import wake_due
from campaign.partners.webhooks.delivery import DELIVER_WEBHOOK
from campaign.partners.webhooks.outbox import FOLLOW_OUTBOX, FOLLOW_SECONDS, Outbox
from events import SubscriptionRunner

log = logging.getLogger(__name__)

SUBSCRIPTIONS_QUEUE: Final = "subscriptions"
DEADLINES_QUEUE: Final = "deadlines"
MAIL_QUEUE: Final = "mail"
WEBHOOKS_QUEUE: Final = "webhooks"
"""Deliveries have a queue of their own, so a backlog never holds up the jobs that feed it."""
PARTNER_JOBS_QUEUE: Final = "partner_jobs"
RETENTION_QUEUE: Final = "retention"
"""Erasing what may no longer be kept: never urgent, never in the way of the rest."""
SCAN_BUDGET_SECONDS: Final = 40.0
"""A deadline scan stops starting new batches after this long; the next minute's carries on."""


def run_subscription(c: Container, name: str) -> None:
    """Move one subscription forward until it is caught up (idempotent: checkpointed)."""
    result = SubscriptionRunner(c.store, c.subscriptions[name]).run(max_seconds=20)
    if result.delivered:
        log.debug("subscription %s delivered %d up to %d", name, result.delivered,
                  result.position)


def scan_deadlines(c: Container) -> None:
    """Lapse overdue open pledges and send due reminders (idempotent: rows are claimed)."""
    result = run_deadline_scans(c.commands, c.reminder_sender, utc_now(),
                                max_seconds=SCAN_BUDGET_SECONDS)
    if result != ScanResult():
        log.info("deadline scan: %s", result)


def send_batch(c: Container, batch_id: str) -> None:
    """Send one planned batch (idempotent: its outcome is recorded once)."""
    outcome = c.batches.send(batch_id, utc_now())
    if outcome.retry_in_ms is not None:  # a wait, not a failure: no retry is spent
        c.queue.send(SEND_BATCH, batch_id, delay_ms=outcome.retry_in_ms)
    elif outcome.sent:
        log.info("batch %s accepted (%d recipients, %s)", batch_id, outcome.recipients,
                 outcome.message_id)


def resend_lost_batches(c: Container) -> None:
    """Enqueue again each batch whose message was lost (idempotent: sending is)."""
    lost = c.batches.lost(utc_now())
    for batch_id in lost:
        c.queue.send(SEND_BATCH, batch_id)
    if lost:
        log.warning("%d mail batches had lost their queue message: enqueued again", len(lost))


def deliver_webhook(c: Container, delivery_id: str) -> None:
    """Send the partner's due deliveries, starting with this one (ids only, no data)."""
    turn = c.deliverer.turn(delivery_id)
    if turn.busy:
        log.debug("partner %s busy: delivery %s left to its slot holders", turn.partner_id,
                  delivery_id)


def follow_webhook_outbox(c: Container) -> None:
    """Turn new partner-visible events into deliveries; keep following for a while."""
    outbox = Outbox(c.store, c.queue.sender(DELIVER_WEBHOOK), utc_now)
    try:
        written = outbox.follow(c.follow_seconds)
    except Shutdown:  # the worker is stopping: what is committed stays, the rest waits
        return
    if written is not None and c.follow_seconds:
        c.queue.send(FOLLOW_OUTBOX)  # the successor: no gap between runs


def scan_webhooks(c: Container) -> None:
    """Queue the deliveries whose retry time has come (or whose message was lost)."""
    wake_due(c.store, c.queue.sender(DELIVER_WEBHOOK), utc_now())


def purge_unconfirmed_sign_ups(c: Container) -> None:
    """Erase sign-ups unconfirmed for UNCONFIRMED_RETENTION_DAYS (idempotent: erased ones
    are no longer candidates)."""
    days = c.settings.unconfirmed_retention_days
    purged = purge_unconfirmed(c.commands, c.vault, timedelta(days=days), utc_now())
    if purged:
        log.info("erased %d sign-ups unconfirmed for %d days", purged, days)


def report_letter_counts(c: Container) -> None:
    """Report yesterday's letters per target of each open action (once per day)."""
    reported = report_daily_letter_counts(c.commands, utc_now())
    if reported:
        log.info("reported %d daily letter counts", reported)


@dataclass(frozen=True)
class ActorSpec:
    """One actor: its function (whose name is the actor's), its queue, Dramatiq options."""

    fn: Callable[..., None]
    queue: str
    options: Mapping[str, Any]

    @property
    def name(self) -> str:
        """The actor's name on the wire."""
        return self.fn.__name__


ACTORS: Final[tuple[ActorSpec, ...]] = (
    # The clock sends another run every tick; a failed run is not worth retrying. One event
    # may take long: planning a launch to a million supporters is one transaction, a minute
    # or more on a busy host, and a run cut short would start it over on every tick.
    ActorSpec(run_subscription, SUBSCRIPTIONS_QUEUE, {"time_limit": 900_000, "max_retries": 0}),
    # The clock asks every minute; one quick retry covers a database blip. After a worker
    # outage the backlog holds one scan per clock-minute: only fresh ones run.
    ActorSpec(scan_deadlines, DEADLINES_QUEUE, {"time_limit": 120_000, "max_retries": 1,
                                          "min_backoff": 5_000, "max_age": 300_000}),
    # A batch never planned will not appear by retrying (LookupError).
    ActorSpec(send_batch, MAIL_QUEUE, {"time_limit": 120_000, "max_retries": 12,
                                 "min_backoff": 2_000, "max_backoff": 600_000,
                                 "throws": (LookupError,)}),
    # The clock asks again in a few minutes.
    ActorSpec(resend_lost_batches, MAIL_QUEUE, {"time_limit": 60_000, "max_retries": 0,
                                          "max_age": 600_000}),
    # A turn is about a second plus at most one 15 s request. The row is the retry: a lost
    # attempt's lease ends and the scan queues it again.
    ActorSpec(deliver_webhook, WEBHOOKS_QUEUE, {"time_limit": 60_000, "max_retries": 0,
                                          "priority": 10}),
    # A stopping worker interrupts the follower at once (notify_shutdown).
    ActorSpec(follow_webhook_outbox, PARTNER_JOBS_QUEUE, {
        "time_limit": int((FOLLOW_SECONDS + 50) * 1000), "max_retries": 0,
        "notify_shutdown": True}),
    # The next tick scans again: a backlog of old ticks is skipped.
    ActorSpec(scan_webhooks, PARTNER_JOBS_QUEUE, {"time_limit": 30_000, "max_retries": 0,
                                            "max_age": 60_000}),
    ActorSpec(report_letter_counts, PARTNER_JOBS_QUEUE, {"time_limit": 120_000, "max_retries": 1,
                                                   "min_backoff": 5_000, "max_age": 600_000}),
    # The clock asks every hour; a purge cut short is finished by the next one.
    ActorSpec(purge_unconfirmed_sign_ups, RETENTION_QUEUE, {
        "time_limit": 600_000, "max_retries": 0, "max_age": 3_600_000}),
)
QUEUES: Final = tuple(sorted({spec.queue for spec in ACTORS}))
"""Every queue the workers consume: the ones whose depth /metrics shows."""


@dataclass(frozen=True)
class Actors:
    """The declared actors, by name."""

    by_name: Mapping[str, dramatiq.Actor[Any, Any]]

    def __getitem__(self, name: str) -> dramatiq.Actor[Any, Any]:
        return self.by_name[name]

    @property
    def queues(self) -> set[str]:
        """Every queue these actors consume."""
        return {actor.queue_name for actor in self.by_name.values()}


def declare_actors(c: Container) -> Actors:
    """Bind every actor of ACTORS to `c` and declare it on `c.broker` (once per broker:
    Dramatiq refuses a second actor of the same name)."""
    return Actors({
        spec.name: dramatiq.actor(actor_name=spec.name, queue_name=spec.queue, broker=c.broker,
                                  **spec.options)(partial(spec.fn, c))
        for spec in ACTORS
    })
