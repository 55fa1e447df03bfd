"""Rebuild a projection from position 0; the result must equal the live read model.

An event the projection cannot apply is parked under the projection's name, as a live
subscription would park it, and the rebuild goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from sqlalchemy import Connection

from events.projections import Projection, clear_tables, relevant
from events.records import StoredEvent
from events.store import EventStore
from events.subscriptions import (
    ensure_checkpoint,
    is_temporary,
    lock_checkpoint,
    park,
    save_checkpoint,
)
from events.tailing import Tail

Progress = Callable[[int, int], None]
"""Called with (events applied so far, last position read) while a rebuild runs."""


def rebuild(
    store: EventStore,
    projection: Projection,
    batch_size: int = 2000,
    on_progress: Progress | None = None,
) -> int:
    """Replay the log into a projection's emptied tables in one transaction; events applied.

    Readers keep seeing the old rows until the new ones commit. Writers of an inline
    projection wait on its table lock; the runner of a catch-up one waits on its checkpoint.
    """
    if projection.mode == "catch-up":
        ensure_checkpoint(store, projection.name)
    with store.engine.begin() as conn:
        if projection.mode == "catch-up":
            lock_checkpoint(conn, projection.name, wait=True)
        clear_tables(conn, projection)
        if projection.mode == "inline":
            return _replay_committed(store, conn, projection, batch_size, on_progress)
        applied, position = _replay_tail(store, conn, projection, batch_size, on_progress)
        save_checkpoint(conn, projection.name, position)
        return applied


def _replay_committed(
    store: EventStore, conn: Connection, projection: Projection, batch_size: int,
    on_progress: Progress | None,
) -> int:
    """Inline: after the table lock every writer of this projection has committed or waits."""
    applied = position = 0
    while batch := store.read_all(position, batch_size, conn=conn):
        applied += _apply(conn, projection, batch)
        position = batch[-1].position
        if on_progress:
            on_progress(applied, position)
    return applied


def _replay_tail(
    store: EventStore, conn: Connection, projection: Projection, batch_size: int,
    on_progress: Progress | None, wait: float = 0.02,
) -> tuple[int, int]:
    """Catch-up: read gap-safely, so the checkpoint never passes an in-flight event."""
    tail = Tail(store)
    applied = position = 0
    while True:
        read = tail.read(conn, position, batch_size)
        if read.events:
            applied += _apply(conn, projection, read.events)
            position = read.events[-1].position
            if on_progress:
                on_progress(applied, position)
        elif read.blocked:
            time.sleep(wait)
        else:
            return applied, position


def _apply(conn: Connection, projection: Projection, batch: Sequence[StoredEvent]) -> int:
    """Apply a batch; if it fails, event by event, parking each event that fails, so one bad
    event in the log never stops a rebuild (nor leaves the read model empty)."""
    handled = relevant(projection, batch)
    if not handled:
        return 0
    try:
        with conn.begin_nested():
            projection.apply(conn, handled)
        return len(handled)
    except Exception:  # noqa: BLE001 - find the event that fails
        pass
    applied = 0
    for event in handled:
        try:
            with conn.begin_nested():
                projection.apply(conn, [event])
        except Exception as exc:  # noqa: BLE001 - set it aside and go on
            if is_temporary(exc):
                raise
            park(conn, projection.name, event, exc)
            continue
        applied += 1
    return applied
