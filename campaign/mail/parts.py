"""Reading an audience by supporter id, a page at a time, and in parts: a part is what one
transaction of the planner covers, and it notes where it ended so the next begins there."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, Select


@dataclass
class Part:
    """One part of an audience: up to `limit` supporters (by id) after `after`; once read,
    the last id it covered and whether the audience ended in it."""

    after: str | None
    limit: int
    through: str | None = None
    exhausted: bool = False


def pages(conn: Connection, query: Select[Any], key: Any, page_size: int,
          part: Part | None = None) -> Iterator[Sequence[Row[Any]]]:
    """The rows of `query` in pages of `page_size` by `key`, each page its own statement:
    a page is all a reader holds, and the connection stays free for writes in between.
    Given a `part`, only its rows, noting on it where they ended."""
    after = part.after if part is not None else None
    left = part.limit if part is not None else None
    if part is not None:
        part.through = after  # a part that finds nobody ends where it began
    while True:
        size = page_size if left is None else min(page_size, left)
        page = conn.execute((query if after is None else query.where(key > after))
                            .order_by(key).limit(size)).all() if size else []
        if page:
            after = page[-1].supporter_id
            if part is not None:
                part.through = after
            yield page
        if len(page) < size or not size:
            if part is not None:
                part.exhausted = len(page) < size
            return
        if left is not None:
            left -= len(page)
