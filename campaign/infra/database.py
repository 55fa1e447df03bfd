"""Schema management through Alembic, and the check that this code runs on the database's
schema: its own newest migration, or one past it marked compatible (rolling deploys)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select

import migrations
from campaign.infra.tables import schema_revisions
from events import create_store_engine

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent
log = logging.getLogger(__name__)
MIGRATION_LOCK = 7_135_010
"""PostgreSQL advisory lock key every `campaign db upgrade` takes (migrations/env.py): any
fixed number, the same for every release of this product."""


class DatabaseNotMigrated(Exception):
    """Raised when this code cannot run on the database's schema (behind, or ahead of it)."""


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for `database_url`, needing no alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> bool:
    """Migrate the database to `revision`; False when it was left one migration past this code.

    The release step of a rollback runs the older code's `campaign db upgrade` against the
    newer schema: harmless, and nothing to do, when that schema is compatible with it.
    Raises DatabaseNotMigrated, naming the fix, when the database is ahead otherwise.
    """
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_store_engine(database_url)
    try:
        current = current_revision(engine)
        if current is not None and current not in known_revisions():
            if compatible_step_ahead(engine, current, head_revision()):
                return False
            raise DatabaseNotMigrated(_ahead(current))
    finally:
        engine.dispose()
    command.upgrade(alembic_config(database_url), revision)
    return True


def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "migrations/versions holds no migration"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    with engine.connect() as conn, _quiet_alembic():
        return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def _quiet_alembic() -> Iterator[None]:
    """Hide Alembic's "Context impl ..." INFO lines: a read-only check has nothing to report.

    Without this, every process start (and a refusal to start) logs two lines of noise.
    """
    logger = logging.getLogger("alembic.runtime.migration")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def ensure_migrated(engine: Engine) -> None:
    """Raise DatabaseNotMigrated, naming what to do, unless this code runs on the schema.

    It runs on its own newest migration, and on the one after it when `campaign db upgrade`
    recorded that one as compatible with the code before it: in a rolling deploy the new
    release migrates first, and old processes must still start until they are replaced.
    """
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if current is None:
        raise DatabaseNotMigrated(
            f"the database was never migrated, the code needs {head}: run `campaign db upgrade`"
        )
    if current in known_revisions():
        raise DatabaseNotMigrated(
            f"the database is at revision {current}, the code needs {head}: "
            "run `campaign db upgrade`"
        )
    if compatible_step_ahead(engine, current, head):
        log.warning("the database is at revision %s, one migration past this code's %s "
                    "and compatible with it: running until the new code replaces this one",
                    current, head)
        return
    raise DatabaseNotMigrated(_ahead(current))


def _ahead(current: str) -> str:
    return (f"the database is at revision {current}, ahead of this code's {head_revision()} "
            "and not compatible with it: deploy the new code (never downgrade a database "
            "in use)")


def known_revisions() -> set[str]:
    """Every revision this code has a migration for."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return {script.revision for script in scripts.walk_revisions()}


def compatible_step_ahead(engine: Engine, revision: str, head: str) -> bool:
    """Whether `revision` directly follows `head` and was recorded as compatible with it."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(schema_revisions.name):
            return False
        row = conn.execute(select(schema_revisions)
                           .where(schema_revisions.c.revision == revision)).first()
    return row is not None and row.previous_revision == head and row.compatible_with_previous
