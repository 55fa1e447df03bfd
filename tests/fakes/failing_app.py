"""A process with error reports on, in which a sign-up fails on a lost table and an actor
fails on a message it cannot handle.

Run by tests/integration/test_error_reports.py as `python -m tests.fakes.failing_app` with
the request to send on stdin (JSON: path, body and headers), in a process of its own:
`sentry_sdk.init` sets up the whole process, which a test run must not share. It starts
error reports as campaign.wsgi does, sends the request through the app, has a worker thread
handle a `run_subscription` message naming no subscription (sent under the correlation id
`WORKER_CORRELATION`), and prints the request's status once every event has gone out.
"""

from __future__ import annotations

import json
import sys

import sentry_sdk
from dramatiq import Worker
from sentry_sdk.integrations.dramatiq import DramatiqIntegration
from sentry_sdk.integrations.flask import FlaskIntegration
from sqlalchemy import text

from campaign.bootstrap import build
from campaign.infra.database import upgrade
from campaign.infra.error_reports import start_error_reports
from campaign.infra.logs import configure_logging, correlated
from campaign.settings import Settings
from campaign.web.app import create_app
from workers.actors import SUBSCRIPTIONS_QUEUE, declare_actors, run_subscription

WORKER_CORRELATION = "worker-side-1"


def main(request: dict[str, object]) -> int:
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    if not start_error_reports(settings.sentry_dsn, settings.sentry_environment,
                               [FlaskIntegration(), DramatiqIntegration()]):
        return 2
    upgrade(settings.database_url, "head")
    container = build(settings)
    app = create_app(container)
    with container.engine.begin() as conn:
        conn.execute(text("DROP TABLE personal_data_keys"))
    response = app.test_client().post(str(request["path"]), json=request["json"],
                                      headers=dict(request["headers"]))  # type: ignore[call-overload]
    declare_actors(container)
    worker = Worker(container.broker, worker_threads=1)
    worker.start()
    with correlated(WORKER_CORRELATION):
        container.queue.send(run_subscription.__name__, "no-such-subscription")
    container.broker.join(SUBSCRIPTIONS_QUEUE, fail_fast=False)  # type: ignore[attr-defined]
    worker.join()
    worker.stop()
    sentry_sdk.flush(timeout=10)
    print(response.status_code)
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.stdin.read())))
