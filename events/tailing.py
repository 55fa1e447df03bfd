"""Gap-safe tailing: read the log in position order without passing an uncommitted event.

On PostgreSQL positions come from a sequence, so a transaction can commit position 7
while position 6 is still in flight. A gap below a visible position is either in flight
or rolled back. Every append takes its transaction id before it draws a position, so the
transaction behind any gap below the highest position of a read had its id before that
read. When a read stops at a gap, the tail takes a fresh transaction id (the barrier's
horizon): once a later read's snapshot shows every transaction below the horizon ended,
each gap below that first read's highest position has resolved one way or the other.

A snapshot names only the running ids below its `xmax` (the newest ended id, plus one); a
transaction that took its id after the last one that ended is running but unnamed. The
horizon, not the snapshot's list, is what says the wait is over. Nothing is ever skipped
on a timer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from events.records import StoredEvent
from events.schema import events
from events.store import EventStore


@dataclass(frozen=True)
class TailRead:
    """Events safe to deliver, and whether more committed ones wait behind an open gap."""

    events: list[StoredEvent]
    blocked: bool


@dataclass(frozen=True)
class _Barrier:
    position: int  # the highest position of the read that stopped at a gap
    horizon: int  # a transaction id taken after that read


class Tail:
    """A reader's memory of which gaps are known dead; keep one per subscription run.

    Proven dead gaps are shared by every tail of the same store (`EventStore.settled`), so
    a reader paging through old history does not wait again where another already did.
    """

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._barrier: _Barrier | None = None

    def read(self, conn: Connection, after: int, limit: int = 500) -> TailRead:
        """The next events after `after` that no in-flight transaction can precede.

        A barrier taken in `conn`'s own transaction clears only after that transaction
        ends; read each time in a transaction of its own, as subscriptions and feeds do.
        """
        backend = self.store.backend
        rows, snapshot = backend.read_tail(conn, after, limit)
        if not rows:
            return TailRead([], blocked=False)
        if snapshot is None:
            self.store.settle(rows[-1].position)
        elif self._barrier and snapshot.all_finished_below(self._barrier.horizon):
            self.store.settle(self._barrier.position)
            self._barrier = None
        safe: list[StoredEvent] = []
        expected = after + 1
        for row in rows:
            if row.position != expected and row.position - 1 > self.store.settled:
                if self._barrier is None:
                    self._barrier = _Barrier(rows[-1].position, backend.horizon(conn))
                return TailRead(safe, blocked=True)
            safe.append(self.store.to_record(row))
            expected = row.position + 1
        return TailRead(safe, blocked=False)


def settled_head(store: EventStore, poll: float = 0.01) -> int:
    """The log's head once no event at or below it can still appear.

    Without a gap below the head there is nothing to wait for. Otherwise: a transaction
    that drew a position below the head took its id before the head was drawn, so before
    the horizon taken after reading the head; once every transaction below the horizon
    has ended, each gap below the head is filled or dead for good, and the log up to the
    head holds all it ever will (where a rebuild ends). Call it outside any transaction of
    your own, which would be waited for; it reads on a connection of its own, whose
    transaction ids end at once.
    """
    backend = store.backend
    with store.engine.connect() as own:
        if backend.commits_in_position_order:
            return store.head(conn=own)
        own = own.execution_options(isolation_level="AUTOCOMMIT")
        head = store.head(conn=own)
        settled = store.settled
        present = own.execute(select(func.count()).select_from(events)
                              .where(events.c.position > settled,
                                     events.c.position <= head)).scalar_one()
        if present < head - settled:
            horizon = backend.horizon(own)
            while not (seen := backend.snapshot(own)) or not seen.all_finished_below(horizon):
                time.sleep(poll)
    store.settle(head)
    return head


def read_settled(
    store: EventStore, after: int, limit: int = 500, *, patience: float = 0.25,
    poll: float = 0.01,
) -> TailRead:
    """The next events after `after` that no in-flight transaction can precede, statelessly.

    For readers that keep no `Tail` between calls, such as a client paging an HTTP feed
    with a cursor: each call starts from scratch, reading on fresh connections. When the
    first read stops at a gap and delivers nothing, it waits up to `patience` seconds
    (checking every `poll`) for the transactions that were in flight at that read to
    finish, so a rolled-back position does not hold the reader up; a gap still open then
    is never skipped, the call just returns what precedes it with `blocked` set.
    """
    tail = Tail(store)
    deadline = time.monotonic() + patience
    while True:
        with store.engine.connect() as conn:
            read = tail.read(conn, after, limit)
        if read.events or not read.blocked or time.monotonic() >= deadline:
            return read
        time.sleep(poll)
