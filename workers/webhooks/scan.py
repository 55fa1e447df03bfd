"""The clock's webhook scan: queue the deliveries whose time has come.

Retries wait in the database (`next_attempt_at`), not in Redis, so a 10-hour wait costs a
row, not a parked message, and survives a Redis flush. Every tick the scan reads the
pending rows whose `wake_at` passed — retries now due, redeliveries and replays, and
deliveries whose queue message was lost — from one index range, so its cost follows
what is due, and queues one message per partner. Two clocks may scan at once: on
PostgreSQL the rows are locked with SKIP LOCKED, and a message twice is harmless anyway
(an attempt leases its row first).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

from sqlalchemy import or_, select, update

from campaign.partners.deliveries import PENDING, REQUEUE_AFTER, utc
from campaign.tables import webhook_deliveries, webhook_endpoints
from events import EventStore

LIMIT: Final = 1000


def wake_due(store: EventStore, send: Callable[[str], object], now: datetime,
             limit: int = LIMIT) -> int:
    """Queue one message per partner with deliveries due by `now`; how many partners."""
    at = utc(now)
    d, e = webhook_deliveries.c, webhook_endpoints.c
    query = (
        select(d.delivery_id, d.partner_id)
        .select_from(webhook_deliveries.outerjoin(webhook_endpoints,
                                                  e.partner_id == d.partner_id))
        .where(d.status == PENDING, d.wake_at <= at, d.next_attempt_at <= at,
               or_(d.lease_until.is_(None), d.lease_until < at),
               or_(e.paused_until.is_(None), e.paused_until <= at))
        .order_by(d.wake_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=webhook_deliveries)
    )
    first: dict[str, str] = {}
    with store.engine.begin() as conn:
        rows = conn.execute(query).all()
        if not rows:
            return 0
        conn.execute(update(webhook_deliveries)
                     .where(d.delivery_id.in_([r.delivery_id for r in rows]))
                     .values(wake_at=at + REQUEUE_AFTER))
        for row in rows:
            first.setdefault(row.partner_id, row.delivery_id)
    for delivery_id in first.values():
        send(delivery_id)
    return len(first)
