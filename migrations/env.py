"""Alembic environment: the only author of the schema, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from campaign.infra.tables import metadata as campaign_metadata
from events.engine import create_store_engine
from events.schema import metadata as event_store_metadata

target_metadata = [event_store_metadata, campaign_metadata]

# Any fixed number: every migrator of this database waits on the same advisory lock.
MIGRATION_LOCK = 7_135_010


def run_with(connection: Connection) -> None:
    """Migrate on `connection`; on PostgreSQL one migrator at a time, never waiting forever."""
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        connection.execute(text("SET lock_timeout = '10s'"))
        connection.execute(text("SET statement_timeout = '5min'"))
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
        connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    finally:
        if postgres:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
            connection.commit()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    engine = create_store_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as conn:
            run_with(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `campaign db upgrade`")
run_online()
