"""Running the product's own commands (`campaign`, `python -c ...`) as subprocesses.

The environment is the test run's own, minus every variable the product reads, so a
developer's DATABASE_URL or REDIS_URL never leaks into a test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
"""The virtualenv's bin directory: `campaign`, `gunicorn`, `dramatiq` and `python` live here."""

SECRET_KEY = "test-secret-key-" + "x" * 32

PRODUCT_VARIABLES = (
    "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "LOG_LEVEL", "VAR_DIR",
    "PORT", "WEB_CONCURRENCY", "WORKER_PROCESSES", "WORKER_THREADS",
    "FLASK_APP", "FLASK_DEBUG", "FLASK_RUN_PORT", "FLASK_RUN_HOST", "REMINDER_OFFSETS_DAYS",
    "WEBHOOK_ALLOW_PRIVATE", "CAMPAIGN_ALERT_EMAIL", "MAIL_FROM", "PUBLIC_BASE_URL",
    "TRUSTED_PROXY_HOPS", "UNCONFIRMED_RETENTION_DAYS", "LOG_FORMAT",
    "SECRET_KEY_PREVIOUS", "ALERT_STUCK_AFTER_SECONDS",
)
PRODUCT_PREFIXES = ("SENDGRID_", "RATE_LIMIT_", "SENTRY_")


def command_env(**variables: str) -> dict[str, str]:
    """This process's environment without the product's variables, plus `variables`."""
    env = {k: v for k, v in os.environ.items()
           if k not in PRODUCT_VARIABLES and not k.startswith(PRODUCT_PREFIXES)}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(variables)
    return env


def run(
    *argv: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion, capturing its output as text."""
    return subprocess.run(
        list(argv), env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
        check=False,
    )


def campaign(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `campaign ARGS...` from the virtualenv."""
    return run(str(BIN / "campaign"), *args, env=env, cwd=cwd)


def describe(result: subprocess.CompletedProcess[str]) -> str:
    """A command's exit code and output, for assertion messages."""
    return f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
