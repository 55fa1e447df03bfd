"""The clock's deadline scans: lapse overdue open pledges, send the reminders that are due.

Both scans read one index range each — open pledges by due time, pending reminders by
due time (`ix_pledges_status_due_at`, `ix_pledge_reminders_status_due_at`) — in LIMIT
batches, so a scan costs what is due, not what is stored (`bench/deadline_scan.py`).
`now` is passed in: the actor reads the wall clock, tests pass a fixed one.

Running two scans at once is safe. Lapsing goes through the command handler: a pledge
that is no longer open makes the domain emit nothing, and two scans lapsing the same
pledge meet in optimistic concurrency. Reminders are claimed in the transaction that
marks them sent (`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite runs one
writer at a time): a second scan skips or no longer sees them, so each goes out once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Connection, Select, select, update

from campaign.domain import pledge
from campaign.domain.base import DomainError
from campaign.handlers import Meta
from campaign.reminders import CANCELLED, PENDING, SENT
from campaign.tables import pledge_reminders, pledges
from events import as_utc

if TYPE_CHECKING:
    from campaign.bootstrap import Services

log = logging.getLogger(__name__)

ACTOR = "clock:deadlines"
BATCH = 200
"""Rows per batch: each lapse batch reads this many candidates, each reminder batch is one
transaction claiming this many rows."""


class ReminderSender(Protocol):
    """Sends the reminders one scan batch claimed; plugged in as `Services.reminder_sender`.

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


@dataclass(frozen=True)
class ScanResult:
    """What one run of the deadline scans did."""

    lapsed: int = 0
    reminders_sent: int = 0
    reminders_cancelled: int = 0
    reminders_failed: int = 0


# --- The two index-range queries (bench/deadline_scan.py times exactly these) -----------------


def lapse_candidates(now: datetime, limit: int) -> Select[tuple[str, str, str]]:
    """Open pledges due at or before `now`, earliest first: a range of (status, due_at)."""
    return (
        select(pledges.c.pledge_id, pledges.c.action_id, pledges.c.supporter_id)
        .where(pledges.c.status == "open", pledges.c.due_at <= as_utc(now))
        .order_by(pledges.c.due_at)
        .limit(limit)
    )


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


# --- Lapses ---------------------------------------------------------------------------------


def lapse_due_pledges(
    services: Services, now: datetime, limit: int = BATCH, max_seconds: float | None = None,
) -> int:
    """Send LapsePledge(at=now) for every open pledge due by `now`; how many lapsed.

    Batches of `limit` until a batch comes back short, lapses nothing (another scan got
    there first) or `max_seconds` pass; the next scan carries on where this one stopped.
    """
    meta = Meta(actor=ACTOR, correlation_id=f"deadlines-{as_utc(now).isoformat()}")
    stop_at = None if max_seconds is None else time.monotonic() + max_seconds
    total = 0
    while True:
        with services.engine.connect() as conn:
            batch = conn.execute(lapse_candidates(now, limit)).all()
        lapsed = 0
        for row in batch:
            command = pledge.LapsePledge(action_id=row.action_id, supporter_id=row.supporter_id,
                                         at=now)
            try:
                lapsed += bool(services.commands.handle(command, meta).events)
            except DomainError as exc:  # a bug, not a race: say so and go on with the rest
                log.error("could not lapse pledge %s: %s", row.pledge_id, exc.code)
        total += lapsed
        if len(batch) < limit or lapsed == 0 or _out_of_time(stop_at):
            return total


# --- Reminders ------------------------------------------------------------------------------


def due_reminders(conn: Connection, now: datetime, limit: int = BATCH) -> list[DueReminder]:
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


def send_due_reminders(
    services: Services, now: datetime, limit: int = BATCH,
    sender: ReminderSender | None = None, max_seconds: float | None = None,
) -> ScanResult:
    """Send each due reminder of an open pledge once; cancel those that no longer apply.

    A reminder no longer applies when its pledge is not open, its deadline is not the
    pledge's current one or has passed, or a later reminder of the same deadline is also
    due (after downtime only the latest goes out). A failing send leaves the reminders
    of its batch pending for the next scan and ends this one.
    """
    sender = sender or services.reminder_sender
    stop_at = None if max_seconds is None else time.monotonic() + max_seconds
    sent = cancelled = failed = 0
    while True:
        with services.engine.begin() as conn:
            due = due_reminders(conn, now, limit)
            wanted = _still_wanted(conn, due, now)
            for reminder in due:
                if reminder.reminder_id not in wanted:
                    cancelled += mark_reminder_cancelled(conn, reminder.reminder_id)
            sending = [r for r in due if r.reminder_id in wanted]
            try:
                with conn.begin_nested():
                    marked = [r for r in sending if mark_reminder_sent(conn, r.reminder_id, now)]
                    if marked:
                        sender.send_reminders(conn, marked, now)
                sent += len(marked)
            except Exception:  # noqa: BLE001 - any sender failure: retried next scan
                log.exception("%d reminders could not be sent", len(sending))
                failed += len(sending)
        if len(due) < limit or failed or _out_of_time(stop_at):
            return ScanResult(reminders_sent=sent, reminders_cancelled=cancelled,
                              reminders_failed=failed)


def run_deadline_scans(
    services: Services, now: datetime, sender: ReminderSender | None = None,
    limit: int = BATCH, max_seconds: float | None = None,
) -> ScanResult:
    """Lapse first (so a pledge that just lapsed gets no reminder), then send reminders."""
    stop_at = None if max_seconds is None else time.monotonic() + max_seconds
    lapsed = lapse_due_pledges(services, now, limit, max_seconds)
    left = None if stop_at is None else max(stop_at - time.monotonic(), 0.0)
    reminders = send_due_reminders(services, now, limit, sender, left)
    return ScanResult(lapsed, reminders.reminders_sent, reminders.reminders_cancelled,
                      reminders.reminders_failed)


def _still_wanted(conn: Connection, due: Iterable[DueReminder], now: datetime) -> set[str]:
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


def _out_of_time(stop_at: float | None) -> bool:
    return stop_at is not None and time.monotonic() >= stop_at
