"""The Flask application factory."""

from __future__ import annotations

import atexit
from collections.abc import Mapping
from typing import Any

from flask import Flask

from campaign.bootstrap import Services, bootstrap
from campaign.infra.database import ensure_migrated
from campaign.settings import Settings
from campaign.web import health
from campaign.web.api import init_api
from campaign.web.context import register_request_context
from campaign.web.pages import action as action_page
from campaign.web.pages import confirmation as confirmation_page
from campaign.web.pages import unsubscribe
from campaign.web.problems import register_problem_handlers


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; `test_config` may carry SETTINGS, SERVICES and START_WORKERS.

    Refuses to start (DatabaseNotMigrated) on a database that is not at the newest
    migration. Without REDIS_URL, worker threads and the clock run inside this process.
    """
    config = dict(test_config or {})
    app = Flask(__name__)
    app.config.update(config)
    services: Services = config.get("SERVICES") or bootstrap(
        config.get("SETTINGS") or Settings.from_env()
    )
    ensure_migrated(services.engine)
    app.config["SECRET_KEY"] = services.settings.secret_key
    app.extensions["campaign"] = services
    _attach_workers(app, services, start=config.get("START_WORKERS", True))
    register_request_context(app)
    register_problem_handlers(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(unsubscribe.blueprint)
    app.register_blueprint(confirmation_page.blueprint)
    app.register_blueprint(action_page.blueprint)
    init_api(app)
    return app


def _attach_workers(app: Flask, services: Services, start: bool) -> None:
    """Install the broker; in the embedded default, also run workers in this process."""
    from campaign.infra.queue import create_broker

    broker = create_broker(services.settings.redis_url)
    state: dict[str, Any] = {"broker": broker, "in_process": None}
    if start and not services.settings.uses_redis:
        from workers.embedded import start_in_process

        state["in_process"] = start_in_process(broker, services)
        atexit.register(state["in_process"].stop)
    app.extensions["campaign.workers"] = state
