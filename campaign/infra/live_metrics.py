"""Figures read when Prometheus scrapes: where each subscription stands, how full each queue is.

Nothing here is kept in memory between scrapes, so every web process answers the same and
a restart loses nothing. A source that cannot be read (the database, Redis) is reported as
`campaign_metrics_source_up{source=...} 0` and its figures left out, rather than failing
the whole scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name, xq_name
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from campaign.infra.clock import utc_now
from events.status import SubscriptionState, subscription_states

log = logging.getLogger(__name__)

QueueFigures = dict[str, tuple[int, int, int]]
"""Per queue: messages waiting, delayed, dead-lettered."""


class LiveMetrics(Collector):
    """Subscription lag and stuck flags from the database, queue depths from the broker."""

    def __init__(self, engine: Engine, broker: dramatiq.Broker, queues: Sequence[str],
                 clock: Callable[[], datetime] = utc_now,
                 subscriptions: Sequence[str] = ()) -> None:
        self.engine = engine
        self.broker = broker
        self.queues = sorted(set(queues))
        self.clock = clock
        self.subscriptions = tuple(subscriptions)
        """Those expected to run: one that never did is reported behind by the whole log."""

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("campaign_metrics_source_up",
                               "1 when the source of the figures below could be read now.",
                               labels=["source"])
        states = self._states()
        up.add_metric(["database"], 0 if states is None else 1)
        yield from subscription_metrics(states or [])
        figures = self._queue_figures()
        up.add_metric(["broker"], 0 if figures is None else 1)
        yield from queue_metrics(figures or {})
        yield up

    def _states(self) -> list[SubscriptionState] | None:
        try:
            with self.engine.connect() as conn:
                return subscription_states(conn, self.clock(), self.subscriptions)
        except Exception as exc:  # noqa: BLE001 - reported as a source down, not a failed scrape
            log.warning("metrics: cannot read the subscriptions (%s)", type(exc).__name__)
            return None

    def _queue_figures(self) -> QueueFigures | None:
        try:
            return queue_figures(self.broker, self.queues)
        except Exception as exc:  # noqa: BLE001 - reported as a source down, not a failed scrape
            log.warning("metrics: cannot read the queues (%s)", type(exc).__name__)
            return None


def subscription_metrics(states: Sequence[SubscriptionState]) -> list[Metric]:
    """Lag in events and seconds, stuck (0 or 1) and parked events, by subscription."""
    label = ["subscription"]
    lag_events = GaugeMetricFamily(
        "campaign_subscription_lag_events",
        "Events in the log after the subscription's checkpoint.", labels=label)
    lag_seconds = GaugeMetricFamily(
        "campaign_subscription_lag_seconds",
        "Age of the oldest event the subscription has not handled yet; 0 when caught up.",
        labels=label)
    stuck = GaugeMetricFamily(
        "campaign_subscription_stuck",
        "1 while the subscription is stopped at a failed position, waiting for a retry.",
        labels=label)
    parked = GaugeMetricFamily(
        "campaign_subscription_parked_events",
        "Events the subscription set aside as impossible to handle.", labels=label)
    for state in states:
        if state.lag_events is not None:
            lag_events.add_metric([state.name], state.lag_events)
        if state.lag_seconds is not None:
            lag_seconds.add_metric([state.name], state.lag_seconds)
        stuck.add_metric([state.name], 1 if state.stuck else 0)
        parked.add_metric([state.name], state.parked)
    return [lag_events, lag_seconds, stuck, parked]


def queue_metrics(figures: QueueFigures) -> list[Metric]:
    """Messages waiting, delayed and dead-lettered, by Dramatiq queue."""
    label = ["queue"]
    depth = GaugeMetricFamily(
        "campaign_queue_depth", "Messages waiting in the queue for a worker.", labels=label)
    delayed = GaugeMetricFamily(
        "campaign_queue_delayed_messages",
        "Messages sent with a delay (retries, waits) not yet moved to the queue.", labels=label)
    dead = GaugeMetricFamily(
        "campaign_queue_dead_letters",
        "Messages whose retries ran out, kept by Dramatiq for a week.", labels=label)
    for queue, (waiting, later, dropped) in sorted(figures.items()):
        depth.add_metric([queue], waiting)
        delayed.add_metric([queue], later)
        dead.add_metric([queue], dropped)
    return [depth, delayed, dead]


def queue_figures(broker: dramatiq.Broker, queues: Sequence[str]) -> QueueFigures:
    """Read each queue's figures from Redis (one round trip) or from the in-memory broker.

    Redis keys as Dramatiq's RedisBroker lays them out: `<ns>:<queue>` lists the waiting
    message ids, `<ns>:<queue>.DQ.msgs` holds the delayed ones, `<ns>:<queue>.XQ` the dead.
    """
    if isinstance(broker, RedisBroker):
        pipe = broker.client.pipeline(transaction=False)
        for queue in queues:
            pipe.llen(f"{broker.namespace}:{queue}")
            pipe.hlen(f"{broker.namespace}:{dq_name(queue)}.msgs")
            pipe.zcard(f"{broker.namespace}:{xq_name(queue)}")
        found = pipe.execute()
        return {q: (int(found[3 * i]), int(found[3 * i + 1]), int(found[3 * i + 2]))
                for i, q in enumerate(queues)}
    if isinstance(broker, StubBroker):
        def size(name: str) -> int:
            queue = broker.queues.get(name)
            return 0 if queue is None else int(queue.qsize())

        return {q: (size(q), size(dq_name(q)), len(broker.dead_letters_by_queue.get(q, [])))
                for q in queues}
    return {}
