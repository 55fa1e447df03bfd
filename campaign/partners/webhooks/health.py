"""How webhook delivery to each partner is doing: what the console's partner list and the
health API show, from one function so the two never disagree.

Every number comes from an index range: the last day of attempts from
`(partner_id, attempted_at)`, the backlog from `(partner_id, status, …)`, the endpoint's row
and the current secret by key. Nothing here scans the whole of a table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Connection, and_, case, func, select

from campaign.infra.tables import (
    partner_secrets,
    partners,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
    webhook_messages,
)
from campaign.partners.webhooks.deliveries import FAILED, PENDING, utc
from events import as_utc

WINDOW: Final = timedelta(hours=24)
HOURS: Final = 24
a, d = webhook_attempts.c, webhook_deliveries.c


@dataclass(frozen=True)
class Hour:
    """Attempts in one hour of the last day, and how many of them failed."""

    start: datetime
    attempts: int
    failures: int


@dataclass(frozen=True)
class PartnerHealth:
    """One partner's delivery health at `now`; rates and latency over the last 24 hours."""

    partner_id: str
    name: str
    endpoint_enabled: bool
    disabled_reason: str | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_failure_status: int | None
    failing_since: datetime | None
    paused_until: datetime | None
    attempts: int
    succeeded: int
    p95_latency_ms: int | None
    hours: tuple[Hour, ...]
    backlog: int
    oldest_undelivered_at: datetime | None
    failed_deliveries: int
    secret_created_at: datetime | None
    now: datetime

    @property
    def success_rate(self) -> float | None:
        """Succeeded attempts out of all, over the last day; None when there were none."""
        return self.succeeded / self.attempts if self.attempts else None

    @property
    def hours_with_failures(self) -> list[int]:
        """Which of `hours` (by index) had a failed attempt: the sparkline marks them red."""
        return [index for index, hour in enumerate(self.hours) if hour.failures]

    @property
    def oldest_undelivered_age(self) -> timedelta | None:
        """How long the oldest event still waiting for delivery has waited."""
        return None if self.oldest_undelivered_at is None else self.now - \
            self.oldest_undelivered_at

    @property
    def secret_age(self) -> timedelta | None:
        """How long the current signing secret has been in use."""
        return None if self.secret_created_at is None else self.now - self.secret_created_at


def every_partner_health(conn: Connection, now: datetime) -> list[PartnerHealth]:
    """The health of every partner, by name."""
    rows = conn.execute(select(partners).order_by(partners.c.name, partners.c.partner_id))
    return [_health(conn, row, now) for row in rows]


def partner_health(conn: Connection, partner_id: str, now: datetime) -> PartnerHealth | None:
    """The partner's health, or None for no such partner."""
    row = conn.execute(select(partners).where(partners.c.partner_id == partner_id)
                       ).one_or_none()
    return None if row is None else _health(conn, row, now)


def _health(conn: Connection, partner: Any, now: datetime) -> PartnerHealth:
    now = utc(now)
    partner_id = partner.partner_id
    endpoint = conn.execute(select(webhook_endpoints).where(
        webhook_endpoints.c.partner_id == partner_id)).one_or_none()
    attempts, succeeded, hours = _last_day(conn, partner_id, now)
    backlog, failed, oldest = _backlog(conn, partner_id)
    return PartnerHealth(
        partner_id=partner_id, name=partner.name, endpoint_enabled=partner.endpoint_enabled,
        disabled_reason=partner.disabled_reason,
        last_success_at=_instant(endpoint, "last_success_at"),
        last_failure_at=_instant(endpoint, "last_failure_at"),
        last_failure_status=None if endpoint is None else endpoint.last_failure_status,
        failing_since=_instant(endpoint, "failing_since"),
        paused_until=_instant(endpoint, "paused_until"),
        attempts=attempts, succeeded=succeeded,
        p95_latency_ms=_p95_latency(conn, partner_id, now, attempts), hours=hours,
        backlog=backlog, oldest_undelivered_at=oldest, failed_deliveries=failed,
        secret_created_at=_secret_created_at(conn, partner_id), now=now)


def _instant(row: Any, column: str) -> datetime | None:
    value = None if row is None else getattr(row, column)
    return None if value is None else as_utc(value)


def _in_window(partner_id: str, now: datetime) -> Any:
    return and_(a.partner_id == partner_id, a.attempted_at >= now - WINDOW,
                a.attempted_at <= now)


def _last_day(conn: Connection, partner_id: str, now: datetime
              ) -> tuple[int, int, tuple[Hour, ...]]:
    """Attempts, successes, and attempts and failures per hour: one read of the range."""
    failed = a.outcome != "succeeded"
    starts = [now - WINDOW + timedelta(hours=h) for h in range(HOURS)]
    columns = [func.count(), func.coalesce(func.sum(case((~failed, 1), else_=0)), 0)]
    for start in starts:
        within = and_(a.attempted_at >= start, a.attempted_at < start + timedelta(hours=1)) \
            if start != starts[-1] else a.attempted_at >= start
        columns += [func.coalesce(func.sum(case((within, 1), else_=0)), 0),
                    func.coalesce(func.sum(case((and_(within, failed), 1), else_=0)), 0)]
    found = conn.execute(select(*columns).where(_in_window(partner_id, now))).one()
    hours = tuple(Hour(start, int(found[2 + 2 * h]), int(found[3 + 2 * h]))
                  for h, start in enumerate(starts))
    return int(found[0]), int(found[1]), hours


def _p95_latency(conn: Connection, partner_id: str, now: datetime, attempts: int
                 ) -> int | None:
    """The nearest-rank 95th percentile of the last day's latencies (None without any)."""
    if not attempts:
        return None
    rank = math.ceil(0.95 * attempts)
    latency: int = conn.execute(
        select(a.latency_ms).where(_in_window(partner_id, now))
        .order_by(a.latency_ms).offset(rank - 1).limit(1)).scalar_one()
    return latency


def _backlog(conn: Connection, partner_id: str) -> tuple[int, int, datetime | None]:
    """Pending deliveries, deliveries whose retries ran out, and when the oldest event still
    pending happened."""
    counts: dict[str, int] = {status: count for status, count in conn.execute(
        select(d.status, func.count()).where(d.partner_id == partner_id,
                                             d.status.in_([PENDING, FAILED]))
        .group_by(d.status))}
    oldest = conn.execute(
        select(func.min(webhook_messages.c.occurred_at))
        .select_from(webhook_deliveries.join(
            webhook_messages, webhook_messages.c.event_id == d.event_id))
        .where(d.partner_id == partner_id, d.status == PENDING)).scalar_one_or_none()
    return (counts.get(PENDING, 0), counts.get(FAILED, 0),
            None if oldest is None else as_utc(oldest))


def _secret_created_at(conn: Connection, partner_id: str) -> datetime | None:
    created = conn.execute(
        select(func.max(partner_secrets.c.created_at))
        .where(partner_secrets.c.partner_id == partner_id,
               partner_secrets.c.expires_at.is_(None))).scalar_one_or_none()
    return None if created is None else as_utc(created)
