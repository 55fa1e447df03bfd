"""Inline projection: every stream with its category and current version, for listings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table

from campaign.infra.tables import stream_directory
from events import StoredEvent
from events.projections import BoundedReplay, FoldedWrite, Mode
from events.sql import Upsert, insert_rows, merge_rows


class StreamDirectory:
    """Knows which streams exist; read right after a write, so it is inline."""

    name = "stream_directory"
    mode: Mode = "inline"
    tables: Sequence[Table] = (stream_directory,)

    event_types: frozenset[str] | None = None  # every stream counts
    reads = frozenset({"stream_version", "recorded_at"})

    # On PostgreSQL the upsert runs inside the append's statement: what `apply` writes.
    folded = (FoldedWrite(None, """
  INSERT INTO stream_directory (stream_id, category, version, last_position,
                                first_recorded_at, last_recorded_at)
  SELECT stream_id, split_part(stream_id, '-', 1), max(stream_version), max(position),
         min(recorded_at), max(recorded_at)
    FROM inserted GROUP BY stream_id
  ON CONFLICT (stream_id) DO UPDATE
     SET version = excluded.version, last_position = excluded.last_position,
         last_recorded_at = excluded.last_recorded_at"""),)

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """One upsert per stream touched by the batch."""
        latest: dict[str, dict[str, Any]] = {}
        for event in events:
            row = latest.setdefault(event.stream_id, {
                "stream_id": event.stream_id,
                "category": event.category,
                "first_recorded_at": event.recorded_at,
            })
            row.update(version=event.stream_version, last_position=event.position,
                       last_recorded_at=event.recorded_at)
        _UPSERT(conn, list(latest.values()))

    def replay(self) -> BoundedReplay:
        """A rebuild's fold: streams' rows kept in memory across pages, copied at once."""
        return BoundedReplay(DirectoryFold)


class DirectoryFold:
    """What `apply` leaves for the pages folded: each stream's row updated in memory.
    Once earlier folds were written a stream may have its row already: then the rows are
    merged as `apply` upserts them (its first time and category stay)."""

    def __init__(self, written: bool) -> None:
        self.written = written
        self.rows: dict[str, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        rows = self.rows
        for event in events:
            row = rows.get(event.stream_id)
            if row is None:
                rows[event.stream_id] = {
                    "stream_id": event.stream_id, "category": event.category,
                    "version": event.stream_version, "last_position": event.position,
                    "first_recorded_at": event.recorded_at,
                    "last_recorded_at": event.recorded_at}
            else:
                row["version"] = event.stream_version
                row["last_position"] = event.position
                row["last_recorded_at"] = event.recorded_at

    def write(self, conn: Connection) -> None:
        if self.written:
            merge_rows(conn, stream_directory, list(self.rows.values()), ["stream_id"], _later)
        else:
            insert_rows(conn, stream_directory, list(self.rows.values()))


def _later(new: Any) -> dict[str, Any]:
    """What a stream's later events change of its row (the upsert's update on a clash)."""
    return {"version": new.version, "last_position": new.last_position,
            "last_recorded_at": new.last_recorded_at}


_UPSERT = Upsert(stream_directory, ["stream_id"], _later)
