"""A worker's metrics: Dramatiq's own Prometheus middleware, served on WORKER_METRICS_PORT.

Each worker process counts its messages (Dramatiq's middleware) and the campaign's outcomes
(campaign.infra.metrics) into files in PROMETHEUS_MULTIPROC_DIR; one extra process, which
Dramatiq forks beside the workers, serves their sum at WORKER_METRICS_HOST:PORT/metrics.
The middleware keeps its files where PROMETHEUS_MULTIPROC_DIR says, not in its own default
(`dramatiq_prom_db`), so one scrape reads both.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dramatiq
from dramatiq.middleware.prometheus import Prometheus
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from campaign.settings import ConfigError, metrics_settings


class WorkerMetrics(Prometheus):
    """Dramatiq's middleware, its files in `directory` and its server one of ours."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory

    @property
    def forks(self) -> list[Callable[[], Any]]:
        return [serve_worker_metrics]

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        super().after_process_boot(broker)  # type: ignore[no-untyped-call]
        # Dramatiq points the variable at its own directory; its counters only make their
        # files when first used, by then back here beside ours.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(self.directory)

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        mark_process_dead(os.getpid(), str(self.directory))  # type: ignore[no-untyped-call]


def add_worker_metrics(broker: dramatiq.Broker, port: int, directory: Path | None) -> None:
    """Count on `broker`'s worker and serve it on `port` (0: do nothing).

    ConfigError without PROMETHEUS_MULTIPROC_DIR: the worker's processes could not add up.
    """
    if not port:
        return
    if directory is None or os.environ.get("PROMETHEUS_MULTIPROC_DIR") != str(directory):
        raise ConfigError("WORKER_METRICS_PORT needs PROMETHEUS_MULTIPROC_DIR: an empty "
                          "directory the worker's processes share, set before it starts")
    broker.add_middleware(WorkerMetrics(directory))


def serve_worker_metrics() -> int:
    """Serve the sum of the worker processes' files until stopped (Dramatiq's fork process)."""
    settings = metrics_settings(os.environ)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(settings["metrics_dir"]))  # type: ignore[no-untyped-call]
    server, thread = start_http_server(settings["worker_metrics_port"],
                                       addr=settings["worker_metrics_host"], registry=registry)
    try:
        thread.join()
    finally:
        server.shutdown()
    return 0
