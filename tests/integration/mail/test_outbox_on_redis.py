"""The log is the outbox, on real Redis: a mailing planned while Redis is down still goes out,
and a worker killed half-way through a batch leaves every recipient exactly one e-mail.

Each test runs its own redis-server, so it can stop and restart it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dramatiq import Worker
from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker
from sqlalchemy import text

from campaign.application.commands import Meta
from campaign.application.supporters import Registration, register_supporter
from campaign.bootstrap import Container, build
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import SUPPORTERS, load_demo
from campaign.domain import mailing, supporter
from campaign.infra.clock import utc_now
from campaign.infra.queue import broker_middleware
from campaign.mail.planning import launch_mailing_id
from campaign.settings import Settings
from events import SubscriptionRunner
from events.subscriptions import checkpoint_position
from tests.commands import BIN, command_env
from tests.fakes.fixtures import sendgrid_server  # noqa: F401 (a fixture)
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.redis_process import RedisProcess
from workers.actors import MAIL_QUEUE, declare_actors

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_settings(
    tmp_path: Path, postgres_url: str, redis_process: RedisProcess,
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> Settings:
    return Settings.from_env({
        "DATABASE_URL": postgres_url, "REDIS_URL": redis_process.url,
        "SECRET_KEY": "outbox-test-secret-" + "k" * 32, "VAR_DIR": str(tmp_path / "var"),
        "SENDGRID_API_KEY": sendgrid_server.api_key, "SENDGRID_API_HOST": sendgrid_server.url,
    })


def test_a_mailing_planned_while_redis_is_down_goes_out_once_redis_is_back(
    redis_settings: Settings, redis_process: RedisProcess,
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    broker = RedisBroker(url=redis_process.url,  # type: ignore[no-untyped-call]
                         middleware=broker_middleware())
    broker.emit_after("process_boot")
    container = build(redis_settings, broker=broker)
    actors = declare_actors(container)
    load_demo(container)
    SubscriptionRunner(container.store, container.subscriptions["mailing_planner"]).run()
    dispatcher = SubscriptionRunner(container.store, container.subscriptions["mail_dispatcher"])

    first_planned = next(e.position for e in container.store.read_all(limit=10_000)
                         if e.type == "MailingPlanned")

    redis_process.stop()
    stalled = dispatcher.run(max_seconds=2)
    # It stops just before the event it could not act on; nothing is lost or skipped.
    assert stalled.failed
    assert checkpoint_position(container.store, "mail_dispatcher") == first_planned - 1

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
    container.engine.dispose()




def supporters_in(container: Container, locales: tuple[str, ...], per_locale: int) -> set[str]:
    """Consented supporters subscribed to everything, `per_locale` in each locale."""
    meta = Meta(actor="test", correlation_id="killed-worker")
    emails = set()
    for locale in locales:
        for n in range(per_locale):
            email = f"{locale}.{n}@example.org"
            supporter_id = register_supporter(
                container.commands, container.blind_index,
                Registration(email, f"Supporter {n}", locale, "GB", "Europe/London"),
                meta, utc_now())
            container.commands.handle(supporter.ConfirmConsent(supporter_id, utc_now()), meta)
            emails.add(email)
    return emails


def batches_of_the_launch(container: Container) -> list[str]:
    stream = mailing.mailing_stream(launch_mailing_id(seed.ACTION_ID))
    planned = container.store.read_stream(stream)[0]
    return [b["batch_id"] for b in planned.data["batches"]]


def outcome_types(container: Container) -> list[str]:
    stream = mailing.mailing_stream(launch_mailing_id(seed.ACTION_ID))
    return [e.type for e in container.store.read_stream(stream)]


def worker_process(container: Container, redis_url: str, sendgrid: FakeSendGrid,
                   workdir: Path) -> subprocess.Popen[bytes]:
    """The Procfile's worker, one process with one thread, in its own process group."""
    env = command_env(
        DATABASE_URL=container.settings.database_url, REDIS_URL=redis_url,
        SECRET_KEY=container.settings.secret_key, VAR_DIR=str(workdir / "var"),
        SENDGRID_API_KEY=sendgrid.api_key, SENDGRID_API_HOST=sendgrid.url)
    return subprocess.Popen(
        [str(BIN / "dramatiq"), "workers.main", "--processes", "1", "--threads", "1",
         "--queues", MAIL_QUEUE], env=env, cwd=workdir, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def test_a_worker_killed_mid_batch_leaves_every_recipient_exactly_one_email(
    redis_settings: Settings, redis_process: RedisProcess, tmp_path: Path,
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    # Our side of the broker: a dead worker's unacked messages go back to their queue when a
    # client notices its heartbeat is older than the timeout. Dramatiq does this on a random
    # 1 in 1,000 commands after 60 s; this client does it on every command after 1 s.
    broker = RedisBroker(url=redis_process.url, heartbeat_timeout=1_000,  # type: ignore[no-untyped-call]
                         maintenance_chance=MAINTENANCE_SCALE)
    container = build(redis_settings, broker=broker)
    emails = supporters_in(container, ("en", "fr", "ru"), per_locale=40)  # three batches
    load_demo(container)
    emails |= {s.registration.email for s in SUPPORTERS}
    SubscriptionRunner(container.store, container.subscriptions["mailing_planner"]).run()
    first, second, *rest = batches_of_the_launch(container)
    actors = declare_actors(container)
    worker = worker_process(container, redis_process.url, sendgrid_server, tmp_path)
    try:
        actors["send_batch"].send(first)
        wait_until(lambda: "BatchAccepted" in outcome_types(container), 60, "batch 1 is sent")

        # Batch 2 stalls half-way: claimed, rendered, and waiting to read its recipients.
        with container.engine.connect() as blocker:
            blocker.execute(text("LOCK TABLE mail_deliveries IN ACCESS EXCLUSIVE MODE"))
            for batch_id in (second, *rest):
                actors["send_batch"].send(batch_id)
            wait_until(lambda: _waiting_on_a_lock(container), 60, "batch 2 is half-way")
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            blocker.rollback()
        assert len(sendgrid_server.accepted) == 1

        worker = worker_process(container, redis_process.url, sendgrid_server, tmp_path)
        actors["send_batch"].send(first)  # a redelivered copy of a batch already sent
        wait_until(lambda: _requeued(broker), 60, "the dead worker's messages are back")
        wait_until(lambda: "MailingCompleted" in outcome_types(container), 90, "all is sent")
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        broker.close()

    assert sendgrid_server.deliveries() == Counter({e.lower(): 1 for e in emails})
    assert outcome_types(container).count("BatchAccepted") == 2 + len(rest)
    container.engine.dispose()


def _waiting_on_a_lock(container: Container) -> bool:
    with container.engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query ILIKE '%mail_deliveries%'")).scalar_one())


def _requeued(broker: RedisBroker) -> bool:
    """Any dispatched command runs maintenance here; True once nothing waits in the queue."""
    return broker.do_qsize(MAIL_QUEUE) == 0  # type: ignore[no-any-return]
