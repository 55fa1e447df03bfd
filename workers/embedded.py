"""The embedded default: worker threads and the clock inside the web process.

With no REDIS_URL the broker is Dramatiq's in-memory one, so the web process declares
the actors and runs them itself. Either way the web process reports on them in /readyz:
`probes` are what its readiness depends on besides the database.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from dataclasses import dataclass

from dramatiq import Worker

from campaign.bootstrap import Container
from campaign.infra.queue import reachable
from workers.actors import declare_actors
from workers.clock import run_clock

Probe = Callable[[], str | None]
"""A readiness check: None when fine, else a short reason."""


@dataclass
class InProcessWorkers:
    """Running worker threads and clock; `stop` ends both."""

    worker: Worker
    clock: threading.Thread
    stopping: threading.Event

    def alive(self) -> bool:
        """True while the clock thread runs."""
        return self.clock.is_alive()

    def stop(self) -> None:
        """Stop ticking, then let the worker threads finish their messages."""
        self.stopping.set()
        self.clock.join(timeout=5)
        self.worker.stop()


def start_in_process(c: Container, interval: float = 1.0, threads: int = 2) -> InProcessWorkers:
    """Declare the actors on the Container's broker and start worker threads and a clock."""
    declare_actors(c)
    worker = Worker(c.broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    stopping = threading.Event()
    clock = threading.Thread(target=run_clock, args=(c, interval, stopping),
                             name="campaign-clock", daemon=True)
    clock.start()
    return InProcessWorkers(worker, clock, stopping)


def start_if_embedded(c: Container) -> InProcessWorkers | None:
    """Without Redis, start the in-process workers (stopped when the process exits)."""
    if c.settings.uses_redis:
        return None
    running = start_in_process(c)
    atexit.register(running.stop)
    return running


def probes(c: Container, running: InProcessWorkers | None) -> list[Probe]:
    """What the web process's readiness depends on besides the database."""

    def broker() -> str | None:
        return reachable(c.broker)

    def in_process() -> str | None:
        return None if running is None or running.alive() else "in-process worker stopped"

    return [broker, in_process]
