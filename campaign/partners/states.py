"""Aggregates as they stood at an event, without replaying their streams.

A partner payload describes its case or action *as of the event*. Replaying the stream
for each event costs more with every event the stream gains. The outbox and the feed read
the log forward, so the state one event needs is the state the previous one needed plus
the few events in between: `StreamStates` remembers, per stream, the last state it folded
and its version, reads only the events after it, and folds them on with the aggregate's
own `evolve`, so the result is exactly what a replay gives. A reader starting before every
state remembered (a partner's feed catching up from a month back) reads the stream once up
to where it starts, and then moves a cursor of its own forward. Events are immutable, so a
remembered state never goes stale.

The memory is per process and per store (`states_of`), bounded, and safe across threads.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection

from campaign.domain.base import Aggregate, DomainEvent
from campaign.domain.codec import from_data
from events import EventStore, StoredEvent

STREAMS: Final = 20_000
"""Streams remembered per aggregate type at most (the least recently used go first)."""
CURSORS: Final = 4
"""Folded states kept per stream at most (the oldest go first)."""


@dataclass(frozen=True)
class _Folded:
    version: int
    position: int
    state: Any


class StreamStates:
    """States of one aggregate type's streams, as of a version or a log position.

    A stream keeps up to CURSORS folded states: the outbox near the head and a partner
    catching up from the feed a month back each move their own forward.
    """

    def __init__(self, store: EventStore, aggregate: Aggregate, limit: int = STREAMS) -> None:
        self.store = store
        self.aggregate = aggregate
        self.limit = limit
        self._folded: OrderedDict[str, list[_Folded]] = OrderedDict()
        self._guard = threading.Lock()

    def offer(self, stored: StoredEvent) -> None:
        """Fold `stored` on if it is the next event of a state remembered (or the stream's
        first): a reader going forward through the log then reads nothing from the stream."""
        start = self._start(stored.stream_id,
                            lambda f: f.version == stored.stream_version - 1)
        if start.version == stored.stream_version - 1:
            self._remember(stored.stream_id, start, self._fold(start, [stored]))

    def at_version(self, conn: Connection, stream_id: str, version: int, peek: int = 0
                   ) -> tuple[Any, list[DomainEvent]]:
        """The state after event `version`, and up to `peek` events that follow it."""
        start = self._start(stream_id, lambda f: f.version <= version)
        read = [] if start.version == version and not peek else self.store.read_stream(
            stream_id, start.version + 1, to_version=version + peek, conn=conn)
        upto = [s for s in read if s.stream_version <= version]
        folded = self._fold(start, upto)
        self._remember(stream_id, start, folded)
        return folded.state, [from_data(s.type, s.data) for s in read[len(upto):]]

    def before_position(self, conn: Connection, stream_id: str, position: int) -> Any:
        """The state from the stream's events the log held before `position`."""
        start = self._start(stream_id, lambda f: f.position < position)
        read = self.store.read_stream(stream_id, start.version + 1,
                                      before_position=position, conn=conn)
        folded = self._fold(start, read)
        self._remember(stream_id, start, folded)
        return folded.state

    def _fold(self, start: _Folded, read: list[StoredEvent]) -> _Folded:
        if not read:
            return start
        state = start.state
        for stored in read:
            state = self.aggregate.evolve(state, from_data(stored.type, stored.data))
        return _Folded(read[-1].stream_version, read[-1].position, state)

    def _start(self, stream_id: str, fits: Callable[[_Folded], bool]) -> _Folded:
        """The furthest remembered state that `fits`, or the stream's initial state."""
        with self._guard:
            cursors = self._folded.get(stream_id, [])
            fitting = [f for f in cursors if fits(f)]
            if cursors:
                self._folded.move_to_end(stream_id)
        if not fitting:
            return _Folded(0, 0, self.aggregate.initial())
        return max(fitting, key=lambda f: f.version)

    def _remember(self, stream_id: str, start: _Folded, folded: _Folded) -> None:
        """Move the cursor `start` on to `folded` (a new cursor when it started afresh)."""
        if folded is start:
            return
        with self._guard:
            cursors = [f for f in self._folded.get(stream_id, [])
                       if f is not start and f.version != folded.version]
            cursors.append(folded)
            cursors.sort(key=lambda f: f.version)
            self._folded[stream_id] = cursors[-CURSORS:]
            self._folded.move_to_end(stream_id)
            while len(self._folded) > self.limit:
                self._folded.popitem(last=False)


_BY_STORE: weakref.WeakKeyDictionary[EventStore, dict[int, StreamStates]] = \
    weakref.WeakKeyDictionary()
_BY_STORE_GUARD = threading.Lock()


def states_of(store: EventStore, aggregate: Aggregate) -> StreamStates:
    """The process's memory of `aggregate`'s streams in `store`."""
    with _BY_STORE_GUARD:
        per_store = _BY_STORE.setdefault(store, {})
        found = per_store.get(id(aggregate))
        if found is None:
            found = per_store[id(aggregate)] = StreamStates(store, aggregate)
        return found
