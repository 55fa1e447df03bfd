"""Counting confirmed letters for partners: milestones as they happen, each day's counts after it.

The `letter_reports` subscription adds every `LetterConfirmed` to `letter_report_counts`
(action, target, UTC day the confirmation was recorded) in the transaction that moves its
checkpoint, and records the action's new total with the letter reports aggregate when a
milestone is crossed. Days follow the log's own time (`recorded_at`), the same time the
check "has the subscription read everything of that day" uses. The clock asks
`report_daily_letter_counts` every few minutes to report the days that are over; the
aggregate reports a day once, however many clocks ask.

Only counts leave this module: partners learn how many letters went to whom, never who wrote.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from campaign.application.commands import CommandHandler, Meta, policy_meta
from campaign.domain import letter_reports, pledge
from campaign.domain.codec import from_data
from campaign.domain.letter_reports import TargetLetters
from campaign.infra.tables import action_targets, letter_report_counts
from events import StoredEvent, Subscription, as_utc
from events.schema import events, subscription_checkpoints
from events.sql import upsert

SUBSCRIPTION = "letter_reports"
# A day is reported this long after it ends: letters confirmed at 23:59 are counted by then.
GRACE = timedelta(minutes=10)
# Days looked back on each run, so a clock that was down for a while still reports them.
LOOKBACK_DAYS = 3
ACTOR = "clock:letter_reports"


def letter_reports_subscription(commands: CommandHandler) -> Subscription:
    """Count each confirmed letter once and announce the milestones the counts cross."""

    def react(conn: Connection, batch: Sequence[StoredEvent]) -> None:
        totals: dict[str, int] = {}
        per_day: Counter[tuple[str, str, date]] = Counter()
        crossings: list[tuple[str, int, datetime, StoredEvent]] = []
        for stored in batch:
            event = from_data(stored.type, stored.data)
            assert isinstance(event, pledge.LetterConfirmed)
            action_id = event.action_id
            before = totals[action_id] if action_id in totals else letters_of(conn, action_id)
            totals[action_id] = before + 1
            day = stored.recorded_at.astimezone(UTC).date()
            per_day[(action_id, event.target_id, day)] += 1
            if letter_reports.crossed(before, before + 1):
                crossings.append((action_id, before + 1, stored.recorded_at, stored))
        rows = [{"action_id": a, "target_id": t, "day": d, "letters": n}
                for (a, t, d), n in per_day.items()]
        table = letter_report_counts
        upsert(conn, table, rows, ["action_id", "target_id", "day"],
               lambda new: {"letters": table.c.letters + new.letters})
        for action_id, letters, at, cause in crossings:
            commands.handle(letter_reports.RecordLetterTotal(
                action_id=action_id, letters=letters, counted_at=at),
                policy_meta(SUBSCRIPTION, cause), conn=conn)

    return Subscription(SUBSCRIPTION, react, frozenset({pledge.LetterConfirmed.type_name}))


def letters_of(conn: Connection, action_id: str) -> int:
    """The action's confirmed letters counted so far."""
    total = conn.execute(select(func.coalesce(func.sum(letter_report_counts.c.letters), 0))
                         .where(letter_report_counts.c.action_id == action_id)).scalar_one()
    return int(total)


def days_to_report(now: datetime) -> list[date]:
    """The UTC days over (with the grace) that a run at `now` reports, oldest first."""
    last = (as_utc(now) - GRACE).date() - timedelta(days=1)
    return [last - timedelta(days=n) for n in reversed(range(LOOKBACK_DAYS))]


def report_daily_letter_counts(commands: CommandHandler, now: datetime) -> int:
    """Report each action's letters per target for the days just over; how many reported.

    A day is skipped while the counting subscription may still hold back letters of it:
    the next run reports it.
    """
    reported = 0
    meta = Meta(actor=ACTOR, correlation_id=f"letter-reports-{as_utc(now).date().isoformat()}")
    for day in days_to_report(now):
        with commands.store.engine.connect() as conn:
            if not counted_through(conn, _end_of(day)):
                continue
            reports = [_report(conn, action_id, day, now)
                       for action_id in _actions_to_report(conn, day)]
        for report in reports:
            reported += len(commands.handle(report, meta).events)
    return reported


def counted_through(conn: Connection, instant: datetime) -> bool:
    """Whether the counting subscription has passed every event recorded before `instant`.

    True when it is at the end of the log, or the first event it has not read was recorded
    at or after `instant` (positions follow commit order to within a transaction's length,
    far below the grace given).
    """
    checkpoint = conn.execute(select(subscription_checkpoints.c.position).where(
        subscription_checkpoints.c.name == SUBSCRIPTION)).scalar_one_or_none() or 0
    first_unread = conn.execute(
        select(events.c.recorded_at).where(events.c.position > checkpoint)
        .order_by(events.c.position).limit(1)).scalar_one_or_none()
    return first_unread is None or as_utc(first_unread) >= instant


def _actions_to_report(conn: Connection, day: date) -> list[str]:
    """The actions that got letters that day: a day without letters is not reported."""
    return sorted(conn.execute(
        select(letter_report_counts.c.action_id).where(letter_report_counts.c.day == day)
        .distinct()).scalars())


def _report(
    conn: Connection, action_id: str, day: date, now: datetime
) -> letter_reports.ReportDailyLetterCounts:
    """The day's letters for every target of the action, zero for those nobody wrote to."""
    counts: dict[str, int] = {row.target_id: row.letters for row in conn.execute(
        select(letter_report_counts.c.target_id, letter_report_counts.c.letters)
        .where(letter_report_counts.c.action_id == action_id,
               letter_report_counts.c.day == day))}
    targets = _current_targets(conn, action_id)
    ordered = targets + sorted(set(counts) - set(targets))
    return letter_reports.ReportDailyLetterCounts(
        action_id=action_id, day=day, reported_at=as_utc(now),
        per_target=tuple(TargetLetters(t, counts.get(t, 0)) for t in ordered))


def _current_targets(conn: Connection, action_id: str) -> list[str]:
    rows: Any = conn.execute(select(action_targets.c.target_id)
                             .where(action_targets.c.action_id == action_id,
                                    action_targets.c.current.is_(True))
                             .order_by(action_targets.c.ordinal))
    return list(rows.scalars())


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
