"""Domain events to stored events and back, sealing personal fields on the way in; replays.

A personal field is encrypted with the key of the stream it belongs to (the supporter's or
the partner's stream), so destroying that key makes every copy of the field unreadable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from campaign.domain.base import Aggregate, DomainEvent
from campaign.domain.codec import from_data, to_data
from events import EventStore, NewEvent, StoredEvent
from events.personal_data import PREFIX, Vault
from events.records import JSON


class EventMapper:
    """Translates between the pure domain and the generic store."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    def to_new_events(
        self, conn: Connection, stream_id: str, events: Sequence[DomainEvent], metadata: JSON
    ) -> list[NewEvent]:
        """Store-ready events carrying `metadata`, personal fields sealed."""
        return [
            NewEvent(type=e.type_name, data=self.seal(conn, stream_id, e), metadata=metadata,
                     schema_version=e.schema_version)
            for e in events
        ]

    def seal(self, conn: Connection, stream_id: str, event: DomainEvent) -> JSON:
        """The event's data with each personal field encrypted for its stream."""
        data = to_data(event)
        for field in event.personal_fields:
            if isinstance(data.get(field), str):
                data[field] = self.vault.seal(conn, stream_id, field, data[field])
        return data

    def to_domain(self, conn: Connection, stored: StoredEvent) -> DomainEvent:
        """The domain event; personal fields come back clear, or masked after erasure."""
        data = dict(stored.data)
        for field in personal_fields_of(stored.type):
            if isinstance(data.get(field), str):
                data[field] = reveal(self.vault, conn, stored.stream_id, field, data[field])
        return from_data(stored.type, data)


def reveal(vault: Vault, conn: Connection, stream_id: str, field: str, value: str) -> str:
    """A personal field as a reader may see it: opened if sealed (MASK once its key is gone).

    A value stored before its field was sealed (a PartnerRegistered v1 contact) is clear in
    the immutable log, and is shown as it is: nothing is gained by hiding it here.
    """
    return vault.open(conn, stream_id, field, value) if value.startswith(PREFIX) else value


def personal_fields_of(event_type: str) -> frozenset[str]:
    """Which fields of `event_type` hold personal data."""
    from campaign.domain.codec import EVENT_TYPES

    cls = EVENT_TYPES.get(event_type)
    return cls.personal_fields if cls else frozenset()


def replay(
    store: EventStore, conn: Connection, stream_id: str, aggregate: Aggregate, *,
    to_version: int | None = None, before_position: int | None = None,
    mapper: EventMapper | None = None,
) -> tuple[Any, int]:
    """The aggregate's state and version from its stream, read through the upcasters.

    `to_version` or `before_position` give the state as it stood then (a projection
    rebuilding, a planner or a partner payload running long after the fact). With a
    `mapper` personal fields come back clear (or masked after erasure); without one they
    stay sealed, which suits every reader that never looks at them.
    """
    state, version = aggregate.initial(), 0
    for stored in store.read_stream(stream_id, to_version=to_version,
                                    before_position=before_position, conn=conn):
        event = mapper.to_domain(conn, stored) if mapper else from_data(stored.type, stored.data)
        state = aggregate.evolve(state, event)
        version = stored.stream_version
    return state, version
