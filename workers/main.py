"""Entry point of the `worker` and `clock` processes (see the Procfile).

`dramatiq workers.main` imports this module: the broker is installed from the
environment before any actor is declared. `python -m workers.main` runs the clock.
"""

from __future__ import annotations

import signal
import sys
import threading

from sentry_sdk.integrations.dramatiq import DramatiqIntegration
from sqlalchemy.exc import OperationalError

from campaign.bootstrap import build
from campaign.infra.database import DatabaseNotMigrated, ensure_migrated
from campaign.infra.error_reports import start_error_reports
from campaign.infra.logs import configure_logging
from campaign.settings import ConfigError, Settings
from workers.actors import declare_actors
from workers.clock import run_clock
from workers.metrics import add_worker_metrics

try:
    settings = Settings.from_env()
    # Replaces the handler `dramatiq` gave the root logger when it runs without --skip-logging.
    configure_logging(settings.log_level, settings.log_format, replace=True)
    start_error_reports(settings.sentry_dsn, settings.sentry_environment,
                        [DramatiqIntegration()])
    container = build(settings)
    ensure_migrated(container.engine)
    if __name__ != "__main__":  # imported by `dramatiq workers.main`: a worker, not the clock
        add_worker_metrics(container.broker, settings.worker_metrics_port, settings.metrics_dir)
except (ConfigError, DatabaseNotMigrated) as exc:
    sys.exit(f"campaign worker: {exc}")
except OperationalError as exc:  # one line for the operator, not a page of traceback
    sys.exit(f"campaign worker: {settings.database_unreachable(exc)}")
actors = declare_actors(container)

CLOCK_INTERVAL_SECONDS = 1.0


def clock() -> None:
    """Run the clock in the foreground until SIGTERM or SIGINT."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run_clock(container, CLOCK_INTERVAL_SECONDS, stop)


if __name__ == "__main__":
    clock()
