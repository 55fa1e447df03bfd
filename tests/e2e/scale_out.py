"""What the scale-out test needs besides the processes: a fast audience, the counts that
prove exactly-once, and killing a worker at a moment that tests recovery, not luck.

Supporters are set up through the product's event path (domain decisions, personal fields
sealed by the Vault, `EventStore.append` with the inline projections), many per
transaction, in two forked processes: the web API would take minutes for 20,000.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import redis
from sqlalchemy import Engine, func, select

from campaign.application.commands import Meta
from campaign.bootstrap import Container, build
from campaign.demo import ua_135_10 as seed
from campaign.domain import action, supporter
from campaign.domain.base import decide_all
from campaign.domain.values import Deadline
from campaign.infra.tables import mail_batches, webhook_deliveries
from campaign.settings import Settings
from events import NO_STREAM
from tests.e2e.processes import Process
from tests.fakes.partner_receiver import PartnerReceiver
from tests.fakes.sendgrid_server import FakeSendGrid

META = Meta(actor="scale-out-test", correlation_id="scale-out")
ACTION_ID = "scale-out-action"
OTHER_CASE_ID = "scale-out-other-case"
"""A case with no launched action: its developments reach partners and mail no one."""
CHUNK = 500  # supporters per setup transaction
LOCALES = [("en", "GB", "Europe/London")] * 7 + [("ru", "RU", "Europe/Moscow")] * 3
NAMESPACE = uuid.UUID("5ca1e0f7-7e57-4c1a-9d2b-20000e2e0001")


def email_of(n: int) -> str:
    return f"scale-{n}@supporters.example.org"


def consents(n: int) -> bool:
    """Nine in ten are consented; of the tenth, most withdrew (unsubscribed) after
    confirming, and one in ten of them never confirmed the double opt-in at all."""
    return n % 10 != 9


def never_confirmed(n: int) -> bool:
    """Those who only get the confirmation e-mail (their sign-up's)."""
    return n % 100 == 99


def seed_case_and_draft(container: Container, now: datetime) -> None:
    """The seed case (UA 135/10's), one drafted action about it issued today, another case."""
    for command in (*seed.CASE_COMMANDS, replace(seed.OPEN_CASE, case_id=OTHER_CASE_ID)):
        container.commands.handle(command, META)
    deadline = Deadline(on=now.date() + timedelta(days=30), timezone=seed.TIMEZONE)
    container.commands.handle(replace(seed.DRAFT, action_id=ACTION_ID, ua_number="907/26",
                                      issued_on=now.date(), deadline=deadline,
                                      drafted_at=now), META)


def _commands(n: int, now: datetime) -> tuple[str, list[Any]]:
    supporter_id = str(uuid.uuid5(NAMESPACE, f"supporter-{n}"))
    locale, country, timezone = LOCALES[n % len(LOCALES)]
    commands: list[Any] = [supporter.RegisterSupporter(
        supporter_id=supporter_id, email=email_of(n), name=f"Supporter Nº{n}", locale=locale,
        country=country, timezone=timezone, registered_at=now)]
    if not never_confirmed(n):
        commands.append(supporter.ConfirmConsent(supporter_id=supporter_id, confirmed_at=now))
    if not consents(n) and not never_confirmed(n):
        commands.append(supporter.Unsubscribe(supporter_id=supporter_id, at=now, via="link"))
    return supporter_id, commands


def _register_range(settings: Settings, start: int, stop: int) -> int:
    """Supporters `start`..`stop`, decided by the domain and appended CHUNK per transaction."""
    container = build(settings)
    aggregate = container.commands.routes[supporter.RegisterSupporter].aggregate
    now, appended = datetime.now(UTC), 0
    try:
        for first in range(start, stop, CHUNK):
            with container.engine.begin() as conn:
                for n in range(first, min(first + CHUNK, stop)):
                    supporter_id, commands = _commands(n, now)
                    decided = decide_all(aggregate, commands)
                    stream = supporter.supporter_stream(supporter_id)
                    stored = container.commands.mapper.to_new_events(conn, stream, decided,
                                                                     META.as_metadata())
                    container.store.append(stream, stored, NO_STREAM, conn=conn)
                    appended += len(stored)
    finally:
        container.engine.dispose()
    return appended


def register_supporters(settings: Settings, count: int, processes: int = 2) -> int:
    """`count` supporters by `processes` forked processes; the events appended."""
    bounds = [count * p // processes for p in range(processes + 1)]
    with ProcessPoolExecutor(processes, mp_context=mp.get_context("fork")) as pool:
        return sum(pool.map(_register_range, [settings] * processes, bounds[:-1], bounds[1:]))


def launch_command(now: datetime) -> action.LaunchAction:
    return action.LaunchAction(ACTION_ID, now)


# --- The counts that prove exactly-once -------------------------------------------------------


def emails_by_category(fake: FakeSendGrid) -> dict[str, Counter[str]]:
    """Per category (the mailing's kind), how many e-mails each address got."""
    found: dict[str, Counter[str]] = {}
    for request in fake.accepted_requests():
        for category in request.body.get("categories") or ["(none)"]:
            found.setdefault(category, Counter()).update(a.lower() for a in request.recipients)
    return found


def accepted_batches(fake: FakeSendGrid) -> Counter[str]:
    """How many times the stand-in accepted each batch (by the batch id the request carries)."""
    return Counter(str(request.body.get("custom_args", {}).get("batch_id"))
                   for request in fake.accepted_requests())


def recorded_batches(engine: Engine) -> set[str]:
    """Batches whose outcome the workers have recorded."""
    with engine.connect() as conn:
        return set(conn.execute(select(mail_batches.c.batch_id)
                                .where(mail_batches.c.outcome.is_not(None))).scalars())


def unfinished_batches(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(mail_batches)
                                .where(mail_batches.c.outcome.is_(None))).scalar_one())


def succeeded_deliveries(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(webhook_deliveries)
                                .where(webhook_deliveries.c.status == "succeeded")).scalar_one())


def received_webhooks(partners: list[PartnerReceiver]) -> int:
    return sum(len(p.deliveries()) for p in partners)


# --- Killing a worker --------------------------------------------------------------------------


@dataclass(frozen=True)
class Kill:
    """What killing one worker process left behind."""

    attempts: int
    unfinished_batches: int
    unacked_messages: dict[str, int]
    """Messages the dead worker had taken from each queue and not acknowledged."""
    at: float  # time.monotonic() of the SIGKILL


def unacked(client: redis.Redis, worker_ids: set[str] | None = None) -> dict[str, dict[str, int]]:
    """Per Dramatiq worker id (one per process), its unacknowledged messages per queue."""
    found: dict[str, dict[str, int]] = {}
    for key in client.scan_iter("dramatiq:__acks__.*"):
        name = key.decode()[len("dramatiq:__acks__."):]
        worker_id, _, queue = name.partition(".")
        if worker_ids is None or worker_id in worker_ids:
            found.setdefault(worker_id, {})[queue] = int(client.scard(key))
    return found


def kill_outside_the_send_window(
    victim: Process, fake: FakeSendGrid, partners: list[PartnerReceiver], engine: Engine,
    client: redis.Redis, only_if_holding: str, settle: float = 2.0, tries: int = 10,
) -> Kill | None:
    """SIGKILL the victim's process group at a moment it holds work but no unrecorded send.

    A worker killed after the provider accepted a batch but before it recorded that, sends
    the batch again when the message is redelivered: SendGrid has no idempotency key, so no
    design closes that window (docs/operations.md says so). What the product promises is
    that every other death loses and duplicates nothing, and that is what this tests: the
    victim is frozen (SIGSTOP), anything it had sent reaches the stand-ins within `settle`
    seconds, and it is killed only if every send accepted so far is recorded; otherwise it
    is thawed and frozen again a moment later. None, the victim thawed, when it holds no
    message of the queue `only_if_holding`, nor of its delay queue (it has no such work to
    lose).
    """
    for attempt in range(1, tries + 1):
        os.killpg(victim.popen.pid, signal.SIGSTOP)
        time.sleep(settle)
        accepted = set(accepted_batches(fake))
        webhooks = received_webhooks(partners)
        if wait(partial(recorded, engine, accepted, webhooks), settle * 2):
            left = _silent_workers_messages(client, quiet_ms=settle * 1000)
            if not any(count for queue, count in left.items()  # the queue or its delay queue
                       if queue.partition(".")[0] == only_if_holding):
                os.killpg(victim.popen.pid, signal.SIGCONT)
                return None
            os.killpg(victim.popen.pid, signal.SIGKILL)
            killed_at = time.monotonic()
            victim.popen.wait(timeout=10)
            return Kill(attempt, unfinished_batches(engine), left, killed_at)
        os.killpg(victim.popen.pid, signal.SIGCONT)
        time.sleep(0.3)
    raise AssertionError(f"no moment outside the send window in {tries} tries")


def recorded(engine: Engine, batches: set[str], webhooks: int) -> bool:
    """Whether these accepted batches and this many received webhooks are all recorded."""
    return batches <= recorded_batches(engine) and succeeded_deliveries(engine) >= webhooks


def _silent_workers_messages(client: redis.Redis, quiet_ms: float) -> dict[str, int]:
    """The unacknowledged messages, per queue, of the workers silent for `quiet_ms`: the
    frozen victim (every live worker process beats at each poll, about once a second)."""
    beats: list[tuple[bytes, float]] = client.zrange(  # type: ignore[assignment]
        "dramatiq:__heartbeats__", 0, -1, withscores=True)
    now_ms = time.time() * 1000
    silent = {key.decode() for key, beat in beats if now_ms - beat >= quiet_ms}
    return {queue: count for worker, queues in unacked(client, silent).items()
            for queue, count in queues.items() if count}


def wait(probe: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True
