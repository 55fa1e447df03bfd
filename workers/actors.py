"""Actors, declared on an explicit broker so nothing binds to a broker at import time."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import dramatiq

from campaign.application.deadlines import ScanResult, run_deadline_scans
from campaign.bootstrap import Services, transport_from_settings
from campaign.infra.clock import utc_now
from campaign.mail import alerts
from campaign.mail import sending as fanout
from campaign.mail.errors import TransientSendError
from events import SubscriptionRunner
from workers.webhooks.actors import WebhookActors, declare_webhook_actors

log = logging.getLogger(__name__)

SUBSCRIPTIONS_QUEUE = "subscriptions"
DEADLINES_QUEUE = "deadlines"
MAIL_QUEUE = "mail"
# A scan stops starting new batches after this long; the next minute's scan carries on.
SCAN_BUDGET_SECONDS = 40.0
# A batch another worker holds is looked at again after this long.
BUSY_RECHECK_MS = 5_000


@dataclass(frozen=True)
class Actors:
    """Handles for sending messages to the declared actors."""

    run_subscription: dramatiq.Actor[Any, Any]
    scan_deadlines: dramatiq.Actor[Any, Any]
    send_batch: dramatiq.Actor[Any, Any]
    resend_lost_batches: dramatiq.Actor[Any, Any]
    webhooks: WebhookActors | None = None

    @property
    def queues(self) -> set[str]:
        """Every queue these actors consume."""
        return {a.queue_name for a in (self.run_subscription, self.scan_deadlines,
                                       self.send_batch, self.resend_lost_batches)} \
            | (self.webhooks.queues if self.webhooks else set())


def declare_actors(broker: dramatiq.Broker, services: Services) -> Actors:
    """Declare every actor on `broker`, bound to `services`."""

    def run_subscription(name: str) -> None:
        """Move one subscription forward until it is caught up (idempotent: checkpointed)."""
        runner = SubscriptionRunner(services.store, services.subscription(name))
        result = runner.run(max_seconds=20)
        if result.delivered:
            log.debug("subscription %s delivered %d up to %d", name, result.delivered,
                      result.position)

    def scan_deadlines() -> None:
        """Lapse overdue open pledges and send due reminders (idempotent: rows are claimed)."""
        result = run_deadline_scans(services, utc_now(), max_seconds=SCAN_BUDGET_SECONDS)
        if result != ScanResult():
            log.info("deadline scan: %s", result)

    transport = transport_from_settings(services.settings)

    def send_batch(batch_id: str) -> None:
        """Send one planned batch (idempotent: its outcome is recorded once)."""
        try:
            outcome = fanout.send_batch(services, transport, batch_id, utc_now())
        except TransientSendError as exc:
            if exc.retry_after_seconds is None:
                raise  # Dramatiq retries with backoff
            # A rate limit is a wait, not a failure: it must not use up the retries.
            delay = max(1000, int(exc.retry_after_seconds * 1000))
            actors.send_batch.send_with_options(args=(batch_id,), delay=delay)
            return
        if outcome.busy:
            # Held elsewhere: a copy of this message, or a worker that died holding it (its
            # database session lingers a moment). Look again soon without using up retries.
            actors.send_batch.send_with_options(args=(batch_id,), delay=BUSY_RECHECK_MS)
            return
        if outcome.sent:
            log.info("batch %s accepted (%d recipients, %s)", batch_id, outcome.recipients,
                     outcome.message_id)

    def resend_lost_batches() -> None:
        """Enqueue again each batch whose message was lost (idempotent: sending is)."""
        lost = fanout.lost_batches(services, utc_now(), fanout.LOST_AFTER)
        for batch_id in lost:
            actors.send_batch.send(batch_id)
        if lost:
            log.warning("%d mail batches had lost their queue message: enqueued again",
                        len(lost))

    actors = Actors(
        run_subscription=dramatiq.actor(
            broker=broker,
            actor_name="run_subscription",
            queue_name=SUBSCRIPTIONS_QUEUE,
            time_limit=60_000,
            # The clock sends another run every tick; a failed run is not worth retrying.
            max_retries=0,
        )(run_subscription),
        scan_deadlines=dramatiq.actor(
            broker=broker,
            actor_name="scan_deadlines",
            queue_name=DEADLINES_QUEUE,
            time_limit=120_000,
            # The clock asks again every minute; one quick retry covers a database blip.
            max_retries=1,
            min_backoff=5_000,
            # After a worker outage the backlog holds one scan per clock-minute: run fresh ones.
            max_age=300_000,
        )(scan_deadlines),
        send_batch=dramatiq.actor(
            broker=broker,
            actor_name="send_batch",
            queue_name=MAIL_QUEUE,
            time_limit=120_000,
            max_retries=12,
            min_backoff=2_000,
            max_backoff=600_000,
            throws=(LookupError,),  # a batch never planned will not appear by retrying
        )(send_batch),
        resend_lost_batches=dramatiq.actor(
            broker=broker,
            actor_name="resend_lost_batches",
            queue_name=MAIL_QUEUE,
            time_limit=60_000,
            max_retries=0,  # the clock asks again in a few minutes
            max_age=600_000,
        )(resend_lost_batches),
        webhooks=declare_webhook_actors(broker, services),
    )
    if not any(s.name == "mail_dispatcher" for s in services.subscriptions):
        services.subscriptions = [*services.subscriptions,
                                  fanout.dispatch_batches(actors.send_batch.send)]
    if not any(s.name == alerts.NAME for s in services.subscriptions):
        services.subscriptions = [*services.subscriptions,
                                  alerts.partner_alerts(services.settings, transport)]
    return actors
