"""Rolling deploys: the new release migrates first, and the old code must still start on a
schema one migration ahead when that migration is marked compatible with it; otherwise it
says what to do. Two releases migrating at once are harmless on PostgreSQL."""

from __future__ import annotations

import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, select, text

from campaign.infra.database import (
    MIGRATION_LOCK,
    MIGRATIONS_DIR,
    DatabaseNotMigrated,
    current_revision,
    ensure_migrated,
    head_revision,
)
from campaign.infra.tables import schema_revisions
from tests.commands import BIN, SECRET_KEY, campaign, command_env, describe
from tests.databases import PostgresDatabases, engine_for

NEXT_MIGRATION = '''
"""A migration the code under test does not have yet (the next release's)."""
import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None
compatible_with_previous = {compatible!r}


def upgrade() -> None:
    op.create_table({table!r}, sa.Column("id", sa.Integer(), primary_key=True))
'''


def next_release(tmp_path: Path, *compatible: bool) -> Path:
    """This code's migrations plus one more per flag, as the next release would ship them."""
    directory = tmp_path / "next_release_migrations"
    shutil.copytree(MIGRATIONS_DIR, directory, ignore=shutil.ignore_patterns("__pycache__"))
    previous = head_revision()
    for number, flag in enumerate(compatible, start=1):
        revision = f"next{number}"
        (directory / "versions" / f"9{number:03}_{revision}.py").write_text(
            NEXT_MIGRATION.format(revision=revision, down_revision=previous,
                                  compatible=flag, table=f"next_release_{number}"))
        previous = revision
    return directory


def migrate_with(directory: Path, database_url: str) -> None:
    """`campaign db upgrade` as the next release runs it: its own migrations, the same env.py."""
    config = Config()
    config.set_main_option("script_location", str(directory))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(config, "head")


def test_the_code_runs_on_a_database_one_compatible_migration_ahead(
    tmp_path: Path, database_url: str
) -> None:
    migrate_with(next_release(tmp_path, True), database_url)

    with engine_for(database_url) as engine:
        assert current_revision(engine) == "next1"
        ensure_migrated(engine)  # raises on main: any revision but its own is refused


def test_a_command_of_the_old_release_starts_on_a_database_one_compatible_migration_ahead(
    tmp_path: Path, database_url: str
) -> None:
    migrate_with(next_release(tmp_path, True), database_url)
    env = command_env(DATABASE_URL=database_url, SECRET_KEY=SECRET_KEY)

    result = campaign("subscriptions", "list", env=env)

    assert result.returncode == 0, describe(result)
    assert "one migration past this code" in result.stderr


def test_the_code_refuses_an_incompatible_migration_ahead_and_says_to_deploy_the_new_code(
    tmp_path: Path, database_url: str
) -> None:
    migrate_with(next_release(tmp_path, False), database_url)

    with engine_for(database_url) as engine, pytest.raises(DatabaseNotMigrated) as refused:
        ensure_migrated(engine)

    message = str(refused.value)
    assert "at revision next1, ahead of this code's" in message
    assert "deploy the new code" in message
    assert "campaign db upgrade" not in message  # it cannot help: the code is what lags


def test_the_code_refuses_a_database_two_migrations_ahead_even_if_both_are_compatible(
    tmp_path: Path, database_url: str
) -> None:
    migrate_with(next_release(tmp_path, True, True), database_url)

    with engine_for(database_url) as engine, pytest.raises(DatabaseNotMigrated,
                                                           match="deploy the new code"):
        ensure_migrated(engine)


def test_an_old_process_refusing_the_schema_names_the_fix_in_one_line(
    tmp_path: Path, database_url: str
) -> None:
    migrate_with(next_release(tmp_path, False), database_url)
    env = command_env(DATABASE_URL=database_url, SECRET_KEY=SECRET_KEY)

    result = campaign("subscriptions", "list", env=env)

    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1, describe(result)
    assert "deploy the new code" in result.stderr


def test_the_old_release_step_leaves_a_database_one_compatible_migration_ahead_as_it_is(
    tmp_path: Path, database_url: str
) -> None:
    # A rollback runs the older code's release step against the newer, compatible schema.
    migrate_with(next_release(tmp_path, True), database_url)
    env = command_env(DATABASE_URL=database_url, SECRET_KEY=SECRET_KEY)

    result = campaign("db", "upgrade", env=env)

    assert result.returncode == 0, describe(result)
    assert "database left one migration past this code" in result.stdout
    with engine_for(database_url) as engine:
        assert current_revision(engine) == "next1"


def test_the_old_release_step_on_an_incompatible_newer_database_names_the_fix_in_one_line(
    tmp_path: Path, database_url: str
) -> None:
    migrate_with(next_release(tmp_path, False), database_url)
    env = command_env(DATABASE_URL=database_url, SECRET_KEY=SECRET_KEY)

    result = campaign("db", "upgrade", env=env)

    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1, describe(result)
    assert "deploy the new code" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_upgrade_records_whether_each_revision_is_compatible_with_the_code_before_it(
    tmp_path: Path, database_url: str
) -> None:
    migrate_with(next_release(tmp_path, True, False), database_url)

    with engine_for(database_url) as engine, engine.connect() as conn:
        rows = conn.execute(select(schema_revisions.c.revision,
                                   schema_revisions.c.previous_revision,
                                   schema_revisions.c.compatible_with_previous)).all()
    recorded = {row.revision: (row.previous_revision, row.compatible_with_previous)
                for row in rows}

    assert recorded["0022"] == ("0021", True)
    assert recorded["0020"] == ("0019", False)
    assert recorded["next1"] == (head_revision(), True)
    assert recorded["next2"] == ("next1", False)


@pytest.mark.postgres
def test_two_releases_migrating_an_empty_database_at_once_both_succeed(
    postgres_databases: PostgresDatabases,
) -> None:
    with postgres_databases.empty() as url:
        env = command_env(DATABASE_URL=url, SECRET_KEY=SECRET_KEY)
        results: list[object] = [None, None]

        def release(index: int) -> None:
            results[index] = campaign("db", "upgrade", env=env)

        threads = [threading.Thread(target=release, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        for result in results:
            assert result.returncode == 0, describe(result)  # type: ignore[attr-defined]
        migrated = [r for r in results if "Running upgrade" in r.stderr]  # type: ignore[attr-defined]
        assert len(migrated) == 1, [describe(r) for r in results]  # type: ignore[arg-type]
        with engine_for(url) as engine:
            assert current_revision(engine) == head_revision()


@pytest.mark.postgres
def test_a_release_waits_for_another_releases_long_migration_instead_of_failing(
    postgres_databases: PostgresDatabases,
) -> None:
    # The first release holds the migration lock longer than the DDL lock_timeout (10 s)
    # after the second has started waiting: the second must wait for it, saying so, then
    # migrate, not fail after 10 seconds. The hold is counted from the moment the second
    # says it waits, so a slow start of its process cannot shorten the wait under test.
    held_for = 11.0
    with postgres_databases.empty() as url:
        env = command_env(DATABASE_URL=url, SECRET_KEY=SECRET_KEY)
        holder = create_engine(url)
        try:
            with holder.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
                second = subprocess.Popen([str(BIN / "campaign"), "db", "upgrade"], env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True)
                lines = output_lines(second.stderr)
                said_so = wait_for_line(lines, "another `campaign db upgrade` is migrating "
                                        "this database", timeout=300)
                time.sleep(held_for)
                assert second.poll() is None, "the second release gave up while waiting"
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
            returncode = second.wait(timeout=300)
        finally:
            holder.dispose()
        stderr = said_so + "".join(iter(lines.get, None))
        assert returncode == 0, f"exit {returncode}\nstderr:\n{stderr}"
        with engine_for(url) as engine:
            assert current_revision(engine) == head_revision()


def output_lines(stream: IO[str] | None) -> queue.Queue[str | None]:
    """A process's output read line by line in a thread of its own; None once it ends."""
    assert stream is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def wait_for_line(lines: queue.Queue[str | None], wanted: str, timeout: float) -> str:
    """The output up to and including the first line holding `wanted`; fails with what was
    said if the output ends or `timeout` passes first."""
    seen = ""
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no {wanted!r} within {timeout:.0f}s:\n{seen}") from None
        if line is None:
            raise AssertionError(f"output ended without {wanted!r}:\n{seen}")
        seen += line
        if wanted in line:
            return seen
