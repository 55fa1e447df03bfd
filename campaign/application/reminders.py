"""Reminder rows for open pledges, kept by the checkpointed `reminder_schedule` subscription.

A reminder is a row with a due time (`pledge_reminders`), not a delayed queue message:
nothing about it lives only in Redis, the clock's scan (campaign/application/deadlines.py) finds it
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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, Select, select, update

from campaign.domain import pledge
from campaign.domain.codec import from_data
from campaign.infra.tables import pledge_reminders, pledges, supporters
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


# Claiming due reminders for the clock's scan (campaign.application.deadlines)


class ReminderSender(Protocol):
    """Sends the reminders one scan batch claimed; plugged in as `Container.reminder_sender`.

    Called inside the transaction that marks them sent (after the marks), once per batch:
    if it raises, the marks are rolled back and the next scan tries again. Write inside
    `conn` (append an event, plan a mailing the mail workers pick up) rather than call a
    mail API here: what `conn` writes commits exactly when the marks do.
    """

    def send_reminders(self, conn: Connection, reminders: Sequence[DueReminder],
                       now: datetime) -> None: ...


@dataclass(frozen=True)
class DueReminder:
    """A pending reminder whose time has come, claimed by the current transaction."""

    reminder_id: str
    pledge_id: str
    kind: str
    deadline_at: datetime
    due_at: datetime


def due_reminders_query(now: datetime, limit: int) -> Select[tuple[str, str, str, datetime,
                                                                   datetime]]:
    """Pending reminders due at or before `now`, locked; rows another scan holds are skipped."""
    r = pledge_reminders.c
    return (
        select(r.reminder_id, r.pledge_id, r.kind, r.deadline_at, r.due_at)
        .where(r.status == PENDING, r.due_at <= as_utc(now))
        .order_by(r.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)  # SQLite: no clause; its writers are serial
    )


def due_reminders(conn: Connection, now: datetime, limit: int) -> list[DueReminder]:
    """Claim up to `limit` due pending reminders for `conn`'s transaction (row locks)."""
    return [
        DueReminder(row.reminder_id, row.pledge_id, row.kind, as_utc(row.deadline_at),
                    as_utc(row.due_at))
        for row in conn.execute(due_reminders_query(now, limit))
    ]


def mark_reminder_sent(conn: Connection, reminder_id: str, now: datetime) -> bool:
    """Pending -> sent at `now`; False if it was not pending (someone else sent or cancelled)."""
    return _move(conn, reminder_id, status=SENT, sent_at=as_utc(now))


def mark_reminder_cancelled(conn: Connection, reminder_id: str) -> bool:
    """Pending -> cancelled; False if it was not pending."""
    return _move(conn, reminder_id, status=CANCELLED)


def still_wanted(conn: Connection, due: Iterable[DueReminder], now: datetime) -> set[str]:
    """The ids of the claimed reminders that still apply; the others are to be cancelled.

    A reminder no longer applies when its pledge is not open, its deadline is not the
    pledge's current one or has passed, or a later reminder of the same deadline is also
    due (after downtime only the latest goes out).
    """
    due = list(due)
    if not due:
        return set()
    open_due_at = {
        pledge_id: as_utc(due_at)
        for pledge_id, due_at in conn.execute(
            select(pledges.c.pledge_id, pledges.c.due_at).where(
                pledges.c.pledge_id.in_(sorted({r.pledge_id for r in due})),
                pledges.c.status == "open")
        )
    }
    latest: dict[tuple[str, datetime], DueReminder] = {}
    for reminder in due:
        if open_due_at.get(reminder.pledge_id) != reminder.deadline_at:
            continue  # the pledge is over, or this reminder belongs to an old deadline
        if reminder.deadline_at <= as_utc(now):
            continue
        key = (reminder.pledge_id, reminder.deadline_at)
        if key not in latest or reminder.due_at > latest[key].due_at:
            latest[key] = reminder
    return {reminder.reminder_id for reminder in latest.values()}


def _move(conn: Connection, reminder_id: str, **values: object) -> bool:
    result = conn.execute(
        update(pledge_reminders)
        .where(pledge_reminders.c.reminder_id == reminder_id,
               pledge_reminders.c.status == PENDING)
        .values(**values)
    )
    return result.rowcount == 1


