"""How many deliveries one partner may have in flight at once, across every worker."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Final

from sqlalchemy import Connection

from events.sql import advisory_slot

SLOTS: Final = 2
"""Deliveries one partner may have in flight at once, across every worker process."""


def partner_slot(conn: Connection, partner_id: str) -> AbstractContextManager[bool]:
    """One of the partner's delivery slots, held on `conn` (in autocommit) for the block.

    A partner that answers in 5 s (or not at all, until the 15 s timeout) would otherwise
    occupy every worker thread that picks up one of its messages. Advisory locks take no
    transaction id, so unlike a row lock held over an HTTP call they never hold back the
    log's gap-safe tail, and they vanish with the connection if the worker dies.
    """
    return advisory_slot(conn, f"webhook-slot:{partner_id}", slots=SLOTS, scope="session")
