"""WSGI entry for gunicorn: `gunicorn 'campaign.wsgi:app'`.

Without REDIS_URL (the embedded default) the workers and the clock run inside this process.
Logs go to stderr in LOG_FORMAT; with SENTRY_DSN, errors go to Sentry too (before the broker
is made: the Dramatiq integration wraps brokers as they are created).
"""

from __future__ import annotations

import sys

from sentry_sdk.integrations.dramatiq import DramatiqIntegration
from sentry_sdk.integrations.flask import FlaskIntegration
from sqlalchemy.exc import OperationalError

from campaign.bootstrap import build
from campaign.infra.database import DatabaseNotMigrated, ensure_migrated
from campaign.infra.error_reports import start_error_reports
from campaign.infra.logs import configure_logging
from campaign.settings import ConfigError, Settings
from campaign.web.app import create_app
from workers.actors import QUEUES
from workers.embedded import probes, start_if_embedded

try:
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    start_error_reports(settings.sentry_dsn, settings.sentry_environment,
                        [FlaskIntegration(), DramatiqIntegration()])
    container = build(settings)
    ensure_migrated(container.engine)  # before any worker thread starts
    app = create_app(container, probes(container, start_if_embedded(container)), QUEUES)
except (ConfigError, DatabaseNotMigrated) as exc:
    sys.exit(f"campaign web: {exc}")
except OperationalError as exc:  # one line for the operator, not a page of traceback
    sys.exit(f"campaign web: {settings.database_unreachable(exc)}")
