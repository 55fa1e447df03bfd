"""The real processes: `make run` on the embedded default, and the Procfile on PostgreSQL+Redis."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, func, select

from campaign.infra.tables import daily_activity
from events import EventStore, NewEvent
from tests.commands import BIN, SECRET_KEY, campaign, command_env, describe, run
from tests.databases import PostgresDatabases, engine_for
from tests.e2e.processes import free_port, http_status, procfile, running, start, wait_for

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB = 5  # away from the db 0 the other tests use


def test_make_run_serves_the_embedded_default(tmp_path: Path) -> None:
    env = command_env(VAR_DIR=str(tmp_path / "var"))
    upgraded = campaign("db", "upgrade", env=env, cwd=tmp_path)
    assert upgraded.returncode == 0, describe(upgraded)
    assert (tmp_path / "var" / "campaign.sqlite3").exists()
    port = free_port()
    argv = [str(BIN / "campaign"), "run", "--host", "127.0.0.1", "--port", str(port)]

    with running([start("run", argv, env, tmp_path)]) as processes:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: http_status(f"{base}/healthz") == 200 or None, "/healthz",
                 processes=processes)

        assert http_status(f"{base}/readyz") == 200
        # The worker threads and the clock inside the web process follow the log.
        with engine_for(f"sqlite:///{tmp_path / 'var' / 'campaign.sqlite3'}") as engine:
            append_three_events(engine)
            wait_for(lambda: projected(engine, 3), "the in-process worker to project 3 events",
                     processes=processes)


@pytest.mark.postgres
@pytest.mark.redis
def test_the_procfile_runs_on_postgres_and_redis(
    postgres_databases: PostgresDatabases, tmp_path: Path
) -> None:
    redis_url = os.environ["TEST_REDIS_URL"].rsplit("/", 1)[0] + f"/{REDIS_DB}"
    redis.Redis.from_url(redis_url).flushdb()
    port = free_port()
    with postgres_databases.empty() as database_url:
        env = command_env(
            DATABASE_URL=database_url, REDIS_URL=redis_url, SECRET_KEY=SECRET_KEY,
            PORT=str(port), WEB_CONCURRENCY="1", WORKER_PROCESSES="1", WORKER_THREADS="2",
        )
        commands = procfile(ROOT / "Procfile", env)
        assert set(commands) == {"release", "web", "worker", "clock"}
        assert f"0.0.0.0:{port}" in commands["web"]

        released = run(*commands["release"], env=env, cwd=ROOT)
        assert released.returncode == 0, describe(released)

        with running([start(name, commands[name], env, tmp_path)
                      for name in ("web", "worker", "clock")]) as processes:
            with engine_for(database_url) as engine:
                append_three_events(engine)
                wait_for(lambda: projected(engine, 3), "the worker to project 3 events",
                         processes=processes)

            wait_for(lambda: http_status(f"http://127.0.0.1:{port}/readyz") == 200 or None,
                     "web /readyz", processes=processes)

    # Each stops cleanly on SIGTERM, as on a deploy.
    assert {p.name: p.popen.returncode for p in processes} == {"web": 0, "worker": 0, "clock": 0}


def append_three_events(engine: Engine) -> None:
    store = EventStore(engine)
    store.append("case-1", [NewEvent("Opened", {}), NewEvent("Amended", {})])
    store.append("action-1", [NewEvent("Launched", {})])


def projected(engine: Engine, expected: int) -> bool | None:
    """True once daily_activity counts `expected` events, else None (keep polling)."""
    with engine.connect() as conn:
        total = conn.execute(select(func.sum(daily_activity.c.count))).scalar()
    return True if total == expected else None
