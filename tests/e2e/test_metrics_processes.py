"""Metrics from the Procfile's real processes: two gunicorn workers add up, and a Dramatiq
worker serves its own on WORKER_METRICS_PORT (PostgreSQL and Redis)."""

from __future__ import annotations

import json
import os
import re
import urllib.request
from pathlib import Path

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from tests.commands import SECRET_KEY, command_env, describe, run
from tests.databases import PostgresDatabases
from tests.e2e.processes import free_port, http_status, procfile, running, start, wait_for

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB = 6  # away from the db 0 the other tests use, and from test_processes' 5
REQUESTS = 40

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def total(samples: Samples, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, pairs), v in samples.items() if n == name and wanted <= pairs)


def pids(directory: Path) -> set[str]:
    """The processes that left counts in a multiprocess directory (`<kind>_<pid>.db`)."""
    return {m[1] for f in directory.iterdir() if (m := re.search(r"_(\d+)\.db$", f.name))}


@pytest.mark.postgres
@pytest.mark.redis
def test_two_gunicorn_workers_and_a_dramatiq_worker_each_report_their_sum(
    postgres_databases: PostgresDatabases, tmp_path: Path,
) -> None:
    redis_url = os.environ["TEST_REDIS_URL"].rsplit("/", 1)[0] + f"/{REDIS_DB}"
    redis.Redis.from_url(redis_url).flushdb()
    port, worker_port = free_port(), free_port()
    web_dir, worker_dir = tmp_path / "web-metrics", tmp_path / "worker-metrics"
    web_dir.mkdir()
    worker_dir.mkdir()
    with postgres_databases.empty() as database_url:
        env = command_env(
            DATABASE_URL=database_url, REDIS_URL=redis_url, SECRET_KEY=SECRET_KEY,
            PORT=str(port), WEB_CONCURRENCY="2", WORKER_PROCESSES="2", WORKER_THREADS="2",
            WORKER_METRICS_PORT=str(worker_port),
        )
        commands = procfile(ROOT / "Procfile", env)
        released = run(*commands["release"], env=env, cwd=ROOT)
        assert released.returncode == 0, describe(released)
        web = start("web", commands["web"], {**env, "PROMETHEUS_MULTIPROC_DIR": str(web_dir)},
                    tmp_path)
        worker = start("worker", commands["worker"],
                       {**env, "PROMETHEUS_MULTIPROC_DIR": str(worker_dir)}, tmp_path)
        clock = start("clock", commands["clock"], env, tmp_path)

        with running([web, worker, clock]) as processes:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: http_status(f"{base}/healthz") == 200 or None, "/healthz",
                     processes=processes)
            healthz = {"route": "/healthz", "status": "200", "method": "GET"}
            count = "campaign_http_request_duration_seconds_count"
            before = total(scrape(f"{base}/metrics"), count, **healthz)
            for _ in range(REQUESTS):
                assert http_status(f"{base}/healthz") == 200
            sign_up = urllib.request.Request(
                f"{base}/api/v1/supporters", method="POST",
                headers={"Content-Type": "application/json"},
                data=json.dumps({"email": "grace.hopper.9c1e@example.org", "name": "Grace",
                                 "locale": "en", "country": "GB",
                                 "timezone": "Europe/London"}).encode())
            with urllib.request.urlopen(sign_up, timeout=10) as response:
                assert response.status == 202

            # Whichever gunicorn worker answers the scrape, it reports both workers' sum.
            scrapes = [scrape(f"{base}/metrics") for _ in range(6)]
            assert len(pids(web_dir)) == 2
            assert [total(s, count, **healthz) - before for s in scrapes] == [REQUESTS] * 6
            assert total(scrapes[-1], "campaign_metrics_source_up", source="broker") == 1
            assert ("campaign_queue_depth", frozenset({("queue", "mail")})) in scrapes[-1]

            # The worker: Dramatiq's own counters and the campaign's, from its processes.
            def worked() -> Samples | None:
                found = scrape(f"http://127.0.0.1:{worker_port}/metrics") \
                    if http_status(f"http://127.0.0.1:{worker_port}/metrics") == 200 else {}
                resolved = total(found, "campaign_events_appended_total")
                return found if resolved and total(
                    found, "dramatiq_messages_total", actor_name="run_subscription") else None

            samples = wait_for(worked, "the worker's metrics", processes=processes)
            assert total(samples, "dramatiq_message_duration_milliseconds_count",
                         queue_name="subscriptions") > 0
            assert len(pids(worker_dir)) >= 1
            assert not list(Path("/tmp/dramatiq-prometheus").glob(f"*_{worker.popen.pid}.db"))
