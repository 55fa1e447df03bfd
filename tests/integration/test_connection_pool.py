"""A process keeps the connections it uses at once: none is closed on return and opened
again at the next checkout (a new PostgreSQL backend costs milliseconds of CPU)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.databases import engine_for

pytestmark = pytest.mark.postgres

# A worker's 8 threads, each holding two connections at once (a webhook turn and its record).
AT_ONCE = 16


def backends(engine: Engine, count: int) -> set[int]:
    """The server processes behind `count` connections checked out together."""
    held = [engine.connect() for _ in range(count)]
    try:
        return {int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
                for conn in held}
    finally:
        for conn in held:
            conn.close()


def test_connections_used_at_once_are_kept_for_the_next_checkouts(postgres_url: str) -> None:
    with engine_for(postgres_url) as engine:
        first = backends(engine, AT_ONCE)
        again = backends(engine, AT_ONCE)
    assert len(first) == AT_ONCE
    assert again == first
