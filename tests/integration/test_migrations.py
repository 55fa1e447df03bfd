"""Alembic is the only author of the schema: it must match the models, on both backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from campaign.infra.database import current_revision, head_revision
from campaign.infra.tables import metadata as campaign_metadata
from events.schema import metadata as event_store_metadata
from tests.commands import SECRET_KEY, campaign, command_env, describe
from tests.databases import PostgresDatabases, engine_for

MODEL_TABLES = {*event_store_metadata.tables, *campaign_metadata.tables}


def drift(engine: Engine) -> list[Any]:
    """What autogenerate would write into a new migration for this database."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        # A list, as env.py's target_metadata: Alembic accepts one though it annotates MetaData.
        both = [event_store_metadata, campaign_metadata]
        return list(compare_metadata(context, both))  # type: ignore[arg-type]


def test_models_and_migrations_do_not_drift(engine: Engine) -> None:
    assert drift(engine) == []


def test_the_drift_check_notices_an_index_the_database_lacks(engine: Engine) -> None:
    # The check above must be able to fail: a migrated database minus one index drifts.
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_stream_directory_category"))

    assert [difference[0] for difference in drift(engine)] == ["add_index"]


def test_db_upgrade_migrates_a_brand_new_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "campaign.sqlite3"
    url = f"sqlite:///{path}"
    env = command_env(DATABASE_URL=url, SECRET_KEY=SECRET_KEY)

    first = campaign("db", "upgrade", env=env)

    assert first.returncode == 0, describe(first)
    assert "Running upgrade  -> 0001" in first.stderr
    assert "database at head" in first.stdout
    with engine_for(url) as engine:
        assert current_revision(engine) == head_revision()
        assert MODEL_TABLES <= set(inspect(engine).get_table_names())
        schema_before = sqlite_schema(engine)

    second = campaign("db", "upgrade", env=env)

    assert second.returncode == 0, describe(second)
    assert "Running upgrade" not in second.stderr
    with engine_for(url) as engine:
        assert current_revision(engine) == head_revision()
        assert sqlite_schema(engine) == schema_before


@pytest.mark.postgres
def test_db_upgrade_migrates_an_empty_postgres_database(
    postgres_databases: PostgresDatabases,
) -> None:
    with postgres_databases.empty() as url:
        # The form hosting platforms hand out; the settings normalise it.
        heroku_style = make_url(url).set(drivername="postgres")
        env = command_env(
            DATABASE_URL=heroku_style.render_as_string(hide_password=False),
            SECRET_KEY=SECRET_KEY,
        )

        first = campaign("db", "upgrade", env=env)
        second = campaign("db", "upgrade", env=env)

        assert first.returncode == 0, describe(first)
        assert "Running upgrade 0001 -> 0002" in first.stderr
        assert second.returncode == 0, describe(second)
        assert "Running upgrade" not in second.stderr
        with engine_for(url) as engine:
            assert current_revision(engine) == head_revision()
            assert MODEL_TABLES <= set(inspect(engine).get_table_names())


def sqlite_schema(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT name, sql FROM sqlite_master ORDER BY name"))
        return [(row.name, row.sql) for row in rows]
