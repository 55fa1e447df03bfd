"""Rebuild a projection from position 0; the result must equal the live read model.

The log is read in large pages of only the event types the projection handles (filtered in
SQL) and only the parts of each event it reads (`reads`, when it declares them), and each
page is applied as one batch: a projection that writes per batch, not per event, then
writes a few statements per page.

An event the projection cannot apply is parked under the projection's name, as a live
subscription would park it, and the rebuild goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy import Connection

from events.projections import (
    Projection,
    Replay,
    clear_tables,
    data_read_of,
    fields_read,
    metadata_read_of,
    replay_of,
)
from events.records import StoredEvent
from events.store import EventStore
from events.subscriptions import (
    ensure_checkpoint,
    is_temporary,
    lock_checkpoint,
    park,
    save_checkpoint,
)
from events.tailing import settled_head

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (events applied so far, last position read) while a rebuild runs."""

PAGE = 10_000
"""Events read and applied at a time."""


def rebuild(
    store: EventStore,
    projection: Projection,
    batch_size: int = PAGE,
    on_progress: Progress | None = None,
) -> int:
    """Replay the log into a projection's emptied tables in one transaction; events applied.

    Readers keep seeing the old rows until the new ones commit. Writers of an inline
    projection wait on its table lock, so every event it handles is committed or waits:
    the replay reads to the end. The runner of a catch-up one waits on its checkpoint; the
    replay ends at the head found settled before it began, where the checkpoint is left
    (the runner goes on from there).
    """
    head = 0
    if projection.mode == "catch-up":
        ensure_checkpoint(store, projection.name)
        head = settled_head(store)
    with store.engine.begin() as conn:
        if projection.mode == "catch-up":
            lock_checkpoint(conn, projection.name, wait=True)
        clear_tables(conn, projection)
        if projection.mode == "inline":
            return _replay(store, conn, projection, batch_size, None, on_progress)
        applied = _replay(store, conn, projection, batch_size, head, on_progress)
        save_checkpoint(conn, projection.name, head)
        return applied


def _replay(
    store: EventStore, conn: Connection, projection: Projection, batch_size: int,
    through: int | None, on_progress: Progress | None,
) -> int:
    """Apply page after page of the events the projection handles, up to `through`: with
    the projection's own `Replay` if it has one (and it goes through), else with `apply`."""
    replay = replay_of(projection)
    if replay is not None:
        try:
            with conn.begin_nested():
                return _pages(store, conn, projection, batch_size, through, on_progress, replay)
        except Exception as exc:  # noqa: BLE001 - the plain way parks the event that fails
            if is_temporary(exc):
                raise
            # The type only: a driver's message can quote the row it refused.
            log.warning("rebuild of %s: its replay failed (%s); rebuilding page by page",
                        projection.name, type(exc).__name__)
    return _pages(store, conn, projection, batch_size, through, on_progress, None)


def _pages(
    store: EventStore, conn: Connection, projection: Projection, batch_size: int,
    through: int | None, on_progress: Progress | None, replay: Replay | None,
) -> int:
    applied = position = 0
    fields, data_of = fields_read(projection), data_read_of(projection)
    metadata_keys = metadata_read_of(projection)
    while batch := store.read_page(conn, position, batch_size, types=projection.event_types,
                                   fields=fields, through=through, data_of=data_of,
                                   metadata_keys=metadata_keys):
        if replay is None:
            applied += _apply(store, conn, projection, batch)
        else:
            replay.apply(conn, batch)
            applied += len(batch)
        position = batch[-1].position
        if on_progress:
            on_progress(applied, position)
    if replay is not None:
        replay.finish(conn)
    return applied


def _apply(
    store: EventStore, conn: Connection, projection: Projection, batch: Sequence[StoredEvent]
) -> int:
    """Apply a batch; if it fails, event by event (each read whole), parking each event that
    fails, so one bad event in the log never stops a rebuild (nor leaves it empty)."""
    try:
        with conn.begin_nested():
            projection.apply(conn, batch)
        return len(batch)
    except Exception:  # noqa: BLE001 - find the event that fails
        pass
    whole = store.read_page(conn, batch[0].position - 1, len(batch),
                            types=projection.event_types, through=batch[-1].position)
    applied = 0
    for event in whole:
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
