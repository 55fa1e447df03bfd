"""Scaled out: two web processes, three workers and two clocks on one PostgreSQL and Redis.

A launch to 20,000 supporters (every tenth never consented) while one worker process is
SIGKILLed midway through the fan-out and a supervisor starts another: every consented
supporter gets exactly one e-mail at the SendGrid stand-in, nobody else any, and every
partner exactly one webhook, verified with `standardwebhooks`, per event it follows.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import func, select

from campaign.application.access import create_token
from campaign.bootstrap import build
from campaign.demo import ua_135_10 as seed
from campaign.infra.tables import webhook_deliveries
from campaign.partners.admin import PartnerForm, register_partner
from campaign.settings import Settings
from tests.commands import SECRET_KEY, command_env
from tests.databases import PostgresDatabases, engine_for
from tests.e2e import scale_out
from tests.e2e.processes import Process, free_port, http_status, procfile, running, start, wait_for
from tests.fakes.partner_receiver import PartnerReceiver
from tests.fakes.sendgrid_server import FakeSendGrid

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB = 7  # away from the databases the other tests use
SUPPORTERS = 20_000
READY = "Worker process is ready for action."
RATE_LIMITED = 9  # the launch's first mail-send requests, answered 429
DEVELOPMENTS = 6  # case developments recorded through the web during the fan-out
# Each partner: what it follows, and the webhooks it should get for the test's events.
PARTNERS: dict[str, tuple[dict[str, Any], Counter[str]]] = {
    "both-cases": ({"case_ids": (seed.CASE_ID, scale_out.OTHER_CASE_ID)},
                   Counter({"action.launched": 1, "case.development_recorded": DEVELOPMENTS})),
    "the-action": ({"action_ids": (scale_out.ACTION_ID,)}, Counter({"action.launched": 1})),
    "developments": ({"case_ids": (scale_out.OTHER_CASE_ID,),
                      "event_types": ("case.development_recorded",)},
                     Counter({"case.development_recorded": DEVELOPMENTS})),
}


@pytest.mark.postgres
@pytest.mark.redis
def test_a_launch_to_twenty_thousand_survives_a_killed_worker_without_a_duplicate_or_a_loss(
    postgres_databases: PostgresDatabases, tmp_path: Path
) -> None:
    began = time.monotonic()
    redis_url = os.environ["TEST_REDIS_URL"].rsplit("/", 1)[0] + f"/{REDIS_DB}"
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    figures: dict[str, Any] = {"supporters": SUPPORTERS}
    with postgres_databases.fresh() as database_url, FakeSendGrid() as sendgrid, \
            PartnerReceiver() as p1, PartnerReceiver() as p2, PartnerReceiver() as p3, \
            engine_for(database_url) as engine:
        receivers = dict(zip(PARTNERS, [p1, p2, p3], strict=True))
        variables = {"DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY,
                     "WEBHOOK_ALLOW_PRIVATE": "1"}
        settings = Settings.from_env(variables)
        token = set_up(settings, figures)
        env = command_env(
            **variables, REDIS_URL=redis_url, SENDGRID_API_KEY=sendgrid.api_key,
            SENDGRID_API_HOST=sendgrid.url, MAIL_FROM="Urgent Actions <ua@example.org>",
            WEB_CONCURRENCY="1", WORKER_PROCESSES="1", WORKER_THREADS="2")
        ports = two_free_ports()
        commands = procfile(ROOT / "Procfile", env)
        processes = [
            *[start(f"web-{n}", procfile(ROOT / "Procfile", {**env, "PORT": str(port)})["web"],
                    env, tmp_path) for n, port in enumerate(ports, 1)],
            *[start(f"worker-{n}", commands["worker"], env, tmp_path) for n in (1, 2, 3)],
            *[start(f"clock-{n}", commands["clock"], env, tmp_path) for n in (1, 2)]]
        with running(processes):
            bases = [f"http://127.0.0.1:{port}" for port in ports]
            workers = [p for p in processes if p.name.startswith("worker")]
            started = time.monotonic()
            for base in bases:
                wait_for(partial(answers, f"{base}/readyz"), f"{base}/readyz", timeout=120,
                         processes=processes)
            for worker in workers:
                wait_for(partial(booted, worker), f"{worker.name} ready", timeout=120,
                         processes=processes)
            wait_for(lambda: caught_up(engine) or None, "the subscriptions to catch up",
                     timeout=300, processes=processes)
            figures["catch_up_seconds"] = round(time.monotonic() - started, 1)
            register_partners(settings, receivers)

            consented = {scale_out.email_of(n) for n in range(SUPPORTERS) if scale_out.consents(n)}
            unconfirmed = {scale_out.email_of(n) for n in range(SUPPORTERS)
                           if scale_out.never_confirmed(n)}
            wait_for(lambda: len(scale_out.emails_by_category(sendgrid).get(
                "signup_confirmation", ())) >= len(unconfirmed) or None,
                     "the sign-up confirmations", timeout=120, processes=processes)
            # The provider's rate limit holds the launch's first batches back a while: their
            # messages wait in the workers (on their delay queue), so a worker holds mail to
            # lose however fast the other batches go out.
            sendgrid.rate_limit_next(RATE_LIMITED, reset_in=10)
            launched = time.monotonic()
            api = Api(bases, token)
            api.write(0, f"/api/v1/actions/{scale_out.ACTION_ID}", "/launch", None)
            for n in range(DEVELOPMENTS // 2):
                api.record_development(1, n)

            # Midway: a batch is in, others are not; a worker holding mail messages dies.
            alive = [p for p in processes if p.popen.poll() is None]
            wait_for(lambda: scale_out.accepted_batches(sendgrid) or None,
                     "the first batch at SendGrid", timeout=120, processes=alive)
            kill, victim = kill_a_busy_worker(workers, sendgrid, list(receivers.values()),
                                              engine, client)
            assert kill.unfinished_batches > 0, "the fan-out had finished before the kill"
            processes.remove(victim)
            processes.append(start("worker-4", commands["worker"], env, tmp_path))
            for n in range(DEVELOPMENTS // 2, DEVELOPMENTS):
                api.record_development(n % 2, n)

            wait_for(lambda: (scale_out.unfinished_batches(engine) == 0 and len(
                scale_out.emails_by_category(sendgrid).get("action_launched", ())) >= len(
                    consented)) or None,
                     "every batch to be sent and recorded", timeout=240, processes=processes)
            mailed = time.monotonic()
            wanted = {name: sum(expected.values()) for name, (_, expected) in PARTNERS.items()}
            wait_for(lambda: all(len(receivers[n].deliveries()) >= wanted[n] for n in wanted)
                     or None, "every webhook", timeout=120, processes=processes)
            time.sleep(3)  # a duplicate on its way would arrive now
            for base in bases:
                assert http_status(f"{base}/readyz") == 200

            emails = scale_out.emails_by_category(sendgrid)
            figures.update(
                consented=len(consented),
                emails={kind: sum(got.values()) for kind, got in emails.items()},
                requests=len(sendgrid.accepted), fan_out_seconds=round(mailed - launched, 1),
                recovered_after_kill_seconds=round(mailed - kill.at, 1),
                kill={"freezes_before_a_safe_moment": kill.attempts,
                      "unfinished_batches": kill.unfinished_batches,
                      "unacknowledged_messages": kill.unacked_messages},
                batch_attempts=dict(Counter(scale_out.accepted_batches(sendgrid).values())),
                webhooks={name: len(r.deliveries()) for name, r in receivers.items()},
                webhook_redeliveries=redeliveries(engine),
                seconds=round(time.monotonic() - began, 1))
            print("scale-out figures:", json.dumps(figures))

            assert set(emails) == {"action_launched", "signup_confirmation"}, set(emails)
            launch = emails["action_launched"]
            assert set(launch) == consented, (
                f"{len(consented - set(launch))} consented supporters got no launch e-mail, "
                f"{len(set(launch) - consented)} others got one")
            assert [a for a, n in launch.items() if n != 1] == [], "a duplicate launch e-mail"
            assert emails["signup_confirmation"] == Counter(dict.fromkeys(unconfirmed, 1))
            for name, (_, expected) in PARTNERS.items():
                got = receivers[name].deliveries()
                assert receivers[name].rejected() == []
                assert Counter(d.payload["type"] for d in got) == expected, name
                ids = Counter(d.payload["event_id"] for d in got)
                assert [i for i, n in ids.items() if n > 1] == [], f"{name}: a duplicate"


def register_partners(settings: Settings, receivers: dict[str, PartnerReceiver]) -> None:
    """The partners, each with its receiver's URL; each receiver learns its secret."""
    container = build(settings)
    try:
        with container.engine.begin() as conn:
            for name, (follows, _) in PARTNERS.items():
                issued = register_partner(
                    container.commands, container.vault, PartnerForm(
                        name=f"Partner {name}", contact_email=f"{name}@partners.example.org",
                        webhook_url=receivers[name].url, partner_id=name, **follows),
                    scale_out.META, datetime.now(UTC), allow_private=True, conn=conn)
                receivers[name].secrets = [issued.signing_secret]
    finally:
        container.engine.dispose()

def set_up(settings: Settings, figures: dict[str, Any]) -> str:
    """The case, the draft, a campaigner's token and the audience; the token."""
    container = build(settings)
    try:
        scale_out.seed_case_and_draft(container, datetime.now(UTC))
        _, token = create_token(container.engine, "scale-out test", "campaigner")
    finally:
        container.engine.dispose()  # no pooled connection crosses the fork
    started = time.monotonic()
    figures["setup_events"] = scale_out.register_supporters(settings, SUPPORTERS)
    figures["setup_seconds"] = round(time.monotonic() - started, 1)
    return token


def two_free_ports() -> list[int]:
    while (ports := [free_port(), free_port()])[0] == ports[1]:
        pass
    return ports


def answers(url: str) -> bool | None:
    return http_status(url) == 200 or None


def booted(worker: Process) -> bool | None:
    return READY in worker.output() or None


def caught_up(engine: Any) -> bool:
    """Every checkpointed subscription has read the whole log."""
    from events import EventStore
    from events.schema import subscription_checkpoints as checkpoints

    with engine.connect() as conn:
        head = EventStore(engine).head(conn=conn)
        positions = conn.execute(select(checkpoints.c.position)).scalars().all()
    return bool(positions) and all(p >= head for p in positions)


def kill_a_busy_worker(workers: list[Process], sendgrid: FakeSendGrid,
                       receivers: list[PartnerReceiver], engine: Any, client: redis.Redis,
                       ) -> tuple[scale_out.Kill, Process]:
    """Kill a worker process that holds mail messages (trying each in turn)."""
    for _ in range(10):
        for worker in workers:
            kill = scale_out.kill_outside_the_send_window(
                worker, sendgrid, receivers, engine, client, only_if_holding="mail")
            if kill is not None:
                return kill, worker
    raise AssertionError("no worker held a mail message when frozen")


def redeliveries(engine: Any) -> int:
    """Webhook attempts beyond the first."""
    d = webhook_deliveries.c
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.sum(d.attempts - 1), 0))
                                .where(d.attempts > 1)).scalar_one())


class Api:
    """The campaigners' API on the web processes, with If-Match and an Idempotency-Key."""

    def __init__(self, bases: list[str], token: str) -> None:
        self.bases = bases
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, web: int, method: str, path: str, body: Any = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.bases[web] + path, data=data, method=method,
            headers={**self.headers, **(headers or {}),
                     **({"Content-Type": "application/json"} if data else {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def write(self, web: int, resource: str, action: str, body: Any) -> None:
        status, headers, _ = self.call(web, "GET", resource)
        assert status == 200
        status, _, answer = self.call(web, "POST", resource + action, body, {
            "If-Match": headers["ETag"], "Idempotency-Key": str(uuid.uuid4())})
        assert status in (200, 201), answer

    def record_development(self, web: int, n: int) -> None:
        self.write(web, f"/api/v1/cases/{scale_out.OTHER_CASE_ID}", "/developments", {
            "development_id": f"scale-out-{n}", "kind": "hearing_scheduled",
            "occurred": {"on": "2026-05-13"}, "summary": f"Hearing number {n} is scheduled."})

