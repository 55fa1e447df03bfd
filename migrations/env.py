"""Alembic environment: the only author of the schema, for SQLite and PostgreSQL alike."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from alembic import context
from alembic.runtime.migration import MigrationInfo
from sqlalchemy import Connection, inspect, select, text

from campaign.infra.database import MIGRATION_LOCK
from campaign.infra.tables import metadata as campaign_metadata
from campaign.infra.tables import schema_revisions
from events.engine import create_store_engine
from events.schema import metadata as event_store_metadata

target_metadata = [event_store_metadata, campaign_metadata]

# How long a second release waits for the first one's migrations before giving up: long
# enough for a migration that rewrites a large table, short of a release that never ends.
LOCK_WAIT_SECONDS = 30 * 60

log = logging.getLogger("migrations")


def run_with(connection: Connection) -> None:
    """Migrate on `connection`; on PostgreSQL one migrator at a time, never waiting forever."""
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        take_migration_lock(connection)
        connection.execute(text("SET lock_timeout = '10s'"))
        connection.execute(text("SET statement_timeout = '5min'"))
        connection.commit()
    applied: list[str] = []

    def note_applied(*, step: MigrationInfo, **_: object) -> None:
        if step.is_upgrade:
            applied.append(step.up_revision_id)

    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            on_version_apply=note_applied,
        )
        with context.begin_transaction():
            context.run_migrations()
            record_revisions(connection, applied)
        connection.commit()
    finally:
        if postgres:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
            connection.commit()


def take_migration_lock(connection: Connection) -> None:
    """Wait while another release migrates this database, saying so, then hold the lock.

    Two releases at once are harmless: the second waits, then finds nothing left to do.
    It polls rather than blocking in `pg_advisory_lock`, whose wait `lock_timeout` would cut
    short while the first release runs a long migration.
    """
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    waiting = False
    while not connection.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                 {"k": MIGRATION_LOCK}).scalar_one():
        connection.commit()
        if time.monotonic() > deadline:
            raise SystemExit(f"another `campaign db upgrade` held the migration lock for "
                             f"{LOCK_WAIT_SECONDS // 60} minutes: gave up waiting")
        if not waiting:
            log.warning("another `campaign db upgrade` is migrating this database: waiting")
            waiting = True
        time.sleep(0.5)
    connection.commit()


def record_revisions(connection: Connection, applied: list[str]) -> None:
    """Note whether the code before each applied revision runs on it (rolling deploys).

    That code lacks the newer migration's file, so `ensure_migrated` reads the flag here.
    Nothing to note before the table exists (a database migrated to an older revision).
    """
    if not applied or not inspect(connection).has_table(schema_revisions.name):
        return
    recorded = set(connection.execute(select(schema_revisions.c.revision)).scalars())
    for revision in applied:
        script = context.script.get_revision(revision)
        if script is None or revision in recorded:
            continue
        previous = script.down_revision if isinstance(script.down_revision, str) else None
        compatible = getattr(script.module, "compatible_with_previous", False) is True
        connection.execute(schema_revisions.insert().values(
            revision=revision, previous_revision=previous,
            compatible_with_previous=compatible, applied_at=datetime.now(UTC)))


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
