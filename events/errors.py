"""Errors raised by the event store, translated once from database errors."""

from __future__ import annotations


class EventStoreError(Exception):
    """Base class for every error the event store raises."""


class ConcurrencyError(EventStoreError):
    """Raised when a stream's version is not the one the append expected."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, append expected {expected}"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class EventSerializationError(EventStoreError, ValueError):
    """Raised when an event's data or metadata cannot be stored as JSON."""


class DuplicateEventError(EventStoreError):
    """Raised when some, but not all, event ids of a batch are already stored elsewhere."""


class UpcastError(EventStoreError):
    """Raised when a stored event's schema version has no path to the current one."""


class TemporaryFailure(Exception):
    """Raised by a subscription's handler when something it needs is down for now (a broker,
    a provider): the subscription stops at the event and tries it again on its next run,
    instead of parking it as an event no retry can fix."""
