"""What operators see of the subscriptions: where each one stands, what it set aside."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from events.records import as_utc
from events.schema import parked_events
from events.schema import subscription_checkpoints as checkpoints


@dataclass(frozen=True)
class SubscriptionState:
    """Where one subscription stands, as operators need to see it.

    A rebuilt inline projection that parked events has no checkpoint: its position and
    `updated_at` are None.
    """

    name: str
    position: int | None
    failed_position: int | None
    last_error: str | None
    updated_at: datetime | None
    parked: int


@dataclass(frozen=True)
class ParkedEvent:
    """An event a subscription (or a rebuild) set aside, and why."""

    subscription: str
    position: int
    event_id: str
    event_type: str
    error: str
    parked_at: datetime


def subscription_states(conn: Connection) -> list[SubscriptionState]:
    """Every subscription that has run or parked an event, by name, with how many it parked."""
    counts: dict[str, int] = dict(conn.execute(
        select(parked_events.c.subscription, func.count()).group_by(parked_events.c.subscription)
    ).all())
    states = {row.name: SubscriptionState(
        row.name, row.position, row.failed_position, row.last_error, as_utc(row.updated_at),
        int(counts.get(row.name, 0))) for row in conn.execute(select(checkpoints))}
    for name, count in counts.items():
        states.setdefault(name, SubscriptionState(name, None, None, None, None, int(count)))
    return [states[name] for name in sorted(states)]


def parked(conn: Connection, name: str, after: int = 0, limit: int = 100) -> list[ParkedEvent]:
    """The events `name` parked after log position `after`, oldest first."""
    p = parked_events.c
    rows = conn.execute(select(parked_events).where(p.subscription == name, p.position > after)
                        .order_by(p.position).limit(limit))
    return [ParkedEvent(row.subscription, row.position, str(row.event_id), row.event_type,
                        row.error, as_utc(row.parked_at)) for row in rows]
