"""Schema management through Alembic, and the check that refuses an un-migrated database."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent


class DatabaseNotMigrated(Exception):
    """Raised when the database schema is not at the newest migration."""


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for `database_url`, needing no alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database to `revision`."""
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)


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
    """Raise DatabaseNotMigrated, with the command to run, unless the schema is current."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        found = "never migrated" if current is None else f"at revision {current}"
        raise DatabaseNotMigrated(
            f"the database is {found}, the code needs {head}: run `campaign db upgrade`"
        )
