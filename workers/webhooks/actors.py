"""The webhook actors: follow the outbox, deliver, scan for due retries, report letter days.

Deliveries have a queue of their own ("webhooks"); the outbox follower and the scans run
on "partner_jobs", so a backlog of deliveries never holds up the jobs that feed it. All
of them are idempotent: rows are leased before an attempt, and the outbox is a
checkpointed subscription.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final

import dramatiq
from dramatiq.middleware import Shutdown

from campaign.bootstrap import Services
from campaign.infra.clock import utc_now
from campaign.partners.letter_reports import report_daily_letter_counts
from campaign.partners.webhooks.deliveries import wake_due
from campaign.partners.webhooks.delivery import Deliverer
from campaign.partners.webhooks.http import PinnedSender
from campaign.partners.webhooks.outbox import Outbox

log = logging.getLogger(__name__)

WEBHOOKS_QUEUE: Final = "webhooks"
PARTNER_JOBS_QUEUE: Final = "partner_jobs"
FOLLOW_SECONDS: Final = 10.0
"""How long one outbox run follows the log before handing over to the next (with Redis)."""


@dataclass(frozen=True)
class WebhookActors:
    """Handles for the webhook actors."""

    deliver_webhook: dramatiq.Actor[Any, Any]
    follow_webhook_outbox: dramatiq.Actor[Any, Any]
    scan_webhooks: dramatiq.Actor[Any, Any]
    report_letter_counts: dramatiq.Actor[Any, Any]

    @property
    def queues(self) -> set[str]:
        """Every queue these actors consume."""
        return {a.queue_name for a in (self.deliver_webhook, self.follow_webhook_outbox,
                                       self.scan_webhooks, self.report_letter_counts)}

    def tick(self, report_letters: bool) -> None:
        """What the clock asks every second: follow the outbox and queue due deliveries;
        every few minutes (`report_letters`) also report the days that are over."""
        self.follow_webhook_outbox.send()
        self.scan_webhooks.send()
        if report_letters:
            self.report_letter_counts.send()


def declare_webhook_actors(broker: dramatiq.Broker, services: Services) -> WebhookActors:
    """Declare the webhook actors on `broker`, bound to `services`."""
    follow_seconds = FOLLOW_SECONDS if services.settings.uses_redis else 0.0

    def deliver_webhook(delivery_id: str) -> None:
        """Send the partner's due deliveries, starting with this one (ids only, no data)."""
        turn = deliverer.turn(delivery_id)
        if turn.busy:
            log.debug("partner %s busy: delivery %s left to its slot holders",
                      turn.partner_id, delivery_id)

    def follow_webhook_outbox() -> None:
        """Turn new partner-visible events into deliveries; keep following for a while."""
        outbox = Outbox(services.store, actors.deliver_webhook.send, utc_now)
        try:
            written = outbox.follow(follow_seconds)
        except Shutdown:  # the worker is stopping: what is committed stays, the rest waits
            return
        if written is not None and follow_seconds:
            actors.follow_webhook_outbox.send()  # the successor: no gap between runs

    def scan_webhooks() -> None:
        """Queue the deliveries whose retry time has come (or whose message was lost)."""
        wake_due(services.store, actors.deliver_webhook.send, utc_now())

    def report_letter_counts() -> None:
        """Report yesterday's letters per target of each open action (once per day)."""
        reported = report_daily_letter_counts(services.commands, utc_now())
        if reported:
            log.info("reported %d daily letter counts", reported)

    deliverer = Deliverer(services, PinnedSender(),
                          wake=lambda delivery_id: actors.deliver_webhook.send(delivery_id))
    actors = WebhookActors(
        deliver_webhook=dramatiq.actor(
            broker=broker, actor_name="deliver_webhook", queue_name=WEBHOOKS_QUEUE,
            # A turn is about a second plus at most one 15 s request.
            time_limit=60_000,
            # The row is the retry: a lost attempt's lease ends and the scan queues it again.
            max_retries=0, priority=10,
        )(deliver_webhook),
        follow_webhook_outbox=dramatiq.actor(
            broker=broker, actor_name="follow_webhook_outbox", queue_name=PARTNER_JOBS_QUEUE,
            time_limit=int((follow_seconds + 50) * 1000), max_retries=0,
            notify_shutdown=True,  # a stopping worker interrupts the follower at once
        )(follow_webhook_outbox),
        scan_webhooks=dramatiq.actor(
            broker=broker, actor_name="scan_webhooks", queue_name=PARTNER_JOBS_QUEUE,
            time_limit=30_000, max_retries=0,
            max_age=60_000,  # the next tick scans again: skip a backlog of old ticks
        )(scan_webhooks),
        report_letter_counts=dramatiq.actor(
            broker=broker, actor_name="report_letter_counts", queue_name=PARTNER_JOBS_QUEUE,
            time_limit=120_000, max_retries=1, min_backoff=5_000, max_age=600_000,
        )(report_letter_counts),
    )
    return actors
