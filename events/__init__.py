"""A generic event store: append-only streams, gap-safe subscriptions, projections, upcasting.

It knows nothing of campaigns; the application registers its projections and upcasters.
"""

from events.engine import create_store_engine
from events.errors import (
    ConcurrencyError,
    DuplicateEventError,
    EventSerializationError,
    EventStoreError,
    TemporaryFailure,
    UpcastError,
)
from events.projections import Projection
from events.rebuilding import rebuild
from events.records import ANY, NO_STREAM, AppendResult, NewEvent, StoredEvent, as_utc
from events.store import EventStore
from events.subscriptions import Subscription, SubscriptionRunner, projection_subscription
from events.tailing import Tail
from events.upcasting import Upcasters

__all__ = [
    "ANY",
    "NO_STREAM",
    "AppendResult",
    "ConcurrencyError",
    "DuplicateEventError",
    "EventSerializationError",
    "EventStore",
    "EventStoreError",
    "NewEvent",
    "Projection",
    "StoredEvent",
    "Subscription",
    "SubscriptionRunner",
    "Tail",
    "TemporaryFailure",
    "UpcastError",
    "as_utc",
    "Upcasters",
    "create_store_engine",
    "projection_subscription",
    "rebuild",
]
