"""Durable, checkpointed subscriptions that tail the log at least once, in position order.

One bad event never stops a subscription: an event its handler cannot handle is parked
(`parked_events`, with the error) and the rest of the log goes on. Only a temporary failure
(a lost connection, a broker that is down) stops it at that event until the next run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, and_, case, func, select, update
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from events.errors import EventStoreError, TemporaryFailure
from events.projections import Projection
from events.records import StoredEvent
from events.schema import events, parked_events
from events.schema import subscription_checkpoints as checkpoints
from events.sql import commit_without_waiting, upsert
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
    parked: int = 0


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
        delivered = parked = 0
        while True:
            step = self.run_batch()
            delivered += step.delivered
            parked += step.parked
            if step.failed or step.busy or time.monotonic() >= deadline:
                return RunResult(delivered, step.position, step.failed, step.busy,
                                 parked=parked)
            if step.delivered == 0:
                if not step.blocked:
                    return RunResult(delivered, step.position, parked=parked)
                time.sleep(wait)  # an earlier transaction is still open: let it finish

    def run_batch(self) -> RunResult:
        """One transaction: lock the checkpoint, read safely, handle, move the checkpoint.

        A subscription with nothing new to read (the clock asks every one of them every
        second) costs one read and no transaction that writes: a write, even of a row lock,
        would make its commit wait for the disk on a durable server.
        """
        name = self.subscription.name
        caught_up = self._caught_up_at()
        if caught_up is not None:
            return RunResult(0, caught_up)
        with self.store.engine.begin() as conn:
            position = _lock_or_create(conn, name)
            if position is None:
                return RunResult(0, -1, busy=True)  # another runner holds it
            read = self.tail.read(conn, position, self.batch_size)
            if not read.events:
                return RunResult(0, position, blocked=read.blocked)
            wanted = self._wanted(read.events)
            if wanted:
                try:
                    with conn.begin_nested():
                        self.subscription.handle(conn, wanted)
                except Exception:  # noqa: BLE001 - a handler may fail any way: find which
                    return self._one_by_one(conn, read.events)
            else:
                # Only the checkpoint moves, past events this subscription ignores: losing
                # that move in a crash means reading them again, which does nothing.
                commit_without_waiting(conn)
            last = read.events[-1].position
            save_checkpoint(conn, name, last)
            return RunResult(len(read.events), last)

    def _caught_up_at(self) -> int | None:
        """The checkpoint's position if the log holds nothing after it, else None.

        Positions at or below a checkpoint are settled (the tail moved it there), so an
        event still in flight will commit above the head read here and be seen next time.
        """
        query = select(checkpoints.c.position, select(func.max(events.c.position))
                       .scalar_subquery()).where(checkpoints.c.name == self.subscription.name)
        with self.store.engine.connect() as conn:
            found = conn.execute(query).first()
        if found is None:
            return None
        position, head = found
        return position if head is None or head <= position else None

    def _wanted(self, batch: Sequence[StoredEvent]) -> list[StoredEvent]:
        types = self.subscription.event_types
        return list(batch) if types is None else [e for e in batch if e.type in types]

    def _handle(self, conn: Connection, batch: Sequence[StoredEvent]) -> None:
        wanted = self._wanted(batch)
        if wanted:
            self.subscription.handle(conn, wanted)

    def _one_by_one(self, conn: Connection, batch: Sequence[StoredEvent]) -> RunResult:
        """Handle the batch one event at a time after it failed as a whole.

        An event that fails for good (a bug, a value no reader expected) is parked with its
        error and the rest goes on; one that fails for now (`is_temporary`) stops the
        subscription there, to be tried again on the next run.
        """
        name = self.subscription.name
        done, parked = batch[0].position - 1, 0
        for event in batch:
            try:
                with conn.begin_nested():
                    self._handle(conn, [event])
            except Exception as exc:  # noqa: BLE001 - a handler may fail any way
                if is_temporary(exc):
                    log.error("subscription %s stopped at position %s (event %s, %s): %s",
                              name, event.position, event.event_id, event.type, describe(exc))
                    save_checkpoint(conn, name, done, failed_at=event.position,
                                    error=f"{describe(exc)} at event {event.event_id}")
                    return RunResult(done - batch[0].position + 1, done, failed=True,
                                     parked=parked)
                park(conn, name, event, exc)
                parked += 1
            done = event.position
        save_checkpoint(conn, name, done)
        return RunResult(len(batch), done, parked=parked)


def is_temporary(error: BaseException) -> bool:
    """Whether a handler's error may pass by itself: a lost connection, a timeout, a service
    that said so (TemporaryFailure). Any other error would fail the same way again."""
    return isinstance(error, (TemporaryFailure, OSError, TimeoutError, OperationalError,
                              InterfaceError, DisconnectionError))


def describe(error: BaseException) -> str:
    """An error as operators see it: its class and, when it has one, its code. Never its
    message, which may quote the event's data (personal data among it)."""
    code = getattr(error, "code", None)
    return type(error).__name__ + (f" ({code})" if isinstance(code, str) else "")


def park(conn: Connection, name: str, event: StoredEvent, error: BaseException) -> None:
    """Set `event` aside for subscription `name`, with its error, in `conn`'s transaction."""
    log.error("subscription %s parked the event at position %s (event %s, %s): %s", name,
              event.position, event.event_id, event.type, describe(error))
    _set_aside(conn, name, event, describe(error))


class NotStuckThere(EventStoreError, ValueError):
    """Raised when a skip names a position its subscription is not stopped at."""


def skip_stuck(conn: Connection, store: EventStore, name: str, position: int,
               note: str) -> StoredEvent:
    """Park the event subscription `name` is stopped at, with `note` as its error, and move
    the checkpoint past it, in `conn`'s transaction; the event skipped.

    The caller names the position it means: a subscription that got past it meanwhile (a
    retry that worked) or stopped somewhere else raises NotStuckThere and nothing moves.
    """
    c = checkpoints.c
    row = conn.execute(select(c.failed_position).where(c.name == name)
                       .with_for_update()).one_or_none()
    if row is None or row.failed_position != position:
        where = ("has no checkpoint" if row is None else "is not stopped" if
                 row.failed_position is None else f"is stopped at {row.failed_position}")
        raise NotStuckThere(f"subscription {name} {where}, not at position {position}")
    event = store.read_all(position - 1, 1, conn=conn)[0]
    _set_aside(conn, name, event, note)
    save_checkpoint(conn, name, position)
    return event


def _set_aside(conn: Connection, name: str, event: StoredEvent, error: str) -> None:
    upsert(conn, parked_events, [{
        "subscription": name, "position": event.position, "event_id": event.event_id,
        "event_type": event.type, "error": error, "parked_at": datetime.now(UTC),
    }], ["subscription", "position"])


def ensure_checkpoint(store: EventStore, name: str) -> None:
    """Create the checkpoint row at position 0 unless it exists."""
    with store.engine.begin() as conn:
        _create_checkpoint(conn, name)


def _create_checkpoint(conn: Connection, name: str) -> None:
    upsert(conn, checkpoints, [{"name": name, "position": 0,
                                "updated_at": datetime.now(UTC)}], ["name"])


def _lock_or_create(conn: Connection, name: str) -> int | None:
    """`lock_checkpoint`, creating the row first for a subscription that never ran."""
    position = lock_checkpoint(conn, name)
    if position is None and conn.execute(
            select(checkpoints.c.name).where(checkpoints.c.name == name)).first() is None:
        _create_checkpoint(conn, name)
        position = lock_checkpoint(conn, name)
    return position


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
    """Move the checkpoint (in the caller's transaction) and record or clear a failure.

    A failure at the position it already failed at keeps its `failed_since`, so operators
    see how long the subscription has been stuck, not when it last tried.
    """
    c = checkpoints.c
    since = (None if failed_at is None else
             case((and_(c.failed_position == failed_at, c.failed_since.is_not(None)),
                   c.failed_since), else_=func.now()))
    conn.execute(
        update(checkpoints)
        .where(c.name == name)
        .values(position=position, updated_at=func.now(), failed_position=failed_at,
                last_error=error, failed_since=since)
    )


def checkpoint_position(store: EventStore, name: str) -> int:
    """Where a subscription stands now (0 if it never ran)."""
    with store.engine.connect() as conn:
        query = select(checkpoints.c.position).where(checkpoints.c.name == name)
        return conn.execute(query).scalar_one_or_none() or 0

