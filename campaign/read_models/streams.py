"""Replaying one stream inside a projection, for read models that mirror aggregate state."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection

from campaign.domain.base import DomainEvent
from campaign.domain.codec import from_data
from events import EventStore, StoredEvent


def latest_per_stream(events: Sequence[StoredEvent]) -> dict[str, StoredEvent]:
    """The last event of each stream in a batch (position order kept)."""
    latest: dict[str, StoredEvent] = {}
    for event in events:
        latest[event.stream_id] = event
    return latest


def replay_until(
    store: EventStore,
    conn: Connection,
    last: StoredEvent,
    initial: Callable[[], Any],
    evolve: Callable[[Any, DomainEvent], Any],
) -> Any:
    """The aggregate's state as of `last`: exact during a rebuild, not only at the end.

    Only for streams without personal fields (actions, cases, pledges).
    """
    state = initial()
    for stored in store.read_stream(last.stream_id, conn=conn):
        if stored.stream_version > last.stream_version:
            break
        state = evolve(state, from_data(stored.type, stored.data))
    return state
