"""A partner's delivery log: its deliveries, newest event first, each with every attempt.

What the API's delivery list and the console's partner page show, read the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from campaign.infra.tables import webhook_attempts, webhook_deliveries
from events import as_utc

d = webhook_deliveries.c


@dataclass(frozen=True)
class LogPage:
    """Deliveries as the API shows them, and the cursor after the last (None at the end)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def delivery_log(
    conn: Connection, partner_id: str, limit: int, *, status: str | None = None,
    event_type: str | None = None, after: str | None = None,
) -> LogPage:
    """Up to `limit` deliveries to the partner after cursor `after` (`<position>:<id>`)."""
    statement = (select(webhook_deliveries).where(d.partner_id == partner_id)
                 .order_by(d.position.desc(), d.delivery_id.desc()).limit(limit + 1))
    if status is not None:
        statement = statement.where(d.status == status)
    if event_type is not None:
        statement = statement.where(d.type == event_type)
    if after is not None:
        position, _, delivery_id = after.partition(":")
        statement = statement.where(or_(d.position < int(position), and_(
            d.position == int(position), d.delivery_id < delivery_id)))
    rows = conn.execute(statement).all()
    last = rows[limit - 1] if len(rows) > limit else None
    cursor = f"{last.position}:{last.delivery_id}" if last is not None else None
    return LogPage(with_attempts(conn, rows[:limit]), cursor)


def one_delivery(conn: Connection, partner_id: str, delivery_id: str) -> dict[str, Any] | None:
    """One delivery to the partner with its attempts, or None."""
    rows = conn.execute(select(webhook_deliveries).where(
        d.delivery_id == delivery_id, d.partner_id == partner_id)).all()
    return with_attempts(conn, rows)[0] if rows else None


def with_attempts(conn: Connection, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Deliveries as the API shows them, with their attempts (one query for all)."""
    ids = [row.delivery_id for row in rows]
    tried: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for attempt in conn.execute(select(webhook_attempts)
                                .where(webhook_attempts.c.delivery_id.in_(ids))
                                .order_by(webhook_attempts.c.delivery_id,
                                          webhook_attempts.c.attempt)):
        tried[attempt.delivery_id].append({
            "attempt": attempt.attempt, "attempted_at": as_utc(attempt.attempted_at),
            "outcome": attempt.outcome, "status_code": attempt.status_code,
            "latency_ms": attempt.latency_ms, "error": attempt.error})
    return [{
        "delivery_id": row.delivery_id, "partner_id": row.partner_id,
        "event_id": row.event_id, "position": row.position, "type": row.type,
        "status": row.status, "failures": row.failures,
        "next_attempt_at": _maybe_utc(row.next_attempt_at),
        "last_status_code": row.last_status_code, "last_error": row.last_error,
        "created_at": as_utc(row.created_at), "updated_at": as_utc(row.updated_at),
        "attempts": tried[row.delivery_id],
    } for row in rows]


def _maybe_utc(moment: Any) -> Any:
    return None if moment is None else as_utc(moment)
