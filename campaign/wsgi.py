"""WSGI entry for gunicorn: `gunicorn 'campaign.wsgi:app'`."""

from __future__ import annotations

import sys

from campaign.infra.database import DatabaseNotMigrated
from campaign.settings import ConfigError, Settings
from campaign.web.app import create_app

try:
    settings = Settings.from_env()
    settings.configure_logging()
    app = create_app({"SETTINGS": settings})
except (ConfigError, DatabaseNotMigrated) as exc:
    sys.exit(f"campaign web: {exc}")
