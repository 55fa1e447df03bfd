"""Durable, checkpointed subscriptions that tail the log at least once, in position order."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select, update

from events.projections import Projection
from events.records import StoredEvent
from events.schema import subscription_checkpoints as checkpoints
from events.sql import upsert
from events.store import EventStore
from events.tailing import Tail

log = logging.getLogger(__name__)

Handler = Callable[[Connection, Sequence[StoredEvent]], None]


@dataclass(frozen=True)
class Subscription:
    """A named consumer of the log: `handle` runs in the transaction that moves its checkpoint.

    `event_types` of None means every event. Handlers must tolerate seeing an event
    again (at-least-once): after a crash the last uncommitted batch is read again.
    """

    name: str
    handle: Handler
    event_types: frozenset[str] | None = None


def projection_subscription(projection: Projection) -> Subscription:
    """A catch-up projection as a subscription: output and checkpoint commit together."""
    return Subscription(projection.name, projection.apply, projection.event_types)


@dataclass(frozen=True)
class RunResult:
    """What one run of a subscription did."""

    delivered: int
    position: int
    failed: bool = False
    busy: bool = False
    blocked: bool = False


class SubscriptionRunner:
    """Moves one subscription forward, batch by batch, from its stored checkpoint."""

    def __init__(self, store: EventStore, subscription: Subscription, batch_size: int = 500):
        self.store = store
        self.subscription = subscription
        self.batch_size = batch_size
        self.tail = Tail(store)

    def run(self, max_seconds: float = 5.0, wait: float = 0.02) -> RunResult:
        """Deliver batches until caught up, a handler fails, or `max_seconds` pass."""
        deadline = time.monotonic() + max_seconds
        delivered = 0
        while True:
            step = self.run_batch()
            delivered += step.delivered
            if step.failed or step.busy or time.monotonic() >= deadline:
                return RunResult(delivered, step.position, step.failed, step.busy)
            if step.delivered == 0:
                if not step.blocked:
                    return RunResult(delivered, step.position)
                time.sleep(wait)  # an earlier transaction is still open: let it finish

    def run_batch(self) -> RunResult:
        """One transaction: lock the checkpoint, read safely, handle, move the checkpoint."""
        ensure_checkpoint(self.store, self.subscription.name)
        with self.store.engine.begin() as conn:
            position = lock_checkpoint(conn, self.subscription.name)
            if position is None:
                return RunResult(0, -1, busy=True)  # another runner holds it
            read = self.tail.read(conn, position, self.batch_size)
            if not read.events:
                return RunResult(0, position, blocked=read.blocked)
            try:
                with conn.begin_nested():
                    self._handle(conn, read.events)
            except Exception as exc:  # noqa: BLE001 - a handler may fail any way; we stop there
                return self._stop_at_failure(conn, read.events, exc)
            last = read.events[-1].position
            save_checkpoint(conn, self.subscription.name, last)
            return RunResult(len(read.events), last)

    def _handle(self, conn: Connection, batch: Sequence[StoredEvent]) -> None:
        types = self.subscription.event_types
        wanted = list(batch) if types is None else [e for e in batch if e.type in types]
        if wanted:
            self.subscription.handle(conn, wanted)

    def _stop_at_failure(
        self, conn: Connection, batch: Sequence[StoredEvent], first_error: Exception
    ) -> RunResult:
        """Keep what succeeded before the failing event and record where it stopped."""
        done = batch[0].position - 1
        error: Exception = first_error
        failing = batch[0]
        for event in batch:
            try:
                with conn.begin_nested():
                    self._handle(conn, [event])
            except Exception as exc:  # noqa: BLE001
                error, failing = exc, event
                break
            done = event.position
        log.error(
            "subscription %s stopped at position %s (event %s, %s): %s",
            self.subscription.name, failing.position, failing.event_id, failing.type,
            type(error).__name__,
        )
        save_checkpoint(conn, self.subscription.name, done, failed_at=failing.position,
                        error=f"{type(error).__name__} at event {failing.event_id}")
        return RunResult(done - batch[0].position + 1, done, failed=True)


def ensure_checkpoint(store: EventStore, name: str) -> None:
    """Create the checkpoint row at position 0 unless it exists."""
    with store.engine.begin() as conn:
        upsert(conn, checkpoints, [{"name": name, "position": 0,
                                    "updated_at": datetime.now(UTC)}], ["name"])


def lock_checkpoint(conn: Connection, name: str, wait: bool = False) -> int | None:
    """The checkpoint's position, locked for this transaction; None if another runner has it."""
    query = (
        select(checkpoints.c.position)
        .where(checkpoints.c.name == name)
        .with_for_update(skip_locked=not wait)
    )
    return conn.execute(query).scalar_one_or_none()


def save_checkpoint(
    conn: Connection, name: str, position: int, failed_at: int | None = None,
    error: str | None = None,
) -> None:
    """Move the checkpoint (in the caller's transaction) and record or clear a failure."""
    conn.execute(
        update(checkpoints)
        .where(checkpoints.c.name == name)
        .values(position=position, updated_at=func.now(), failed_position=failed_at,
                last_error=error)
    )


def checkpoint_position(store: EventStore, name: str) -> int:
    """Where a subscription stands now (0 if it never ran)."""
    with store.engine.connect() as conn:
        query = select(checkpoints.c.position).where(checkpoints.c.name == name)
        return conn.execute(query).scalar_one_or_none() or 0
