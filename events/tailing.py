"""Gap-safe tailing: read the log in position order without passing an uncommitted event.

On PostgreSQL positions come from a sequence, so a transaction can commit position 7
while position 6 is still in flight. A gap below a visible position is either in flight
or rolled back. Every append takes its transaction id before it draws a position, so the
transaction behind any such gap was, at the instant of the read, either finished (then the
gap is dead: rolled back) or listed in that snapshot's in-flight set. Once every
transaction of that set has finished, each gap below the read's highest position has
resolved one way or the other. Nothing is ever skipped on a timer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection

from events.records import StoredEvent
from events.store import EventStore


@dataclass(frozen=True)
class TailRead:
    """Events safe to deliver, and whether more committed ones wait behind an open gap."""

    events: list[StoredEvent]
    blocked: bool


@dataclass(frozen=True)
class _Barrier:
    position: int
    in_flight: frozenset[int]


class Tail:
    """A reader's memory of which gaps are known dead; keep one per subscription run."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._dead_below = 0  # every missing position <= this is rolled back for good
        self._barrier: _Barrier | None = None

    def read(self, conn: Connection, after: int, limit: int = 500) -> TailRead:
        """The next events after `after` that no in-flight transaction can precede."""
        rows, in_flight = self.store.backend.read_tail(conn, after, limit)
        if not rows:
            return TailRead([], blocked=False)
        if not in_flight or self.store.backend.commits_in_position_order:
            self._dead_below = max(self._dead_below, rows[-1].position)
        elif self._barrier and not (self._barrier.in_flight & in_flight):
            self._dead_below = max(self._dead_below, self._barrier.position)
            self._barrier = None
        safe: list[StoredEvent] = []
        expected = after + 1
        for row in rows:
            if row.position != expected and row.position - 1 > self._dead_below:
                if self._barrier is None:
                    self._barrier = _Barrier(rows[-1].position, in_flight)
                return TailRead(safe, blocked=True)
            safe.append(self.store.to_record(row))
            expected = row.position + 1
        return TailRead(safe, blocked=False)


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
