"""Webhook deliveries as rows: one per (partner-visible event, partner), the outbox's output.

The log decides *what* is sent (the `webhook_outbox` subscription writes these rows in the
transaction that moves its checkpoint); the rows decide *when*: `next_attempt_at` is the
earliest next attempt, `wake_at` is when the clock's scan should queue a message for the
row (again), and `lease_until` marks an attempt under way. Long waits (minutes to hours
between retries) are therefore rows waiting in the database, not messages parked in Redis.

A delivery's id is the `webhook-id` header and is fixed by (event, partner): retries,
redeliveries and replays all send the same id, so a partner that dedupes on it processes
each event once.

Retries wait in the database, not in Redis, so a 10-hour wait costs a row, not a parked
message, and survives a Redis flush. Every tick the clock's scan (`wake_due`) reads the
pending rows whose `wake_at` passed from one index range, so its cost follows what is
due, and queues one message per partner. Two clocks may scan at once: on PostgreSQL the
rows are locked with SKIP LOCKED, and a message twice is harmless anyway (an attempt
leases its row first).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Connection, and_, or_, select, update

from campaign.domain.partner import PartnerEndpointDisabled, PartnerEndpointEnabled
from campaign.infra.tables import webhook_deliveries, webhook_endpoints, webhook_messages
from campaign.partners.payloads import PartnerEvent, body
from campaign.partners.registry import PartnerRecord, follows
from events import EventStore, StoredEvent, Subscription, as_utc
from events.sql import upsert

NAMESPACE: Final = uuid.UUID("2f5d7f0e-6a61-4c8e-9b1a-55e1b0c0d510")
PENDING: Final = "pending"
SUCCEEDED: Final = "succeeded"
FAILED: Final = "failed"
CANCELLED: Final = "cancelled"
STATUSES: Final = (PENDING, SUCCEEDED, FAILED, CANCELLED)
REQUEUE_AFTER: Final = timedelta(seconds=60)
"""A queued delivery that no worker has taken by then is queued again (a message was lost)."""
LEASE: Final = timedelta(seconds=60)
"""How long an attempt may take before another worker may try the delivery (timeout 15 s)."""
REPLAY_BATCH: Final = 500
SCAN_LIMIT: Final = 1000
"""Deliveries the clock's scan queues at most per tick."""


def delivery_id_for(event_id: str, partner_id: str) -> str:
    """The `webhook-id` of an event for a partner: the same on every attempt and replay."""
    return "msg_" + uuid.uuid5(NAMESPACE, f"{event_id}:{partner_id}").hex


def utc(moment: datetime) -> datetime:
    """Instants are written in UTC: SQLite compares the stored wall times as text."""
    return as_utc(moment)


def record_messages(conn: Connection, events: Sequence[PartnerEvent]) -> None:
    """Keep the events' partner forms (a body is signed as is on every attempt, and every
    partner and replay of the event sends that same body)."""
    upsert(conn, webhook_messages, [{
        "event_id": event.event_id, "position": event.position, "type": event.type,
        "occurred_at": utc(event.timestamp), "case_id": event.case_id,
        "action_id": event.action_id, "country": event.country,
        "body": body(event).decode(),
    } for event in events], ["event_id"])


def message_event(row: Any) -> PartnerEvent:
    """A stored message as the PartnerEvent it was made from (for `follows`)."""
    return PartnerEvent(row.event_id, row.position, row.type, as_utc(row.occurred_at),
                        json.loads(row.body)["data"], row.case_id, row.action_id, row.country)


def add_deliveries(
    conn: Connection, events: Sequence[PartnerEvent], partners: Sequence[PartnerRecord],
    now: datetime,
) -> list[tuple[str, str]]:
    """A pending delivery for each partner following each event; (partner id, delivery id)
    pairs, in the events' order.

    Rows that exist already are left as they are, so reading an event twice adds nothing.
    """
    enabled = [p for p in partners if p.endpoint_enabled]
    rows, pairs = [], []
    for event in events:
        for partner in enabled:
            if follows(partner, event):
                delivery_id = delivery_id_for(event.event_id, partner.partner_id)
                pairs.append((partner.partner_id, delivery_id))
                rows.append(_new_row(delivery_id, partner.partner_id, event, now, queued=True))
    upsert(conn, webhook_deliveries, rows, ["delivery_id"])
    return pairs


def _new_row(delivery_id: str, partner_id: str, event: PartnerEvent, now: datetime,
             queued: bool) -> dict[str, Any]:
    at = utc(now)
    return {
        "delivery_id": delivery_id, "partner_id": partner_id, "event_id": event.event_id,
        "position": event.position, "type": event.type, "status": PENDING, "failures": 0,
        "attempts": 0,
        "next_attempt_at": at, "wake_at": at + REQUEUE_AFTER if queued else at,
        "lease_until": None, "created_at": at, "updated_at": at,
    }


def rearm(conn: Connection, delivery_ids: Sequence[str], now: datetime) -> int:
    """Send these deliveries again from the first attempt of the schedule; how many.

    An attempt under way is left to finish (it sends the same thing).
    """
    if not delivery_ids:
        return 0
    at = utc(now)
    d = webhook_deliveries.c
    result = conn.execute(
        update(webhook_deliveries)
        .where(d.delivery_id.in_(list(delivery_ids)),
               or_(d.status != PENDING, d.lease_until.is_(None), d.lease_until < at))
        .values(status=PENDING, failures=0, next_attempt_at=at, wake_at=at, lease_until=None,
                updated_at=at)
    )
    return int(result.rowcount)


@dataclass(frozen=True)
class Replay:
    """What a replay re-armed or created: the messages from `from_position` to `through`."""

    from_position: int | None
    through_position: int | None
    deliveries: int


def replay(
    conn: Connection, partner: PartnerRecord, since: int | datetime, now: datetime,
    until: int | datetime | None = None,
) -> Replay:
    """Send the partner everything it follows from position `since` (or that instant) on,
    up to position `until` (included) or before that instant, when given.

    Existing deliveries are re-armed with their ids; events it follows now but was not sent
    (it followed other things then, or was disabled) get new deliveries. Only events the
    outbox has already turned into messages are covered: later ones are being sent anyway.
    """
    m = webhook_messages.c
    start = m.position >= since if isinstance(since, int) else m.occurred_at >= utc(since)
    if until is not None:
        start = and_(start, m.position <= until if isinstance(until, int)
                     else m.occurred_at < utc(until))
    first = last = None
    count = 0
    after = -1
    while True:
        rows = conn.execute(select(webhook_messages).where(start, m.position > after)
                            .order_by(m.position).limit(REPLAY_BATCH)).all()
        if not rows:
            return Replay(first, last, count)
        first = rows[0].position if first is None else first
        last, after = rows[-1].position, rows[-1].position
        events = [e for e in map(message_event, rows) if follows(partner, e)]
        ids = [delivery_id_for(e.event_id, partner.partner_id) for e in events]
        upsert(conn, webhook_deliveries, [
            _new_row(i, partner.partner_id, e, now, queued=False)
            for i, e in zip(ids, events, strict=True)], ["delivery_id"])
        rearm(conn, ids, now)
        count += len(ids)


def cancel_pending(conn: Connection, partner_id: str, now: datetime, reason: str) -> int:
    """Stop every pending delivery of a partner whose endpoint was disabled; how many."""
    at = utc(now)
    d = webhook_deliveries.c
    result = conn.execute(
        update(webhook_deliveries)
        .where(d.partner_id == partner_id, d.status == PENDING)
        .values(status=CANCELLED, wake_at=None, next_attempt_at=None, lease_until=None,
                last_error=reason, updated_at=at))
    return int(result.rowcount)


def endpoint_switches() -> Subscription:
    """Follow a partner's endpoint being switched: disabling stops what is pending, and
    enabling starts its health afresh (five days of failures count from then)."""

    def react(conn: Connection, batch: Sequence[StoredEvent]) -> None:
        for stored in batch:
            partner_id = stored.data["partner_id"]
            if stored.type == PartnerEndpointDisabled.type_name:
                cancel_pending(conn, partner_id, stored.recorded_at,
                               f"endpoint disabled ({stored.data['reason']})")
            else:
                conn.execute(update(webhook_endpoints)
                             .where(webhook_endpoints.c.partner_id == partner_id)
                             .values(failing_since=None, paused_until=None))

    return Subscription("webhook_endpoints", react, frozenset({
        PartnerEndpointDisabled.type_name, PartnerEndpointEnabled.type_name}))


# The clock's scan: retries now due, redeliveries, replays, and lost messages


def wake_due(store: EventStore, send: Callable[[str], object], now: datetime,
             limit: int = SCAN_LIMIT) -> int:
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
