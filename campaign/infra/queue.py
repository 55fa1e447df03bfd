"""The message queue: the Dramatiq broker, and sending to an actor by its name.

Features never import an actor. They name the message they want sent (`send_batch`,
`deliver_webhook`) and are handed a `send` callable by the wiring; the actor behind the
name is looked up on the broker when a message is sent. So nothing needs an actor to exist
before the Container does, and only the workers declare them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import BrokerError
from dramatiq.middleware import TimeLimit, default_middleware
from redis.exceptions import RedisError

from campaign.infra.logs import current_correlation_id, new_correlation_id, set_correlation_id
from events import TemporaryFailure

HEARTBEAT_TIMEOUT_MS = 20_000
"""A worker process silent this long is dead, and the messages it took go back to their
queue. A live one beats at every poll of each of its queues, about once a second even when
all its threads are busy; Dramatiq's default, a minute, left a killed worker's mail batches
waiting minutes."""
MAINTENANCE_CHANCE = 250_000
"""Per million broker commands, how many also hand a dead worker's messages back. Cheap: a
range on the heartbeats, and a key listing only while a dead worker has messages left.
Dramatiq's default, 1,000, on a queue polled once a second per idle process, left a killed
worker's mail batches waiting many minutes."""


CORRELATION_OPTION = "correlation_id"
"""The message option carrying the sender's correlation id: an id, never personal data."""


class Correlation(dramatiq.Middleware):
    """Carries the correlation id from the sender into the message, and from the message
    into the log lines the worker writes while it handles it (a fresh id when none came)."""

    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message[Any],
                       delay: int | None) -> None:
        correlation = current_correlation_id()
        if correlation and CORRELATION_OPTION not in message.options:
            message.options[CORRELATION_OPTION] = correlation

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        offered = message.options.get(CORRELATION_OPTION)
        set_correlation_id(offered if isinstance(offered, str) and offered
                           else new_correlation_id("message"))

    def after_process_message(self, broker: dramatiq.Broker, message: Any, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        set_correlation_id(None)

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        set_correlation_id(None)


class ProcessTimeLimit(TimeLimit):
    """Dramatiq's time limit, with one watchdog thread per process however many brokers it builds.

    Dramatiq starts a thread per `TimeLimit` when the process boots and never stops it; the
    thread wakes every second. A process that builds a broker per app (the in-process worker's
    stub broker, every test) would gather one such thread per broker, hundreds in a test run,
    each taking the interpreter's lock every second. The deadlines are kept per thread id,
    which is unique within the process, so brokers can share one watchdog.
    """

    _shared: ClassVar[TimeLimit | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        """Use the process's watchdog, starting it if none runs here yet (or only in the
        parent this process was forked from)."""
        with self._lock:
            shared = ProcessTimeLimit._shared
            if shared is None or not _running(shared):
                shared = ProcessTimeLimit._shared = TimeLimit()
                shared.after_process_boot(broker)  # type: ignore[no-untyped-call]
        self.manager = shared.manager


def _running(time_limit: TimeLimit) -> bool:
    manager = time_limit.manager
    return not isinstance(manager, threading.Thread) or manager.is_alive()


def broker_middleware() -> list[dramatiq.Middleware]:
    """Dramatiq's default middleware, the time limit's watchdog shared by the process."""
    return [ProcessTimeLimit() if kind is TimeLimit else kind() for kind in default_middleware]


def stub_broker() -> StubBroker:
    """An in-memory broker for in-process workers, booted (its middleware are set up)."""
    broker = StubBroker(middleware=broker_middleware())
    broker.emit_after("process_boot")
    return broker


def create_broker(redis_url: str | None) -> dramatiq.Broker:
    """Redis when there is a URL; otherwise the in-memory broker for in-process workers.

    It becomes Dramatiq's global broker too: `dramatiq workers.main` looks for it there.
    Its messages carry the sender's correlation id (`Correlation`).
    """
    broker: dramatiq.Broker
    if redis_url:
        broker = RedisBroker(url=redis_url, middleware=broker_middleware(),
                             heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
                             maintenance_chance=MAINTENANCE_CHANCE)  # type: ignore[no-untyped-call]
    else:
        broker = stub_broker()
    broker.add_middleware(Correlation())
    dramatiq.set_broker(broker)
    return broker


class Queue:
    """Sends messages to the actors declared on one broker, by actor name."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker

    def send(self, actor_name: str, *args: Any, delay_ms: int | None = None) -> None:
        """Enqueue `actor_name(*args)`, after `delay_ms` if given; ActorNotFound if undeclared.

        A broker that cannot be reached raises TemporaryFailure: a subscription sending
        through it stops at that event and tries again, rather than setting it aside.
        """
        actor = self.broker.get_actor(actor_name)
        try:
            actor.send_with_options(args=args, delay=delay_ms)
        except (RedisError, BrokerError) as exc:
            raise TemporaryFailure(f"the broker is unreachable ({type(exc).__name__})") from exc

    def sender(self, actor_name: str) -> Callable[..., None]:
        """`send` bound to one actor: what a subscription that enqueues is given."""
        return partial(self.send, actor_name)


def reachable(broker: dramatiq.Broker) -> str | None:
    """None when the broker answers, else a short reason (for /readyz)."""
    if isinstance(broker, RedisBroker):
        try:
            broker.client.ping()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            return f"redis unreachable: {type(exc).__name__}"
    return None
