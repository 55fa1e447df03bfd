"""At most a few deliveries in flight per partner, across every worker process.

A partner that answers in 5 s (or not at all, until the 15 s timeout) would otherwise
occupy every worker thread that picks up one of its messages, and everyone else's
deliveries would queue behind it. With a slot limit, a worker that finds a partner's
slots taken drops the message at once (the slot holders pick up the partner's due
deliveries, see `workers.webhooks.delivery`), so one partner holds at most `SLOTS`
threads however much it is sent.

PostgreSQL: session advisory locks, taken on the connection the turn runs on (in
autocommit). They take no transaction id, so unlike a row lock held over an HTTP call
they never hold back the log's gap-safe tail, and they vanish with the connection if the
worker dies. SQLite (the embedded default, one process): a counter per partner here.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from sqlalchemy import Connection, text

SLOTS: Final = 2
"""Deliveries one partner may have in flight at once."""

_TRY_LOCK = text("SELECT pg_try_advisory_lock(hashtextextended(:k, 0))")
_UNLOCK = text("SELECT pg_advisory_unlock(hashtextextended(:k, 0))")
_local = Counter[str]()
_local_guard = threading.Lock()


@contextmanager
def partner_slot(conn: Connection, partner_id: str, slots: int = SLOTS) -> Iterator[bool]:
    """Hold one of the partner's delivery slots for the block; False when all are taken.

    On PostgreSQL `conn` holds the lock: it must be in autocommit and stay open meanwhile.
    """
    if conn.dialect.name == "postgresql":
        with _advisory_slot(conn, partner_id, slots) as held:
            yield held
        return
    with _local_guard:
        held = _local[partner_id] < slots
        if held:
            _local[partner_id] += 1
    try:
        yield held
    finally:
        if held:
            with _local_guard:
                _local[partner_id] -= 1


@contextmanager
def _advisory_slot(conn: Connection, partner_id: str, slots: int) -> Iterator[bool]:
    key = None
    for slot in range(slots):
        candidate = f"webhook-slot:{partner_id}:{slot}"
        if conn.execute(_TRY_LOCK, {"k": candidate}).scalar_one():
            key = candidate
            break
    try:
        yield key is not None
    finally:
        if key is not None:
            try:
                conn.execute(_UNLOCK, {"k": key})
            except Exception:  # noqa: BLE001 - never pool a connection that may hold it
                conn.invalidate()
                raise
