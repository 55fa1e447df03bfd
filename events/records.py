"""The shapes of events going into and coming out of the store."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

JSON = dict[str, Any]

ANY: Final = -1
"""Expected version meaning: append whatever the stream's current version is."""

NO_STREAM: Final = 0
"""Expected version meaning: the stream must not exist yet."""


EVENT_FIELDS: Final = frozenset({
    "event_id", "stream_version", "schema_version", "data", "metadata", "recorded_at"})
"""The parts of a stored event a reader of pages may ask for, besides position, stream, type."""


@dataclass(frozen=True)
class NewEvent:
    """An event about to be appended; `event_id` makes retries of the same append safe."""

    type: str
    data: JSON
    metadata: JSON = field(default_factory=dict)
    schema_version: int = 1
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class StoredEvent:
    """An event as recorded: its place in the global log and in its stream."""

    position: int
    event_id: uuid.UUID
    stream_id: str
    stream_version: int
    type: str
    schema_version: int
    data: JSON
    metadata: JSON
    recorded_at: datetime

    @property
    def category(self) -> str:
        """The stream's kind: `case` for `case-42`."""
        return stream_category(self.stream_id)


@dataclass(frozen=True)
class AppendResult:
    """Where an append landed: the positions of its events and the stream's new version."""

    positions: list[int]
    stream_version: int


def stream_category(stream_id: str) -> str:
    """The part of a stream id before the first dash."""
    return stream_id.split("-", 1)[0]


def as_utc(moment: datetime) -> datetime:
    """A stored instant as aware UTC: SQLite hands timestamps back naive (stored as UTC)."""
    if moment.tzinfo is UTC:
        return moment
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
