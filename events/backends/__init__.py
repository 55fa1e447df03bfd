"""Database-specific parts of the store: how to append atomically and how to tail safely."""

from __future__ import annotations

from sqlalchemy import Engine

from events.backends.base import Appended, Backend, EncodedEvent

__all__ = ["Appended", "Backend", "EncodedEvent", "backend_for"]


def backend_for(engine: Engine) -> Backend:
    """The backend matching the engine's dialect."""
    if engine.dialect.name == "postgresql":
        from events.backends.postgres import PostgresBackend

        return PostgresBackend(engine)
    if engine.dialect.name == "sqlite":
        from events.backends.sqlite import SqliteBackend

        return SqliteBackend(engine)
    raise ValueError(f"unsupported database dialect: {engine.dialect.name}")
