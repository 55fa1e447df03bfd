"""The catch-up feed: a partner pages through the events it follows, in global log order.

The cursor is the global position of the last event examined, so a partner that was down
for a day resumes exactly where it stopped. Pages are read through the store's gap-safe
tail: on PostgreSQL a later position can commit before an earlier one, and a cursor
handed out past an event still in flight would lose that event for good. The feed never
does that; at worst a page ends early and says more is coming.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection, Engine

from campaign.partners.payloads import PARTNER_TYPES, PartnerEvent, partner_event, remember
from campaign.partners.registry import PartnerRecord, follows
from events import EventStore, StoredEvent
from events.subscriptions import describe
from events.tailing import read_settled

log = logging.getLogger(__name__)

BATCH: Final = 500
SCAN_LIMIT: Final = 5_000
"""Events examined per page at most, so a partner following little still gets quick answers."""


@dataclass(frozen=True)
class FeedPage:
    """Events for the partner, the cursor to continue from, and whether more may follow."""

    events: list[PartnerEvent]
    next_position: int
    has_more: bool


def read_feed(
    store: EventStore, engine: Engine, partner: PartnerRecord, after: int, limit: int,
) -> FeedPage:
    """Up to `limit` events `partner` follows after position `after`, never past a gap."""
    found: list[PartnerEvent] = []
    position, scanned = after, 0
    while scanned < SCAN_LIMIT:
        read = read_settled(store, position, BATCH)
        # A short connection per batch: on SQLite an open transaction would hold the lock
        # the next read needs.
        with engine.connect() as conn:
            for stored in read.events:
                position = stored.position
                event = _partner_form(store, conn, stored)
                if event is not None and follows(partner, event):
                    found.append(event)
                    if len(found) == limit:
                        return FeedPage(found, position, has_more=True)
        scanned += len(read.events)
        if read.blocked or len(read.events) < BATCH:
            return FeedPage(found, position, has_more=read.blocked)
    return FeedPage(found, position, has_more=True)


def _partner_form(store: EventStore, conn: Connection, stored: StoredEvent) -> PartnerEvent | None:
    """The event as partners see it; None for one they never see, or one its builder cannot
    handle: the outbox parks that one where operators see it, and the feed goes on."""
    if stored.type not in PARTNER_TYPES:
        remember(store, stored)  # a case's or action's event: the payloads after it need it
        return None
    try:
        with conn.begin_nested():
            return partner_event(store, conn, stored)
    except Exception as exc:  # noqa: BLE001 - one bad event must not stop every partner's feed
        log.error("feed skipped the event at position %s (event %s, %s): %s", stored.position,
                  stored.event_id, stored.type, describe(exc))
        return None
