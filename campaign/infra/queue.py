"""Choose and install the Dramatiq broker; must run before any actor is declared."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker


def create_broker(redis_url: str | None) -> dramatiq.Broker:
    """Redis when REDIS_URL is set; otherwise the in-memory broker for in-process workers."""
    broker: dramatiq.Broker
    if redis_url:
        broker = RedisBroker(url=redis_url)  # type: ignore[no-untyped-call]
    else:
        broker = StubBroker()
        broker.emit_after("process_boot")
    dramatiq.set_broker(broker)
    return broker


def broker_reachable(broker: dramatiq.Broker) -> str | None:
    """None when the broker answers, else a short reason (for /readyz)."""
    if isinstance(broker, RedisBroker):
        try:
            broker.client.ping()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            return f"redis unreachable: {type(exc).__name__}"
    return None
