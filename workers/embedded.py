"""The embedded default: worker threads and the clock inside the web process."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import dramatiq
from dramatiq import Worker

from campaign.bootstrap import Services
from workers.actors import Actors, declare_actors
from workers.clock import run_clock


@dataclass
class InProcessWorkers:
    """Running worker threads and clock; `stop` ends both."""

    worker: Worker
    clock: threading.Thread
    stopping: threading.Event
    actors: Actors

    def alive(self) -> bool:
        """True while the clock thread runs."""
        return self.clock.is_alive()

    def stop(self) -> None:
        """Stop ticking, then let the worker threads finish their messages."""
        self.stopping.set()
        self.clock.join(timeout=5)
        self.worker.stop()


def start_in_process(
    broker: dramatiq.Broker, services: Services, interval: float = 1.0, threads: int = 2
) -> InProcessWorkers:
    """Declare the actors on `broker` and start worker threads and a clock thread."""
    actors = declare_actors(broker, services)
    worker = Worker(broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    stopping = threading.Event()
    clock = threading.Thread(
        target=run_clock, args=(services, actors, interval, stopping),
        name="campaign-clock", daemon=True,
    )
    clock.start()
    return InProcessWorkers(worker, clock, stopping, actors)
