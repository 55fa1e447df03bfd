"""Dialect-aware INSERT … ON CONFLICT, the one write pattern projections share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    set_: Callable[[Any], dict[str, Any]] | None = None,
) -> None:
    """Insert `rows`; on a key clash, update with `set_(excluded)`, or keep the old row."""
    if not rows:
        return
    maker = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = maker(table)
    updates = set_(statement.excluded) if set_ else None
    conn.execute(
        statement.on_conflict_do_update(index_elements=list(keys), set_=updates)
        if updates
        else statement.on_conflict_do_nothing(index_elements=list(keys)),
        list(rows),
    )
