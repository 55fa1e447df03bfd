"""The Flask application factory: one app per Container."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import Flask

from campaign.bootstrap import Container
from campaign.infra.database import ensure_migrated
from campaign.web import health, metrics
from campaign.web.api import init_api
from campaign.web.api.json_body import DepthCheckedJSONProvider
from campaign.web.console import SCREENS
from campaign.web.console.session import configure as configure_console
from campaign.web.context import install, register_request_context
from campaign.web.headers import register_security_headers
from campaign.web.limits import install_limits
from campaign.web.pages import action, confirmation, join, manage, unsubscribe
from campaign.web.problems import register_problem_handlers
from campaign.web.redaction import redact_tokens_in_logs

MAX_BODY_BYTES = 1024 * 1024
"""Every request body, unless its endpoint says otherwise (partner inbound: less; SendGrid's
event batches: more, through `request.max_content_length`). Larger ones get 413."""


def create_app(container: Container,
               probes: Sequence[Callable[[], str | None]] = (),
               queues: Sequence[str] = ()) -> Flask:
    """The app serving `container`; `probes` are readiness checks besides the database,
    `queues` the Dramatiq queues whose depth /metrics shows.

    Refuses to start (DatabaseNotMigrated) on a database that is not at the newest
    migration. Starting workers is the entry point's business (campaign.wsgi, `campaign run`).
    """
    ensure_migrated(container.engine)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = container.settings.secret_key
    # Console sessions and their CSRF tokens made before SECRET_KEY was replaced stay valid
    # (itsdangerous signs with the last key of a list and verifies with every one).
    app.config["SECRET_KEY_FALLBACKS"] = list(container.settings.secret_keys_previous)
    app.config["WTF_CSRF_SECRET_KEY"] = list(reversed(container.settings.secret_keys))
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json = DepthCheckedJSONProvider(app)
    app.jinja_env.add_extension("jinja2.ext.i18n")  # pages: campaign.web.pages.render_page
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # as `make messages` extracts them
    install(app, container)
    register_request_context(app)
    metrics.instrument(app)
    register_problem_handlers(app)
    register_security_headers(app)
    app.register_blueprint(health.blueprint(probes))
    app.register_blueprint(metrics.blueprint(queues))
    for page in (unsubscribe, confirmation, action, manage, join):
        app.register_blueprint(page.blueprint)
    configure_console(app, container.settings.public_base_url)
    for screen in SCREENS:
        app.register_blueprint(screen)
    init_api(app)
    settings = container.settings
    install_limits(app, vars(settings.rate_limits), settings.redis_url,
                   settings.trusted_proxy_hops)
    redact_tokens_in_logs()
    return app
