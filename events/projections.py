"""Projections: read-model tables derived from events, kept live or rebuilt from position 0."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from sqlalchemy import Connection, Table, delete

from events.records import EVENT_FIELDS, StoredEvent
from events.sql import lock_tables

Mode = Literal["inline", "catch-up"]


class Projection(Protocol):
    """A read model: the event types it handles, the tables it owns, how it applies a batch.

    `apply` receives only events of the declared types, in position order, inside the
    transaction that also records progress (the append for inline projections, the
    checkpoint for catch-up ones). It must be deterministic: a rebuild replays it.
    """

    name: str
    mode: Mode
    event_types: frozenset[str] | None  # None: every type
    tables: Sequence[Table]

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None: ...


class Replay(Protocol):
    """A projection's own rebuild into its emptied tables: `apply` page after page of the
    log, then `finish` once. A projection offers one through its optional `replay()` when it
    can rebuild faster than by its live `apply` (rows folded in memory across pages, then
    copied once, instead of a statement per page for rows the next page changes again).

    The tables it leaves must equal what `apply` builds from the same events; if it fails,
    the rebuild starts over with `apply`, page by page.
    """

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None: ...

    def finish(self, conn: Connection) -> None: ...


REPLAY_ROWS = 100_000
"""The most rows a `BoundedReplay` holds in memory before it writes them: a rebuild's memory
stays the same however long the log (a row is a few hundred bytes)."""


class Fold(Protocol):
    """Rows folded from pages of events, held in memory until `write`."""

    def add(self, conn: Connection, events: Sequence[StoredEvent]) -> None: ...

    def __len__(self) -> int: ...  # the rows held

    def write(self, conn: Connection) -> None: ...


class BoundedReplay:
    """A `Replay` that folds pages into rows in memory and writes them when it holds more
    than `REPLAY_ROWS`, then folds on into a new, empty fold. `new_fold(written)` makes
    one; `written` says whether earlier folds were written, so its rows may already be in
    the tables and its `write` must merge them as the live `apply` does (add up, keep the
    later value, change nothing of a row never created)."""

    def __init__(self, new_fold: Callable[[bool], Fold]) -> None:
        self.new_fold = new_fold
        self.fold = new_fold(False)

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        self.fold.add(conn, events)
        if len(self.fold) > REPLAY_ROWS:
            self.fold.write(conn)
            self.fold = self.new_fold(True)

    def finish(self, conn: Connection) -> None:
        self.fold.write(conn)


def replay_of(projection: Projection) -> Replay | None:
    """A new `Replay` of `projection` for a rebuild, if it offers one."""
    make: Callable[[], Replay] | None = getattr(projection, "replay", None)
    return None if make is None else make()


def data_read_of(projection: Projection) -> frozenset[str] | None:
    """The event types whose `data` a rebuild reads for `projection` (None: every type it
    handles, if it reads `data` at all): the `reads_data_of` it may declare. The others'
    data comes empty."""
    return getattr(projection, "reads_data_of", None)


def metadata_read_of(projection: Projection) -> frozenset[str] | None:
    """The metadata keys a rebuild reads for `projection` (None: the whole document): the
    `reads_metadata` it may declare. Their values come as text, read in SQL; a projection
    that names them looks at no other key in `apply`."""
    return getattr(projection, "reads_metadata", None)


def fields_read(projection: Projection) -> frozenset[str]:
    """What a rebuild reads of each event for `projection` besides its position, stream
    and type: the `reads` it may declare (`EventStore.read_page` names the fields), or all.

    A projection that declares `reads` must not look at the other fields in `apply`: a
    rebuild hands them over empty.
    """
    reads: frozenset[str] | None = getattr(projection, "reads", None)
    return EVENT_FIELDS if reads is None else reads


@dataclass(frozen=True)
class FoldedWrite:
    """A projection's writes for some event types as one SQL statement that a backend able
    to (PostgreSQL) runs inside the append's own statement, as a data-modifying CTE: no
    round trip and no statement of their own. `sql` reads the appended rows from
    `inserted(position, stream_id, stream_version, type, data, recorded_at)` (`data` is the
    stored JSON); it must write what `apply` writes for those types. A projection offers
    them as its optional `folded` attribute (a tuple); `fold_plan` picks the ones to run.
    """

    event_types: frozenset[str] | None  # None: every type
    sql: str

    def handles(self, event_type: str) -> bool:
        """Whether the statement writes for events of `event_type`."""
        return self.event_types is None or event_type in self.event_types


def fold_plan(projections: Sequence[Projection], types: Sequence[str]) -> dict[str, FoldedWrite]:
    """For a batch of events of `types` (in order), the folded write to run for each inline
    projection, by projection name.

    At most one per projection, and only when the events it handles come before the
    projection's other events of the batch: its statement runs before `apply` gets the
    rest, and sibling CTEs do not see each other's rows.
    """
    plan: dict[str, FoldedWrite] = {}
    for projection in projections:
        writes: tuple[FoldedWrite, ...] = getattr(projection, "folded", ())
        if projection.mode != "inline" or not writes:
            continue
        wanted = [t for t in types
                  if projection.event_types is None or t in projection.event_types]
        first = next((w for w in writes if wanted and w.handles(wanted[0])), None)
        if first is None:
            continue
        handled = [first.handles(t) for t in wanted]
        if False not in handled or all(not h for h in handled[handled.index(False):]):
            plan[projection.name] = first
    return plan


def relevant(projection: Projection, batch: Iterable[StoredEvent]) -> list[StoredEvent]:
    """The events of `batch` that `projection` handles."""
    types = projection.event_types
    return list(batch) if types is None else [e for e in batch if e.type in types]


def apply_inline(
    conn: Connection, projections: Sequence[Projection], batch: Sequence[StoredEvent],
    *, folded: Mapping[str, FoldedWrite] | None = None,
) -> None:
    """Update every inline projection for a just-appended batch, in the append's transaction.

    `folded`: the writes the append's statement ran already (`fold_plan`), by projection
    name; the events they handled are left out.
    """
    for projection in projections:
        if projection.mode == "inline":
            handled = relevant(projection, batch)
            write = folded.get(projection.name) if folded else None
            if write is not None:
                handled = [e for e in handled if not write.handles(e.type)]
            if handled:
                projection.apply(conn, handled)


def clear_tables(conn: Connection, projection: Projection) -> None:
    """Empty a projection's tables, children first (the declared order is parents first)."""
    # Writers of inline projections wait here, so the rebuild sees every committed event.
    lock_tables(conn, projection.tables)
    for table in reversed(projection.tables):
        conn.execute(delete(table))


def latest_per_stream(batch: Iterable[StoredEvent]) -> dict[str, StoredEvent]:
    """The last event of each stream in `batch`, streams in the order they first appear.

    Projections that mirror an aggregate rewrite its row once per batch, from the state
    as of that last event.
    """
    latest: dict[str, StoredEvent] = {}
    for event in batch:
        latest[event.stream_id] = event
    return latest
