"""Shared fixtures: a fresh migrated database per test, on SQLite and on PostgreSQL.

PostgreSQL and Redis come from scripts/with-services (run by `make test`). Outside CI,
running pytest without them skips those tests; with CI=true their absence is an error.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import Engine

from campaign.bootstrap import Container, build
from campaign.infra.queue import stub_broker
from campaign.settings import Settings
from tests.databases import PostgresDatabases, SqliteDatabases, engine_for
from tests.redis_process import private_server_for_this_worker
from tests.scheduling import FilesAndGroups
from tests.wiring import with_actors

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
# Read (and under pytest-xdist, replaced) before any test module reads TEST_REDIS_URL.
REDIS_URL = private_server_for_this_worker(os.environ.get("TEST_REDIS_URL"))


def pytest_sessionstart(session: pytest.Session) -> None:
    missing = [n for n, v in (("TEST_POSTGRES_URL", POSTGRES_URL),
                              ("TEST_REDIS_URL", REDIS_URL)) if not v]
    if IN_CI and missing:
        pytest.exit(f"CI=true but {', '.join(missing)} unset: run `make test`", returncode=3)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> FilesAndGroups | None:
    """Under `--dist loadgroup` (`make test`): tests by file, the browser tests all in one."""
    return FilesAndGroups(config, log) if config.getvalue("dist") == "loadgroup" else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        needs_pg = "postgres" in item.keywords or item.get_closest_marker("postgres")
        if needs_pg and not POSTGRES_URL:
            item.add_marker(pytest.mark.skip(reason="TEST_POSTGRES_URL unset (run `make test`)"))
        if item.get_closest_marker("redis") and not REDIS_URL:
            item.add_marker(pytest.mark.skip(reason="TEST_REDIS_URL unset (run `make test`)"))


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SqliteDatabases:
    return SqliteDatabases(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    assert POSTGRES_URL, "TEST_POSTGRES_URL unset"
    databases = PostgresDatabases(POSTGRES_URL)
    yield databases
    databases.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh migrated database on each backend: the contract every store must meet."""
    databases = request.getfixturevalue(f"{request.param}_databases")
    with databases.fresh() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_databases: PostgresDatabases) -> Iterator[str]:
    """A fresh migrated PostgreSQL database, for tests only PostgreSQL can run."""
    with postgres_databases.fresh() as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    with engine_for(database_url) as engine:
        yield engine


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings.from_env({
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "VAR_DIR": str(tmp_path / "var"),
    })


@pytest.fixture
def broker() -> Iterator[StubBroker]:
    """An in-memory broker of this test's own: no worker consumes it unless a test starts one."""
    broker = stub_broker()
    yield broker
    broker.close()


@pytest.fixture
def container(settings: Settings, engine: Engine, broker: StubBroker) -> Container:
    """The wiring of one process, with its actors declared as in a worker."""
    return with_actors(build(settings, engine=engine, broker=broker))
