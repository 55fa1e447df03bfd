"""`/metrics` after real traffic: requests, events, mail, webhooks, subscriptions and queues.

Real parts: the store on SQLite and PostgreSQL, Dramatiq's worker threads on the in-memory
broker, the real `sendgrid` client against the fake SendGrid, a partner receiver verifying
our signatures. Counters belong to the test process, so each check compares two scrapes.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Connection, func, select

from campaign.application.access import Role, create_token
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import load_demo
from campaign.domain import mailing
from campaign.settings import Settings
from campaign.web.app import create_app
from events import StoredEvent, Subscription, SubscriptionRunner, TemporaryFailure
from events.schema import events
from tests.fakes.fixtures import sendgrid_server  # noqa: F401 (a fixture)
from tests.fakes.partner_receiver import PartnerReceiver
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.integration.webhooks.conftest import Clock, Pipeline, register
from workers.actors import MAIL_QUEUE, QUEUES

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
OUTSIDER = "203.0.113.9"


@pytest.fixture
def settings(tmp_path: Path, database_url: str,
             sendgrid_server: FakeSendGrid) -> Settings:  # noqa: F811
    return Settings.from_env({
        "DATABASE_URL": database_url, "SECRET_KEY": "metrics-test-secret-" + "k" * 32,
        "VAR_DIR": str(tmp_path / "var"), "SENDGRID_API_KEY": sendgrid_server.api_key,
        "SENDGRID_API_HOST": sendgrid_server.url, "MAIL_FROM": "ua@example.org",
        "WEBHOOK_ALLOW_PRIVATE": "1",
    })


@pytest.fixture
def client(container: Container) -> FlaskClient:
    return create_app(container, queues=QUEUES).test_client()


@pytest.fixture
def token(container: Container) -> Callable[[Role], dict[str, str]]:
    def make(role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {create_token(container.engine, role, role)[1]}"}

    return make


@pytest.fixture
def receiver() -> Iterator[PartnerReceiver]:
    with PartnerReceiver() as server:
        yield server


def scrape(client: FlaskClient, **kwargs: object) -> Samples:
    response = client.get("/metrics", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def types_in_log(container: Container) -> dict[str, int]:
    with container.engine.connect() as conn:
        return dict(conn.execute(  # type: ignore[arg-type]
            select(events.c.type, func.count()).group_by(events.c.type)).all())


def stopping(conn: Connection, batch: Sequence[StoredEvent]) -> None:
    raise TemporaryFailure("the broker is unreachable (ConnectionError)")


def test_a_scrape_after_real_traffic_shows_each_metric_with_plausible_values(
    container: Container, client: FlaskClient, token: Callable[[Role], dict[str, str]],
    sendgrid_server: FakeSendGrid, receiver: PartnerReceiver,  # noqa: F811
) -> None:
    admin = token("admin")
    before, log_before = scrape(client), types_in_log(container)
    register(container, receiver, datetime.now(UTC))
    load_demo(container)
    for _ in range(3):
        assert client.get(f"/api/v1/actions/{seed.ACTION_ID}", headers=admin).status_code == 200
    assert client.get("/no/such/page").status_code == 404
    for name in ("mailing_planner", "mail_dispatcher"):
        SubscriptionRunner(container.store, container.subscriptions[name]).run()
    broker = container.broker
    assert isinstance(broker, StubBroker)
    queued = broker.queues[MAIL_QUEUE].qsize()
    waiting = scrape(client)
    SubscriptionRunner(container.store, Subscription("metrics_probe", stopping)).run()
    worker = Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    try:
        broker.join(MAIL_QUEUE, timeout=60_000)
    finally:
        worker.stop()
    attempts = Pipeline(container, Clock()).run()
    after, log_after = scrape(client), types_in_log(container)

    route = {"method": "GET", "route": "/api/v1/actions/<action_id>", "status": "200"}
    assert grew(before, after, "campaign_http_request_duration_seconds_count", **route) == 3
    assert grew(before, after, "campaign_http_request_duration_seconds_count",
                method="GET", route="unmatched", status="404") == 1
    assert grew(before, after, "campaign_http_request_duration_seconds_sum", **route) > 0
    labels = {v for (_, pairs) in after for _, v in pairs}
    assert not any(seed.ACTION_ID in v or "@" in v for v in labels)
    for event_type, count in log_after.items():
        assert grew(before, after, "campaign_events_appended_total", type=event_type) \
            == count - log_before.get(event_type, 0), event_type
    assert queued > 0 and value(waiting, "campaign_queue_depth", queue=MAIL_QUEUE) == queued
    assert value(after, "campaign_queue_depth", queue=MAIL_QUEUE) == 0
    assert {q for (n, pairs) in after if n == "campaign_queue_depth"
            for _, q in pairs} == set(QUEUES)
    accepted = sum(len(r.recipients) for r in sendgrid_server.accepted)
    assert accepted > 0
    assert grew(before, after, "campaign_mail_batches_total", outcome="accepted") \
        == log_after[mailing.BatchAccepted.type_name] == len(sendgrid_server.accepted)
    assert grew(before, after, "campaign_mail_recipients_total", outcome="accepted") == accepted
    delivered = len(receiver.deliveries())
    assert delivered > 0 and [a.outcome for a in attempts] == ["succeeded"] * delivered
    assert grew(before, after, "campaign_webhook_deliveries_total", outcome="succeeded") \
        == delivered
    assert grew(before, after, "campaign_webhook_delivery_seconds_count") == delivered
    assert value(after, "campaign_subscription_stuck", subscription="metrics_probe") == 1
    assert value(after, "campaign_subscription_stuck", subscription="mailing_planner") == 0
    head = sum(log_after.values())
    assert value(after, "campaign_subscription_lag_events", subscription="metrics_probe") \
        == head
    assert value(after, "campaign_subscription_lag_seconds", subscription="metrics_probe") > 0
    assert value(after, "campaign_subscription_lag_events", subscription="mailing_planner") \
        < head
    assert value(after, "campaign_metrics_source_up", source="database") == 1
    assert value(after, "campaign_metrics_source_up", source="broker") == 1


def test_subscriptions_no_worker_ever_ran_show_the_whole_log_as_their_lag(
    client: FlaskClient, container: Container,
) -> None:
    load_demo(container)  # events, and no worker to follow them
    head = sum(types_in_log(container).values())

    samples = scrape(client)

    for name in ("mail_dispatcher", "webhook_outbox", "audit"):
        assert value(samples, "campaign_subscription_lag_events", subscription=name) == head
        assert ("campaign_subscription_lag_seconds",
                frozenset({("subscription", name)})) in samples
        assert ("campaign_subscription_stuck", frozenset({("subscription", name)})) in samples


def test_metrics_are_refused_to_an_address_outside_the_allowed_networks_without_a_token(
    client: FlaskClient,
) -> None:
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": OUTSIDER})

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert "METRICS_ALLOWED_NETWORKS" in response.get_json()["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_metrics_need_the_admin_role_from_outside(
    client: FlaskClient, token: Callable[[Role], dict[str, str]],
) -> None:
    outside = {"REMOTE_ADDR": OUTSIDER}
    unknown = client.get("/metrics", environ_base=outside,
                         headers={"Authorization": "Bearer not-a-token"})
    viewer = client.get("/metrics", environ_base=outside, headers=token("viewer"))
    campaigner = client.get("/metrics", environ_base=outside, headers=token("campaigner"))

    assert unknown.status_code == 401
    assert (viewer.status_code, campaigner.status_code) == (403, 403)
    assert viewer.mimetype == "application/problem+json"
    assert scrape(client, environ_base=outside, headers=token("admin"))


def test_metrics_answer_loopback_and_the_networks_allowed(
    container: Container, settings: Settings, tmp_path: Path,
) -> None:
    assert scrape(create_app(container).test_client())  # the test client calls from 127.0.0.1
    allowing = Settings.from_env({
        "DATABASE_URL": settings.database_url, "SECRET_KEY": settings.secret_key,
        "VAR_DIR": str(tmp_path / "var"), "METRICS_ALLOWED_NETWORKS": "10.0.0.0/8, 203.0.113.0/24",
    })
    client = create_app(replace(container, settings=allowing)).test_client()

    assert scrape(client, environ_base={"REMOTE_ADDR": OUTSIDER})
    assert scrape(client, environ_base={"REMOTE_ADDR": f"::ffff:{OUTSIDER}"})
    refused = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert refused.status_code == 401  # loopback is no longer listed


def test_behind_a_trusted_proxy_the_client_the_proxy_saw_is_the_one_checked(
    container: Container, settings: Settings, tmp_path: Path,
) -> None:
    proxied = Settings.from_env({
        "DATABASE_URL": settings.database_url, "SECRET_KEY": settings.secret_key,
        "VAR_DIR": str(tmp_path / "var"), "TRUSTED_PROXY_HOPS": "1",
    })
    client = create_app(replace(container, settings=proxied)).test_client()

    from_outside = client.get("/metrics", headers={"X-Forwarded-For": OUTSIDER})
    from_beside = client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})

    assert from_outside.status_code == 401
    assert from_beside.status_code == 200


def test_a_proxy_not_declared_trusted_does_not_make_the_internet_look_like_loopback(
    client: FlaskClient, token: Callable[[Role], dict[str, str]],
) -> None:
    forwarded = client.get("/metrics", headers={"X-Forwarded-For": OUTSIDER})
    standard = client.get("/metrics", headers={"Forwarded": f"for={OUTSIDER}"})

    assert (forwarded.status_code, standard.status_code) == (401, 401)
    assert scrape(client, headers={"X-Forwarded-For": OUTSIDER, **token("admin")})


def test_with_redis_unreachable_a_scrape_still_answers_and_says_the_broker_is_down(
    container: Container,
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    broker = RedisBroker(url=f"redis://127.0.0.1:{port}/0",  # type: ignore[no-untyped-call]
                         socket_connect_timeout=1)
    try:
        samples = scrape(create_app(replace(container, broker=broker), queues=QUEUES)
                         .test_client())
    finally:
        broker.close()

    assert value(samples, "campaign_metrics_source_up", source="broker") == 0
    assert value(samples, "campaign_metrics_source_up", source="database") == 1
    assert not any(name == "campaign_queue_depth" for name, _ in samples)
    assert ("campaign_subscription_stuck", frozenset()) not in samples
