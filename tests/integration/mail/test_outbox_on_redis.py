"""The log is the outbox, on real Redis: a mailing planned while Redis is down still goes out.

Each test runs its own redis-server, so it can stop and restart it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker

from campaign.bootstrap import Services, bootstrap
from campaign.demo.loader import SUPPORTERS, load_demo
from campaign.settings import Settings
from events import SubscriptionRunner
from events.subscriptions import checkpoint_position
from tests.fakes.fixtures import sendgrid_server  # noqa: F401 (a fixture)
from tests.fakes.sendgrid_server import FakeSendGrid
from workers.actors import MAIL_QUEUE, declare_actors

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


class RedisProcess:
    """A redis-server of our own on a free port, stoppable and restartable."""

    def __init__(self, workdir: Path) -> None:
        self.binary = os.environ.get("TEST_REDIS_BIN") or shutil.which("redis-server") or ""
        self.workdir = workdir
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def services_on_redis(
    tmp_path: Path, postgres_url: str, redis_process: RedisProcess,
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> Iterator[Services]:
    settings = Settings.from_env({
        "DATABASE_URL": postgres_url, "REDIS_URL": redis_process.url,
        "SECRET_KEY": "outbox-test-secret-" + "k" * 32, "VAR_DIR": str(tmp_path / "var"),
        "SENDGRID_API_KEY": sendgrid_server.api_key, "SENDGRID_API_HOST": sendgrid_server.url,
    })
    services = bootstrap(settings)
    yield services
    services.engine.dispose()


def test_a_mailing_planned_while_redis_is_down_goes_out_once_redis_is_back(
    services_on_redis: Services, redis_process: RedisProcess,
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    services = services_on_redis
    broker = RedisBroker(url=redis_process.url)  # type: ignore[no-untyped-call]
    broker.emit_after("process_boot")
    actors = declare_actors(broker, services)
    load_demo(services)
    SubscriptionRunner(services.store, services.subscription("mailing_planner")).run()
    dispatcher = SubscriptionRunner(services.store, services.subscription("mail_dispatcher"))

    first_planned = next(e.position for e in services.store.read_all(limit=10_000)
                         if e.type == "MailingPlanned")

    redis_process.stop()
    stalled = dispatcher.run(max_seconds=2)
    # It stops just before the event it could not act on; nothing is lost or skipped.
    assert stalled.failed
    assert checkpoint_position(services.store, "mail_dispatcher") == first_planned - 1

    redis_process.start()
    dispatcher.run(max_seconds=10)
    worker = Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        broker.join(MAIL_QUEUE, timeout=60_000)
        worker.join()
    finally:
        worker.stop()
        broker.close()

    emails = {s.registration.email for s in SUPPORTERS}
    assert set(sendgrid_server.deliveries()) == emails
    assert all(n == 2 for n in sendgrid_server.deliveries().values())  # launch and update
    assert actors.queues >= {MAIL_QUEUE}


