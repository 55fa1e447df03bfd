"""The webhook outbox: partner-visible events become delivery rows, then queue messages.

`webhook_outbox` is a checkpointed subscription: for each partner-visible event it keeps
the partner form (`webhook_messages`, rendered once, shared by every partner and every
replay) and writes one delivery row per partner following it, in the transaction that
moves its checkpoint (one statement each for a whole batch). Only after that commit are messages
sent, one per partner per batch (the worker that takes it sends that partner's due
deliveries in order). If Redis is down the rows wait, and the clock's scan queues them
once their `wake_at` passes: an event that committed is always delivered.

Latency: the clock starts a run every second, which alone would add half a second on
average between an append and its delivery. So a run *follows* the log for a while,
looking for new events every 50 ms, and queues its own successor before it ends: one
follower at a time (a lock), the clock's messages only restart it after an outage.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Final

from sqlalchemy import Connection, Engine

from campaign.partners.payloads import READ_TYPES, partner_event
from campaign.partners.registry import partners_with_endpoint
from campaign.partners.webhooks.deliveries import add_deliveries, record_messages
from events import EventStore, StoredEvent, Subscription, SubscriptionRunner
from events.sql import advisory_slot

NAME: Final = "webhook_outbox"
FOLLOW_OUTBOX: Final = "follow_webhook_outbox"
"""The actor that runs the outbox, named: each run queues its successor."""
FOLLOW_SECONDS: Final = 10.0
"""How long one outbox run follows the log before handing over to the next (with Redis)."""
IDLE_WAIT: Final = 0.05
BATCH: Final = 500

Send = Callable[[str], object]
Clock = Callable[[], datetime]


def outbox_subscription(store: EventStore, clock: Clock, woken: list[tuple[str, str]]
                        ) -> Subscription:
    """The subscription; the (partner, delivery) pairs it writes are appended to `woken`."""

    def react(conn: Connection, batch: Sequence[StoredEvent]) -> None:
        partners = partners_with_endpoint(conn)
        now = clock()
        built = [partner_event(store, conn, stored) for stored in batch]
        events = [event for event in built if event is not None]  # None: e.g. held
        record_messages(conn, events)
        woken.extend(add_deliveries(conn, events, partners, now))

    return Subscription(NAME, react, READ_TYPES)


def wake_partners(pairs: Sequence[tuple[str, str]], send: Send) -> int:
    """One message per partner, naming its first new delivery; how many were sent."""
    first: dict[str, str] = {}
    for partner_id, delivery_id in pairs:
        first.setdefault(partner_id, delivery_id)
    for delivery_id in first.values():
        send(delivery_id)
    return len(first)


class Outbox:
    """Runs the outbox subscription and wakes the partners whose deliveries it wrote."""

    def __init__(self, store: EventStore, send: Send, clock: Clock) -> None:
        self.store = store
        self.send = send
        self.clock = clock

    def run_once(self) -> int | None:
        """Catch up with the log once; the number of delivery rows written."""
        return self.follow(0.0)

    def follow(self, seconds: float) -> int | None:
        """Catch up, then keep following the log for `seconds`; rows written.

        None, at once, when another runner is following already.
        """
        with following(self.store.engine) as mine:
            if not mine:
                return None
            return self._follow(seconds)

    def _follow(self, seconds: float) -> int:
        woken: list[tuple[str, str]] = []
        subscription = outbox_subscription(self.store, self.clock, woken)
        runner = SubscriptionRunner(self.store, subscription, BATCH)
        deadline = time.monotonic() + seconds
        written, position = 0, -1
        while True:
            step = runner.run_batch()
            written += len(woken)
            wake_partners(woken, self.send)
            woken.clear()
            if step.failed or step.busy:
                return written
            position = max(position, step.position)
            over = time.monotonic() >= deadline
            if step.delivered and (not over or not seconds):
                continue  # catching up (a single run catches up to the end)
            if over:
                return written  # a follower's successor carries on, even mid-backlog
            while time.monotonic() < deadline and not step.blocked \
                    and self.store.head() <= position:
                time.sleep(IDLE_WAIT)
            if step.blocked:
                time.sleep(IDLE_WAIT)


def following(engine: Engine) -> AbstractContextManager[bool]:
    """The right to follow the outbox, held on a connection of its own; False when another
    runner has it."""
    return advisory_slot(engine, "webhook-outbox")
