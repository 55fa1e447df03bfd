"""A web process with error reports on, in which a sign-up fails on a lost table.

Run by tests/integration/test_error_reports.py as `python -m tests.fakes.failing_sign_up`
with the request to send on stdin (JSON: path, body and headers), in a process of its own:
`sentry_sdk.init` sets up the whole process, which a test run must not share. It starts
error reports as campaign.wsgi does, sends the request through the app and prints the
status once every event has gone out.
"""

from __future__ import annotations

import json
import sys

import sentry_sdk
from sentry_sdk.integrations.dramatiq import DramatiqIntegration
from sentry_sdk.integrations.flask import FlaskIntegration
from sqlalchemy import text

from campaign.bootstrap import build
from campaign.infra.database import upgrade
from campaign.infra.error_reports import start_error_reports
from campaign.infra.logs import configure_logging
from campaign.settings import Settings
from campaign.web.app import create_app


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
    sentry_sdk.flush(timeout=10)
    print(response.status_code)
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.stdin.read())))
