"""Aggregates as they stood at an event, without replaying their streams.

A partner payload describes its case or action *as of the event*. Replaying the stream
for each event costs more with every event the stream gains. The outbox and the feed read
the log forward, so the state one event needs is the state the previous one needed plus
the few events in between: `StreamStates` remembers, per stream, the last state it folded
and its version, reads only the events after it, and folds them on with the aggregate's
own `evolve`, so the result is exactly what a replay gives. Only a request for a state
older than the remembered one (a feed reading far back) replays, and leaves the memory as
it was. Events are immutable, so a remembered state never goes stale.

The memory is per process and per store (`states_of`), bounded, and safe across threads.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection

from campaign.domain.base import Aggregate, DomainEvent
from campaign.domain.codec import from_data
from events import EventStore, StoredEvent

STREAMS: Final = 20_000
"""Streams remembered per aggregate type at most (the least recently used go first)."""


@dataclass(frozen=True)
class _Folded:
    version: int
    position: int
    state: Any


class StreamStates:
    """States of one aggregate type's streams, as of a version or a log position."""

    def __init__(self, store: EventStore, aggregate: Aggregate, limit: int = STREAMS) -> None:
        self.store = store
        self.aggregate = aggregate
        self.limit = limit
        self._folded: OrderedDict[str, _Folded] = OrderedDict()
        self._guard = threading.Lock()

    def offer(self, stored: StoredEvent) -> None:
        """Fold `stored` on if it is the next event of a stream remembered (or its first):
        a reader going forward through the log then reads nothing from the stream."""
        known = self._known(stored.stream_id)
        if stored.stream_version == known.version + 1:
            self._remember(stored.stream_id, self._fold(known, [stored]))

    def at_version(self, conn: Connection, stream_id: str, version: int, peek: int = 0
                   ) -> tuple[Any, list[DomainEvent]]:
        """The state after event `version`, and up to `peek` events that follow it."""
        known = self._known(stream_id)
        if known.version > version:
            known = _Folded(0, 0, self.aggregate.initial())  # older than remembered
            remember = False
        else:
            remember = True
        read = [] if known.version == version and not peek else self.store.read_stream(
            stream_id, known.version + 1, to_version=version + peek, conn=conn)
        upto = [s for s in read if s.stream_version <= version]
        folded = self._fold(known, upto)
        if remember:
            self._remember(stream_id, folded)
        return folded.state, [from_data(s.type, s.data) for s in read[len(upto):]]

    def before_position(self, conn: Connection, stream_id: str, position: int) -> Any:
        """The state from the stream's events the log held before `position`."""
        known = self._known(stream_id)
        remember = known.position < position
        if not remember:
            known = _Folded(0, 0, self.aggregate.initial())
        read = self.store.read_stream(stream_id, known.version + 1,
                                      before_position=position, conn=conn)
        folded = self._fold(known, read)
        if remember:
            self._remember(stream_id, folded)
        return folded.state

    def _fold(self, known: _Folded, read: list[StoredEvent]) -> _Folded:
        if not read:
            return known
        state = known.state
        for stored in read:
            state = self.aggregate.evolve(state, from_data(stored.type, stored.data))
        return _Folded(read[-1].stream_version, read[-1].position, state)

    def _known(self, stream_id: str) -> _Folded:
        with self._guard:
            known = self._folded.get(stream_id)
            if known is None:
                return _Folded(0, 0, self.aggregate.initial())
            self._folded.move_to_end(stream_id)
            return known

    def _remember(self, stream_id: str, folded: _Folded) -> None:
        with self._guard:
            current = self._folded.get(stream_id)
            if current is not None and current.version >= folded.version:
                return  # another thread got further
            self._folded[stream_id] = folded
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
