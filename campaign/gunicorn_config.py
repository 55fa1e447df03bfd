"""gunicorn's configuration file, as the Procfile names it
(`gunicorn --config python:campaign.gunicorn_config …`).

It gives gunicorn's own lines (the master's "Booting worker", a worker's timeout) the
format of ours, LOG_FORMAT: the master logs before any of our code runs in a worker, so
only its configuration can. Everything else stays on the command line.
"""

from __future__ import annotations

from campaign.infra.logs import logging_config
from campaign.settings import ConfigError, Settings

try:
    _settings = Settings.from_env()
except ConfigError:
    pass  # campaign.wsgi says what is wrong, in one line, when the worker loads it
else:
    logconfig_dict = logging_config(_settings.log_level, _settings.log_format)
