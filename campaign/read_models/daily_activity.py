"""Catch-up projection: how many events of each type were recorded per UTC day."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Connection, Table

from campaign.infra.tables import daily_activity
from events import StoredEvent
from events.projections import Mode
from events.sql import insert_rows, upsert


class DailyActivity:
    """Counts for dashboards; nobody reads it right after a write, so it follows the log."""

    name = "daily_activity"
    mode: Mode = "catch-up"
    tables: Sequence[Table] = (daily_activity,)

    event_types: frozenset[str] | None = None  # every event counts
    reads = frozenset({"recorded_at"})

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Add the batch's counts, one upsert per (day, type)."""
        counts = Counter((e.recorded_at.date(), e.type) for e in events)
        rows = [{"day": day, "event_type": t, "count": n} for (day, t), n in counts.items()]
        table = daily_activity
        upsert(conn, table, rows, ["day", "event_type"],
               lambda new: {"count": table.c.count + new.count})

    def replay(self) -> ActivityReplay:
        """A rebuild's fold: the whole log's counts, written once."""
        return ActivityReplay()


class ActivityReplay:
    """The counts of the whole log, added up in memory."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[date, str]] = Counter()

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        self.counts.update((e.recorded_at.date(), e.type) for e in events)

    def finish(self, conn: Connection) -> None:
        insert_rows(conn, daily_activity, [{"day": day, "event_type": t, "count": n}
                                           for (day, t), n in sorted(self.counts.items())])
