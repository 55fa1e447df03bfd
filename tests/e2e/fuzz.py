"""`make fuzz`: the Schemathesis CLI, every phase and check, against the real web process.

    scripts/with-services python -m tests.e2e.fuzz sqlite postgres [--max-examples N] [...]

Options it does not know go to `schemathesis run` (for example `--max-failures 5`).

For each backend: migrates a fresh database (an SQLite file in a temporary directory, or
a PostgreSQL database on scripts/with-services' server), seeds the world of
tests/e2e/fuzzing.py, starts the Procfile's `web` command (gunicorn) on it with the run's
Redis, and runs `schemathesis run` on its /api/openapi.json with the phases examples,
coverage, fuzzing and stateful and the checks of the contract test, the harness loaded as
hooks (tests/e2e/fuzz_hooks.py). No worker process runs, so nothing generated is mailed or
sent to a partner. Exits non-zero if any run failed; the reports stay under var/fuzz/.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from campaign.bootstrap import build
from campaign.infra.database import upgrade
from campaign.settings import Settings
from tests.commands import BIN, SECRET_KEY, command_env
from tests.databases import PostgresDatabases
from tests.e2e.fuzzing import RATE_LIMITS, seed
from tests.e2e.processes import free_port, http_status, procfile, running, start, wait_for

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
PHASES = "examples,coverage,fuzzing,stateful"
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance,response_headers_conformance,"
          "positive_data_acceptance,negative_data_rejection")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.fuzz")
    parser.add_argument("backends", nargs="+", choices=["sqlite", "postgres"])
    parser.add_argument("--max-examples", type=int, default=40)
    parser.add_argument("--seed", type=int, default=11)
    options, options.schemathesis = parser.parse_known_args(argv)  # the rest: `schemathesis run`
    failed = [backend for backend in options.backends if run(backend, options) != 0]
    print(f"fuzz: {', '.join(failed) + ' failed' if failed else 'every run passed'}")
    return 1 if failed else 0


def run(backend: str, options: argparse.Namespace) -> int:
    """One Schemathesis run against a server on `backend`; its exit status."""
    reports = ROOT / "var" / "fuzz" / backend
    reports.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work, database(backend, Path(work)) as url:
        env = command_env(DATABASE_URL=url, REDIS_URL=os.environ["TEST_REDIS_URL"],
                          SECRET_KEY=SECRET_KEY, VAR_DIR=f"{work}/var", LOG_LEVEL="WARNING",
                          WEB_CONCURRENCY="2", **RATE_LIMITS)
        partner_key = seed(build(Settings.from_env(env)))
        port = free_port()
        web = procfile(ROOT / "Procfile", {**env, "PORT": str(port)})["web"]
        web = [part.replace("0.0.0.0", "127.0.0.1") for part in web]
        with running([start("web", web, {**env, "PORT": str(port)}, Path(work))]) as servers:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: http_status(f"{base}/healthz") == 200 or None, "/healthz",
                     timeout=60, processes=servers)
            return fuzz(base, options, reports, {**env, "FUZZ_PARTNER_KEY": partner_key})


def fuzz(base: str, options: argparse.Namespace, reports: Path, env: dict[str, str]) -> int:
    """Run the Schemathesis CLI against `base`; its exit status."""
    argv = [str(BIN / "schemathesis"), "--config-file", str(CONFIG), "run",
            f"{base}/api/openapi.json", "--phases", PHASES, "--checks", CHECKS,
            "--mode", "all", "--max-examples", str(options.max_examples),
            "--seed", str(options.seed), "--workers", "2", "--continue-on-failure",
            "--report", "json,junit", "--report-dir", str(reports),
            *options.schemathesis]
    print(" ".join(argv), flush=True)
    started = time.monotonic()
    done = subprocess.run(argv, env={**env, "SCHEMATHESIS_HOOKS": "tests.e2e.fuzz_hooks",
                                     "PYTHONPATH": str(ROOT)}, cwd=ROOT, check=False)
    print(f"fuzz: {time.monotonic() - started:.0f} s, exit {done.returncode}", flush=True)
    return done.returncode


@contextmanager
def database(backend: str, work: Path) -> Iterator[str]:
    """A fresh, migrated database on `backend`."""
    if backend == "sqlite":
        url = f"sqlite:///{work / 'fuzz.sqlite3'}"
        upgrade(url)
        yield url
        return
    databases = PostgresDatabases(os.environ["TEST_POSTGRES_URL"])
    try:
        with databases.fresh() as url:
            yield url
    finally:
        databases.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
