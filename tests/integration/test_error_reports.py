"""Error reports (SENTRY_DSN) leave the process with nothing personal in them.

A process with error reports on (tests/fakes/failing_app.py) has a sign-up fail on a lost
table and an actor fail; the real SDK sends the events to a local stand-in for Sentry, which
keeps every byte it received. The request carried a distinctive address and name in its
body and query, a link token, a bearer token and a session cookie: none of it may be in
what arrived.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.commands import BIN, command_env, describe
from tests.fakes.failing_app import WORKER_CORRELATION
from tests.fakes.sentry_server import FakeSentry
from tests.integration.api.conftest import sign_up_body

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "octavia.brightwater@example.org"
NAME = "Octavia Brightwater"
LINK_TOKEN = "eyJzdXBwb3J0ZXIiOiJvY3RhdmlhIn0.Zk3pQw.linktoken9f8e7d"
BEARER = "cat_9yXq2LmN4pR7sT1vW3zB5dF8hJ0kQ6"
COOKIE = "session-cookie-value-55aa77bb99cc"
REQUEST_ID = "sign-up-that-fails-1"


def test_errors_in_a_request_and_an_actor_reach_sentry_with_nothing_personal_in_them(
    tmp_path: Path,
) -> None:
    request = {
        "path": f"/api/v1/supporters?token={LINK_TOKEN}&email={EMAIL}",
        "json": sign_up_body(EMAIL, NAME),
        "headers": {"Authorization": f"Bearer {BEARER}", "Cookie": f"session={COOKIE}",
                    "X-Request-ID": REQUEST_ID, "User-Agent": "error-report-test"},
    }
    with FakeSentry() as sentry:
        env = command_env(VAR_DIR=str(tmp_path / "var"), SENTRY_DSN=sentry.dsn,
                          SENTRY_ENVIRONMENT="test")
        child = subprocess.run(
            [str(BIN / "python"), "-m", "tests.fakes.failing_app"], env=env, cwd=ROOT,
            input=json.dumps(request), capture_output=True, text=True, timeout=60, check=False)
        assert child.returncode == 0, describe(child)
        assert child.stdout.strip() == "500", describe(child)
        events, raw = sentry.events(), sentry.raw().decode()

    assert sentry.refused == []
    [event] = [e for e in events if "unhandled error" in json.dumps(e.get("logentry"))]
    assert event["environment"] == "test"
    assert event["tags"]["correlation_id"] == REQUEST_ID
    assert event["request"]["method"] == "POST"
    assert event["request"]["url"].endswith("/api/v1/supporters")
    assert "OperationalError" in json.dumps(event["exception"])  # the error itself is there
    personal = {"e-mail": EMAIL, "name": NAME, "first name": "Octavia",
                "family name": "Brightwater", "link token": LINK_TOKEN,
                "bearer token": BEARER, "cookie": COOKIE}
    assert {what: value for what, value in personal.items() if value in raw} == {}
    # Dramatiq logs the failure with its traceback before its middleware sees it: the SDK
    # reports that record and drops the middleware's copy of the same error.
    [in_actor] = [e for e in events if e.get("logger") == "dramatiq.worker.WorkerThread"]
    assert in_actor["exception"]["values"][-1]["type"] == "KeyError"
    assert in_actor["tags"]["correlation_id"] == WORKER_CORRELATION
