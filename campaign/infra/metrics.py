"""What the processes count, and the Prometheus text that shows it.

The counters live here, one table, so every name is spelled once; the code that decides an
outcome increments them. Under gunicorn (or several worker processes) each process counts
on its own: with PROMETHEUS_MULTIPROC_DIR set, prometheus-client keeps the counts in files
there and a scrape adds up every process's. Labels carry kinds and outcomes only, never
an id of anyone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROCESS_DIR: Final = "PROMETHEUS_MULTIPROC_DIR"

HTTP_REQUEST_SECONDS: Final = Histogram(
    "campaign_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status.",
    ["method", "route", "status"],
)
EVENTS_APPENDED: Final = Counter(
    "campaign_events_appended_total", "Events written to the log, by type.", ["type"])
MAIL_BATCHES: Final = Counter(
    "campaign_mail_batches_total",
    "Mail batches handled, by outcome: accepted, refused (for good), empty (nobody left "
    "to send to), deferred (the provider asked to wait or failed for now).",
    ["outcome"])
MAIL_RECIPIENTS: Final = Counter(
    "campaign_mail_recipients_total",
    "Recipients of mail batches, by outcome: accepted, refused (their batch was), left_out "
    "(their personalization could not be made).",
    ["outcome"])
WEBHOOK_DELIVERIES: Final = Counter(
    "campaign_webhook_deliveries_total",
    "Webhook delivery attempts, by outcome: succeeded, failed, rate_limited, gone, cancelled.",
    ["outcome"])
WEBHOOK_DELIVERY_SECONDS: Final = Histogram(
    "campaign_webhook_delivery_seconds",
    "Time a partner took to answer a webhook delivery (or to fail to).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0))


def count_appended(types: Sequence[str]) -> None:
    """The event store's observer: count what an append wrote, by event type."""
    for event_type in types:
        EVENTS_APPENDED.labels(event_type).inc()


def multiprocess() -> bool:
    """Whether counts are kept in PROMETHEUS_MULTIPROC_DIR for several processes."""
    return bool(os.environ.get(MULTIPROCESS_DIR))


class _Together(Collector):
    """Several collectors read as one, in order (no registry: nothing is kept)."""

    def __init__(self, parts: Sequence[Collector]) -> None:
        self.parts = parts

    def collect(self) -> Iterable[Metric]:
        for part in self.parts:
            yield from part.collect()


def exposition(*live: Collector) -> tuple[bytes, str]:
    """The text format of every process's counts (or this one's), then of `live`, which
    reads its figures now; and its content type."""
    counted: Collector = (MultiProcessCollector(None)  # type: ignore[no-untyped-call]
                          if multiprocess() else REGISTRY)
    return generate_latest(_Together([counted, *live])), CONTENT_TYPE_LATEST
