"""What operators do to a stuck subscription: run it again now, or skip the event it is
stopped at (parked with who and why, recorded as an event the audit shows)."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from sqlalchemy import Connection

from campaign.application.commands import CommandHandler, Meta
from campaign.domain.operations import SkipStuckEvent
from events import EventStore, StoredEvent, Subscription, SubscriptionRunner
from events.subscriptions import RunResult, skip_stuck

log = logging.getLogger(__name__)

RETRY_PATIENCE_SECONDS = 10.0
"""How long a retry waits for a worker that is running the subscription to let go of it."""


def retry(store: EventStore, subscription: Subscription,
          patience: float = RETRY_PATIENCE_SECONDS) -> RunResult:
    """Run `subscription` now, from where it stopped: a success clears its failure, a
    failure at the same event keeps since when it has been stuck. `busy` when a worker held
    it for longer than `patience` seconds (its own run is then the retry)."""
    deadline = time.monotonic() + patience
    while True:
        result = SubscriptionRunner(store, subscription).run(max_seconds=20)
        if not result.busy or time.monotonic() >= deadline:
            return result
        time.sleep(0.2)


def skip(commands: CommandHandler, name: str, position: int, skipped_by: str, reason: str,
         meta: Meta, now: datetime, conn: Connection | None = None) -> StoredEvent:
    """Park the event `name` is stuck at (`position`), move past it and record
    `SubscriptionEventSkipped`, in one transaction; the event skipped.

    NotStuckThere when `name` is not stopped at `position`; DomainError when the reason or
    the operator is missing: nothing moves in either case. In `conn`'s transaction when given.
    """
    with commands.transaction(conn) as tx, tx.begin_nested():  # all or nothing, in `conn` too
        event = skip_stuck(tx, commands.store, name, position,
                           note=f"skipped by {skipped_by.strip()}: {reason.strip()}")
        commands.handle(SkipStuckEvent(
            subscription=name, position=position, event_id=str(event.event_id),
            event_type=event.type, skipped_by=skipped_by, reason=reason, skipped_at=now,
        ), meta, conn=tx)
    log.warning("subscription %s skipped the event at position %s (event %s, %s), by %s",
                name, position, event.event_id, event.type, skipped_by.strip())
    return event
