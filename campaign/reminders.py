"""Reminder rows for open pledges, kept by the checkpointed `reminder_schedule` subscription.

A reminder is a row with a due time (`pledge_reminders`), not a delayed queue message:
nothing about it lives only in Redis, the clock's scan (campaign/deadlines.py) finds it
when it is due, and a flushed broker loses nothing. One row per (pledge, deadline, kind):
a deadline extension cancels the pending rows of the old deadline and adds rows for the
new one, so a reminder that was already sent is never sent again for the same deadline.

Reminders go out at 10:00 in the supporter's timezone, on the local day `offset` days
before the pledge's due time. "Now" at scheduling is the time of the event that asked
for it (the pledge, the extension), so replaying the log schedules the same rows.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, select, update

from campaign.domain import pledge
from campaign.domain.codec import from_data
from campaign.tables import pledge_reminders, supporters
from events import StoredEvent, Subscription, as_utc
from events.sql import upsert

log = logging.getLogger(__name__)

REMINDER_TIME = time(10)
"""Local wall-clock time at which reminders are delivered."""

REMINDER_SCHEDULE = "reminder_schedule"

# Any fixed UUID: reminder ids are derived from their (pledge, deadline, kind) key.
_REMINDER_NAMESPACE = uuid.UUID("5a0c1e9e-7b1d-4a62-9d0f-3c5e0f1b2a71")

PENDING, SENT, CANCELLED = "pending", "sent", "cancelled"

_ENDED = frozenset({pledge.PledgeFulfilled.type_name, pledge.PledgeLapsed.type_name,
                    pledge.PledgeCancelled.type_name})


def reminder_kind(offset_days: int) -> str:
    """The kind of the reminder sent `offset_days` before the deadline: "7d", "2d"."""
    return f"{offset_days}d"


def reminder_due_at(deadline_at: datetime, offset_days: int, timezone: str) -> datetime:
    """10:00 local, on the local date of (deadline - offset) in `timezone`, as UTC."""
    zone = ZoneInfo(timezone)
    day = (as_utc(deadline_at) - timedelta(days=offset_days)).astimezone(zone).date()
    return datetime.combine(day, REMINDER_TIME, tzinfo=zone).astimezone(UTC)


def reminder_id(pledge_id: str, deadline_at: datetime, kind: str) -> str:
    """An opaque, stable id for the reminder with this key (no personal data in it)."""
    key = f"{pledge_id}|{as_utc(deadline_at).isoformat()}|{kind}"
    return str(uuid.uuid5(_REMINDER_NAMESPACE, key))


def planned_reminders(
    pledge_id: str, deadline_at: datetime, timezone: str, offsets_days: Sequence[int],
    now: datetime,
) -> list[dict[str, Any]]:
    """Rows for the reminders still ahead: due after `now` and before the deadline."""
    deadline_at = as_utc(deadline_at)
    rows = []
    for offset in offsets_days:
        due_at = reminder_due_at(deadline_at, offset, timezone)
        if as_utc(now) < due_at < deadline_at:
            kind = reminder_kind(offset)
            rows.append({
                "reminder_id": reminder_id(pledge_id, deadline_at, kind),
                "pledge_id": pledge_id, "deadline_at": deadline_at, "kind": kind,
                "due_at": due_at, "status": PENDING, "sent_at": None,
            })
    return rows


def supporter_timezone(conn: Connection, supporter_id: str) -> str | None:
    """The supporter's IANA timezone; None when unknown or erased (no reminders then)."""
    zone: str | None = conn.execute(
        select(supporters.c.timezone).where(supporters.c.supporter_id == supporter_id,
                                            supporters.c.erased.is_(False))
    ).scalar_one_or_none()
    if zone is None:
        return None
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("supporter %s has an unknown timezone; reminders use UTC", supporter_id)
        return "UTC"
    return zone


def schedule(
    conn: Connection, pledge_id: str, supporter_id: str, deadline_at: datetime,
    offsets_days: Sequence[int], now: datetime,
) -> int:
    """Add the pending reminders of one deadline (idempotent); how many are planned."""
    timezone = supporter_timezone(conn, supporter_id)
    if timezone is None:
        return 0
    rows = planned_reminders(pledge_id, deadline_at, timezone, offsets_days, now)
    upsert(conn, pledge_reminders, rows, ["reminder_id"])
    return len(rows)


def cancel_pending(conn: Connection, pledge_id: str, keep_deadline: datetime | None = None) -> int:
    """Cancel the pledge's pending reminders (except those of `keep_deadline`); how many."""
    condition = [pledge_reminders.c.pledge_id == pledge_id,
                 pledge_reminders.c.status == PENDING]
    if keep_deadline is not None:
        condition.append(pledge_reminders.c.deadline_at != as_utc(keep_deadline))
    return conn.execute(
        update(pledge_reminders).where(*condition).values(status=CANCELLED)
    ).rowcount


def reminder_schedule(offsets_days: Sequence[int]) -> Subscription:
    """The subscription that keeps `pledge_reminders` in step with the pledges' events.

    Pledged schedules; a moved due date cancels the old deadline's pending reminders and
    schedules the new one's; a fulfilled, lapsed or cancelled pledge cancels what is
    pending. Seeing an event again changes nothing (inserts are ON CONFLICT DO NOTHING).
    """
    offsets = tuple(offsets_days)

    def handle(conn: Connection, events: Sequence[StoredEvent]) -> None:
        for stored in events:
            pledge_id = stored.stream_id.removeprefix("pledge-")
            if stored.type in _ENDED:
                cancel_pending(conn, pledge_id)
                continue
            event = from_data(stored.type, stored.data)
            if isinstance(event, pledge.Pledged):
                schedule(conn, pledge_id, event.supporter_id, event.due_at, offsets,
                         now=event.pledged_at)
            elif isinstance(event, pledge.PledgeDueDateMoved):
                cancel_pending(conn, pledge_id, keep_deadline=event.new_due_at)
                schedule(conn, pledge_id, event.supporter_id, event.new_due_at, offsets,
                         now=event.moved_at)

    types = {pledge.Pledged.type_name, pledge.PledgeDueDateMoved.type_name, *_ENDED}
    return Subscription(REMINDER_SCHEDULE, handle, frozenset(types))
