"""The `campaign` command, run as a real subprocess on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Table, delete, insert, select, update

from campaign.bootstrap import Container, build
from campaign.infra.tables import daily_activity, mail_recipient_failures, stream_directory
from campaign.settings import Settings
from events import NewEvent, SubscriptionRunner
from events.subscriptions import checkpoint_position, park
from tests.commands import SECRET_KEY, campaign, command_env, describe
from tests.databases import SqliteDatabases, engine_for


@pytest.fixture
def sqlite_url(sqlite_databases: SqliteDatabases) -> Iterator[str]:
    with sqlite_databases.fresh() as url:
        yield url


@pytest.fixture
def env(sqlite_url: str) -> dict[str, str]:
    return command_env(DATABASE_URL=sqlite_url, SECRET_KEY=SECRET_KEY)


@pytest.fixture
def container(sqlite_url: str, tmp_path: Path) -> Iterator[Container]:
    settings = Settings.from_env({"DATABASE_URL": sqlite_url, "SECRET_KEY": SECRET_KEY,
                                  "VAR_DIR": str(tmp_path / "var")})
    with engine_for(sqlite_url) as engine:
        yield build(settings, engine=engine)


def rows(engine: Engine, table: Table) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        query = select(table).order_by(*table.primary_key.columns)
        return [dict(row._mapping) for row in conn.execute(query)]


def test_projections_list_names_every_projection_with_its_mode(
    container: Container, env: dict[str, str]
) -> None:
    result = campaign("projections", "list", env=env)

    assert result.returncode == 0, describe(result)
    listed = [line.split("\t") for line in result.stdout.splitlines()]
    assert listed == [[p.name, p.mode] for p in container.projections.values()]
    assert ["stream_directory", "inline"] in listed
    assert ["daily_activity", "catch-up"] in listed


def test_projections_rebuild_replays_the_log_into_equal_read_models(
    container: Container, env: dict[str, str]
) -> None:
    store = container.store
    store.append("case-1", [NewEvent("Opened", {"n": 1}), NewEvent("Amended", {"n": 2})])
    store.append("action-1", [NewEvent("Launched", {"n": 3})])
    last = store.append("case-1", [NewEvent("Amended", {"n": 4})]).positions[-1]
    SubscriptionRunner(store, container.subscriptions["daily_activity"]).run()
    directory = rows(container.engine, stream_directory)
    activity = rows(container.engine, daily_activity)
    assert [row["stream_id"] for row in directory] == ["action-1", "case-1"]
    assert {row["event_type"]: row["count"] for row in activity} == {
        "Launched": 1, "Opened": 1, "Amended": 2,
    }
    with container.engine.begin() as conn:  # damage both read models
        conn.execute(delete(stream_directory).where(stream_directory.c.stream_id == "case-1"))
        conn.execute(update(daily_activity).values(count=daily_activity.c.count + 10))
        conn.execute(delete(daily_activity).where(daily_activity.c.event_type == "Opened"))

    result = campaign("projections", "rebuild", env=env)

    assert result.returncode == 0, describe(result)
    lines = result.stdout.splitlines()
    assert len(lines) == len(container.projections)
    assert "stream_directory: 4 events applied" in lines
    assert "daily_activity: 4 events applied" in lines
    assert rows(container.engine, stream_directory) == directory
    assert rows(container.engine, daily_activity) == activity
    assert checkpoint_position(store, "daily_activity") == last


def test_projections_rebuild_of_one_projection_leaves_the_others(
    container: Container, env: dict[str, str]
) -> None:
    container.store.append("case-1", [NewEvent("Opened", {"n": 1})])
    with container.engine.begin() as conn:
        conn.execute(delete(stream_directory))

    result = campaign("projections", "rebuild", "daily_activity", env=env)

    assert result.returncode == 0, describe(result)
    assert result.stdout.splitlines() == ["daily_activity: 1 events applied"]
    assert rows(container.engine, stream_directory) == []
    assert [row["count"] for row in rows(container.engine, daily_activity)] == [1]


def test_projections_rebuild_of_an_unknown_name_lists_the_known_ones(
    container: Container, env: dict[str, str],
) -> None:
    result = campaign("projections", "rebuild", "nosuch", env=env)

    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1, describe(result)
    assert "'nosuch'" in result.stderr
    assert all(p.name in result.stderr for p in container.projections.values())
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [
    ["projections", "rebuild"],
    ["projections", "rebuild", "daily_activity"],
    ["run", "--port", "1"],
    ["routes"],
])
def test_a_command_on_an_unmigrated_database_fails_with_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    database = tmp_path / "empty.sqlite3"
    database.touch()
    env = command_env(DATABASE_URL=f"sqlite:///{database}", SECRET_KEY=SECRET_KEY)

    result = campaign(*command, env=env)

    assert result.returncode != 0
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, describe(result)
    assert "never migrated" in result.stderr
    assert "campaign db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_command_with_a_bad_configuration_fails_with_one_line(tmp_path: Path) -> None:
    env = command_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    result = campaign("projections", "rebuild", env=env)

    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1, describe(result)
    assert "SECRET_KEY is required" in result.stderr


def test_subscriptions_list_and_parked_show_operators_what_was_set_aside(
    container: Container, env: dict[str, str]
) -> None:
    store = container.store
    store.append("case-1", [NewEvent("Opened", {}), NewEvent("Opened", {})])
    first = store.read_all()[0]
    with container.engine.begin() as conn:
        park(conn, "cases", first, ValueError("a value"))

    listed = campaign("subscriptions", "list", env=env)
    set_aside = campaign("subscriptions", "parked", "cases", env=env)

    assert listed.returncode == 0, describe(listed)
    assert set_aside.returncode == 0, describe(set_aside)
    assert "parked 1" in next(line for line in listed.stdout.splitlines()
                              if line.startswith("cases\t"))
    position, event_id, event_type, error = set_aside.stdout.split("\t")[:4]
    assert (int(position), event_id, event_type, error) == (
        first.position, str(first.event_id), "Opened", "ValueError")


def test_mail_failures_lists_the_recipients_left_out_newest_first_without_personal_data(
    container: Container, env: dict[str, str]
) -> None:
    with container.engine.begin() as conn:
        conn.execute(insert(mail_recipient_failures), [
            {"delivery_id": f"d-{n}", "mailing_id": f"mailing-{n % 2}", "batch_id": "b-1",
             "supporter_id": f"s-{n}", "reason": "the name contains a line break",
             "failed_at": datetime(2026, 12, 6, 10, n, tzinfo=UTC)} for n in range(3)])

    every = campaign("mail", "failures", env=env)
    one_mailing = campaign("mail", "failures", "--mailing", "mailing-1", env=env)

    assert every.returncode == 0 and one_mailing.returncode == 0, describe(every)
    assert [line.split("\t")[2] for line in every.stdout.splitlines()] == ["s-2", "s-1", "s-0"]
    assert "2026-12-06 10:02:00 UTC\tmailing-0\ts-2\tthe name contains a line break" \
        in every.stdout
    assert "3 recipients left out" in every.stderr
    assert [line.split("\t")[2] for line in one_mailing.stdout.splitlines()] == ["s-1"]
