"""What operators see of the subscriptions: where each one stands, what it set aside."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select

from events.records import as_utc
from events.schema import events, parked_events
from events.schema import subscription_checkpoints as checkpoints


@dataclass(frozen=True)
class SubscriptionState:
    """Where one subscription stands, as operators need to see it.

    A rebuilt inline projection that parked events has no checkpoint: its position,
    `updated_at` and lags are None.
    """

    name: str
    position: int | None
    failed_position: int | None
    last_error: str | None
    updated_at: datetime | None
    parked: int
    stuck_since: datetime | None = None
    """When it first failed at `failed_position`; None while it runs."""
    lag_events: int | None = None
    """The head of the log minus its checkpoint (events of every type)."""
    lag_seconds: float | None = None
    """The age of the oldest event it has not handled yet; 0 when caught up."""

    @property
    def stuck(self) -> bool:
        """Whether it stopped at a failed position and is waiting for a retry."""
        return self.failed_position is not None


@dataclass(frozen=True)
class ParkedEvent:
    """An event a subscription (or a rebuild) set aside, and why."""

    subscription: str
    position: int
    event_id: str
    event_type: str
    error: str
    parked_at: datetime


def subscription_states(
    conn: Connection, now: datetime | None = None, expected: Iterable[str] = (),
) -> list[SubscriptionState]:
    """Every subscription that has run or parked an event, and each `expected` one, by name,
    with how many it parked and how far behind the head of the log it is (one indexed
    lookup per subscription). An expected subscription that never ran stands at position
    None, behind by the whole log: no worker ever took it, which is an outage too."""
    now = now or datetime.now(UTC)
    head = int(conn.execute(select(func.coalesce(func.max(events.c.position), 0))).scalar_one())
    counts: dict[str, int] = dict(conn.execute(
        select(parked_events.c.subscription, func.count()).group_by(parked_events.c.subscription)
    ).all())
    states = {row.name: SubscriptionState(
        row.name, row.position, row.failed_position, row.last_error, as_utc(row.updated_at),
        int(counts.get(row.name, 0)), stuck_since=_optional_utc(row.failed_since),
        lag_events=max(head - row.position, 0),
        lag_seconds=_oldest_unhandled_age(conn, row.position, head, now),
    ) for row in conn.execute(select(checkpoints))}
    for name in expected:
        states.setdefault(name, SubscriptionState(
            name, None, None, None, None, int(counts.get(name, 0)), lag_events=head,
            lag_seconds=_oldest_unhandled_age(conn, 0, head, now)))
    for name, count in counts.items():
        states.setdefault(name, SubscriptionState(name, None, None, None, None, int(count)))
    return [states[name] for name in sorted(states)]


def stuck_subscriptions(conn: Connection) -> list[SubscriptionState]:
    """Only the stuck subscriptions, by name, without lags or parked counts: one query on
    the checkpoints, cheap enough for a readiness probe."""
    c = checkpoints.c
    rows = conn.execute(select(checkpoints).where(c.failed_position.is_not(None))
                        .order_by(c.name))
    return [SubscriptionState(row.name, row.position, row.failed_position, row.last_error,
                              as_utc(row.updated_at), 0,
                              stuck_since=_optional_utc(row.failed_since)) for row in rows]


def _oldest_unhandled_age(conn: Connection, position: int, head: int, now: datetime) -> float:
    """Seconds since the first event after `position` was recorded; 0 when there is none."""
    if position >= head:
        return 0.0
    recorded = conn.execute(
        select(events.c.recorded_at).where(events.c.position > position)
        .order_by(events.c.position).limit(1)).scalar_one_or_none()
    return 0.0 if recorded is None else max((now - as_utc(recorded)).total_seconds(), 0.0)


def _optional_utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def parked(conn: Connection, name: str, after: int = 0, limit: int = 100) -> list[ParkedEvent]:
    """The events `name` parked after log position `after`, oldest first."""
    p = parked_events.c
    rows = conn.execute(select(parked_events).where(p.subscription == name, p.position > after)
                        .order_by(p.position).limit(limit))
    return [ParkedEvent(row.subscription, row.position, str(row.event_id), row.event_type,
                        row.error, as_utc(row.parked_at)) for row in rows]
