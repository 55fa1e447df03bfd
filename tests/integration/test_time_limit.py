"""Time limits: one watchdog thread per process, however many brokers it builds, and still
every message over its limit is interrupted."""

from __future__ import annotations

import multiprocessing
import threading
import time
from multiprocessing.connection import Connection

import dramatiq
from dramatiq.middleware import TimeLimitExceeded

from campaign.infra.queue import stub_broker


def watchdogs() -> int:
    """Dramatiq's time-limit threads alive in this process."""
    return sum(1 for thread in threading.enumerate()
               if type(thread).__name__ == "_CtypesTimeoutManager" and thread.is_alive())


def test_brokers_built_one_after_another_share_one_watchdog() -> None:
    stub_broker()
    before = watchdogs()
    brokers = [stub_broker() for _ in range(10)]
    assert before >= 1
    assert watchdogs() == before
    for broker in brokers:
        broker.close()


def interrupted_on_a_new_broker(queue_name: str) -> bool:
    """Whether a message running past its 200 ms limit on a fresh broker is interrupted."""
    broker = stub_broker()
    outcome: list[bool] = []

    @dramatiq.actor(broker=broker, queue_name=queue_name, time_limit=200, max_retries=0)
    def overrun() -> None:
        try:
            for _ in range(1_000):  # ten seconds at most
                time.sleep(0.01)
        except TimeLimitExceeded:
            outcome.append(True)
            raise
        outcome.append(False)

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        overrun.send()
        broker.join(queue_name, fail_fast=False)
        worker.join()
    finally:
        worker.stop()
        broker.close()
    return outcome == [True]


def test_a_message_past_its_time_limit_is_interrupted_on_every_broker_of_the_process() -> None:
    assert interrupted_on_a_new_broker("time-limit-first")
    assert interrupted_on_a_new_broker("time-limit-second")


def report_watchdogs(answer: Connection) -> None:
    stub_broker()
    answer.send(watchdogs())


def test_a_forked_process_starts_its_own_watchdog() -> None:
    stub_broker()  # the parent's watchdog runs; a fork does not carry its thread over
    forking = multiprocessing.get_context("fork")
    receive, send = forking.Pipe(duplex=False)
    child = forking.Process(target=report_watchdogs, args=(send,))
    child.start()
    try:
        assert receive.poll(30), "the child did not answer"
        assert receive.recv() == 1
    finally:
        child.join(30)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0
