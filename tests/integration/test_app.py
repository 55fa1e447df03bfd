"""The web app: refuses an un-migrated database, answers probes, and speaks problem+json."""

from __future__ import annotations

import dataclasses
import os
import socket
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from campaign.bootstrap import Container, build
from campaign.infra.database import DatabaseNotMigrated, upgrade
from campaign.settings import Settings
from campaign.web.app import create_app
from events import create_store_engine
from tests.commands import BIN, SECRET_KEY, command_env, describe, run
from workers.embedded import probes

PROBLEM_JSON = "application/problem+json"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")


def app_for(container: Container) -> Flask:
    """The app as the web process makes it, with the readiness probes of its workers."""
    return create_app(container, probes(container, None))


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sqlite_settings(tmp_path: Path, name: str) -> Settings:
    return Settings.from_env({
        "DATABASE_URL": f"sqlite:///{tmp_path / name}",
        "SECRET_KEY": SECRET_KEY,
        "VAR_DIR": str(tmp_path / "var"),
    })


def test_the_app_refuses_a_database_that_was_never_migrated(tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path, "empty.sqlite3")

    with pytest.raises(DatabaseNotMigrated, match="never migrated.*`campaign db upgrade`"):
        create_app(build(settings))


def test_the_app_refuses_a_database_behind_the_newest_migration(tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path, "old.sqlite3")
    upgrade(settings.database_url, "0001")

    with pytest.raises(DatabaseNotMigrated, match="at revision 0001.*`campaign db upgrade`"):
        create_app(build(settings))


def test_the_wsgi_entry_exits_with_one_line_naming_the_upgrade_command(tmp_path: Path) -> None:
    database = tmp_path / "empty.sqlite3"
    database.touch()
    env = command_env(DATABASE_URL=f"sqlite:///{database}", SECRET_KEY=SECRET_KEY)

    result = run(str(BIN / "python"), "-c", "import campaign.wsgi", env=env)

    assert result.returncode != 0, describe(result)
    assert len(result.stderr.splitlines()) == 1, describe(result)
    assert "campaign db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_healthz_says_the_process_is_alive(container: Container) -> None:
    response = app_for(container).test_client().get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_ready_when_the_database_answers(container: Container) -> None:
    response = app_for(container).test_client().get("/readyz")

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"status": "ready", "stuck_subscriptions": []}


def test_readyz_is_unavailable_when_the_database_is_unreachable(
    container: Container, tmp_path: Path
) -> None:
    app = app_for(container)
    url = make_url(container.settings.database_url)
    if url.get_backend_name() == "sqlite":
        unreachable = f"sqlite:///{tmp_path / 'no-such-directory' / 'db.sqlite3'}"
    else:
        unreachable = url.set(port=closed_port()).render_as_string(hide_password=False)
    container.engine.dispose()
    app.extensions["campaign"] = dataclasses.replace(
        container, engine=create_store_engine(unreachable)
    )

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json(force=True)
    assert body["status"] == 503
    assert "database unreachable" in body["detail"]


@pytest.mark.redis
def test_readyz_is_ready_when_redis_answers(container: Container) -> None:
    with_redis = build(dataclasses.replace(container.settings, redis_url=REDIS_URL),
                       engine=container.engine)

    response = app_for(with_redis).test_client().get("/readyz")

    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.redis
def test_readyz_is_unavailable_when_redis_is_unreachable(container: Container) -> None:
    closed = f"redis://127.0.0.1:{closed_port()}/0"
    without_redis = build(dataclasses.replace(container.settings, redis_url=closed),
                          engine=container.engine)

    response = app_for(without_redis).test_client().get("/readyz")

    assert response.status_code == 503
    assert response.mimetype == PROBLEM_JSON
    detail = response.get_json(force=True)["detail"]
    assert "redis unreachable" in detail
    assert "database" not in detail


def test_an_unknown_url_is_a_404_problem(container: Container) -> None:
    response = app_for(container).test_client().get("/no/such/page")

    assert response.status_code == 404
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json(force=True)
    assert body["status"] == 404
    assert body["title"] == "Not Found"


def test_a_wrong_method_is_a_405_problem_with_the_allowed_methods(container: Container) -> None:
    response = app_for(container).test_client().post("/healthz")

    assert response.status_code == 405
    assert response.mimetype == PROBLEM_JSON
    assert response.get_json(force=True)["status"] == 405
    assert "GET" in response.headers["Allow"]
    assert "POST" not in response.headers["Allow"]


def test_an_unexpected_error_is_a_500_problem_that_hides_the_exception(
    container: Container,
) -> None:
    app = app_for(container)

    @app.get("/explode")
    def explode() -> str:
        raise RuntimeError("supporter jane@example.org could not be processed")

    response = app.test_client().get("/explode")

    assert response.status_code == 500
    assert response.mimetype == PROBLEM_JSON
    body = response.get_data(as_text=True)
    assert response.get_json(force=True)["status"] == 500
    assert "jane@example.org" not in body
    assert "RuntimeError" not in body
