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
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select

from campaign.application.commands import CommandHandler, Meta
from campaign.application.reminders import (
    ReminderSender,
    due_reminders,
    mark_reminder_cancelled,
    mark_reminder_sent,
    still_wanted,
)
from campaign.domain import pledge
from campaign.domain.base import DomainError
from campaign.infra.tables import pledges
from events import as_utc

log = logging.getLogger(__name__)

ACTOR = "clock:deadlines"
BATCH = 200
"""Rows per batch: each lapse batch reads this many candidates, each reminder batch is one
transaction claiming this many rows."""


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


# --- Lapses ---------------------------------------------------------------------------------


def lapse_due_pledges(
    commands: CommandHandler, now: datetime, limit: int = BATCH, max_seconds: float | None = None,
) -> int:
    """Send LapsePledge(at=now) for every open pledge due by `now`; how many lapsed.

    Batches of `limit` until a batch comes back short, lapses nothing (another scan got
    there first) or `max_seconds` pass; the next scan carries on where this one stopped.
    """
    meta = Meta(actor=ACTOR, correlation_id=f"deadlines-{as_utc(now).isoformat()}")
    stop_at = None if max_seconds is None else time.monotonic() + max_seconds
    total = 0
    while True:
        with commands.engine.connect() as conn:
            batch = conn.execute(lapse_candidates(now, limit)).all()
        lapsed = 0
        for row in batch:
            command = pledge.LapsePledge(action_id=row.action_id, supporter_id=row.supporter_id,
                                         at=now)
            try:
                lapsed += bool(commands.handle(command, meta).events)
            except DomainError as exc:  # a bug, not a race: say so and go on with the rest
                log.error("could not lapse pledge %s: %s", row.pledge_id, exc.code)
        total += lapsed
        if len(batch) < limit or lapsed == 0 or _out_of_time(stop_at):
            return total


# --- Reminders ------------------------------------------------------------------------------


def send_due_reminders(
    commands: CommandHandler, sender: ReminderSender, now: datetime, limit: int = BATCH,
    max_seconds: float | None = None,
) -> ScanResult:
    """Send each due reminder of an open pledge once; cancel those that no longer apply.

    A reminder no longer applies when its pledge is not open, its deadline is not the
    pledge's current one or has passed, or a later reminder of the same deadline is also
    due (after downtime only the latest goes out). A failing send leaves the reminders
    of its batch pending for the next scan and ends this one.
    """
    stop_at = None if max_seconds is None else time.monotonic() + max_seconds
    sent = cancelled = failed = 0
    while True:
        with commands.engine.begin() as conn:
            due = due_reminders(conn, now, limit)
            wanted = still_wanted(conn, due, now)
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
    commands: CommandHandler, sender: ReminderSender, now: datetime, limit: int = BATCH,
    max_seconds: float | None = None,
) -> ScanResult:
    """Lapse first (so a pledge that just lapsed gets no reminder), then send reminders."""
    stop_at = None if max_seconds is None else time.monotonic() + max_seconds
    lapsed = lapse_due_pledges(commands, now, limit, max_seconds)
    left = None if stop_at is None else max(stop_at - time.monotonic(), 0.0)
    reminders = send_due_reminders(commands, sender, now, limit, left)
    return ScanResult(lapsed, reminders.reminders_sent, reminders.reminders_cancelled,
                      reminders.reminders_failed)


def _out_of_time(stop_at: float | None) -> bool:
    return stop_at is not None and time.monotonic() >= stop_at
