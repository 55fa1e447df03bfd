"""E-mail delivery against real servers: a fake SendGrid for the real client, signed webhooks.

The webhook tests sign with a fresh ECDSA P-256 key whose public half is configured as
SENDGRID_WEBHOOK_PUBLIC_KEY, exactly as SendGrid's settings page hands it out (base64 DER).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, insert, select

from campaign.application.commands import Meta
from campaign.application.supporters import Registration, register_supporter
from campaign.bootstrap import Container, build
from campaign.domain import supporter
from campaign.infra.clock import utc_now
from campaign.infra.tables import mail_deliveries, supporters
from campaign.mail.message import Batch, Personalization
from campaign.settings import Settings
from campaign.web.app import create_app
from events import SubscriptionRunner
from tests.fakes.fixtures import sendgrid_server  # noqa: F401 (a fixture)
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.wiring import actors_of, with_actors
from workers.actors import MAIL_QUEUE, Actors

SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
MAILING_ID = "mailing-7f1e"


def person(index: int, email: str | None = None) -> Personalization:
    """Recipient `index`, with the per-recipient data a campaign e-mail carries."""
    unsubscribe = f"https://campaign.example.org/u/token-{index}"
    return Personalization(
        to_email=email or f"supporter.{index}@example.org",
        to_name=f"Supporter Nº{index}",
        substitutions={"-name-": f"Supporter Nº{index}", "-unsubscribe_url-": unsubscribe,
                       "-deadline_local-": "27 October 2010, 23:59 (Asia/Bishkek)"},
        headers={"List-Unsubscribe": f"<{unsubscribe}>, <mailto:unsubscribe+{index}@"
                                     "campaign.example.org>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        custom_args={"delivery_id": f"delivery-{index}"},
    )


def make_batch(count: int = 3, batch_id: str = "batch-1",
               people: tuple[Personalization, ...] | None = None) -> Batch:
    """A batch of an action alert to `count` recipients (or to `people`)."""
    return Batch(
        batch_id=batch_id, from_email="urgent-actions@campaign.example.org",
        from_name="Urgent Actions", reply_to=None,
        subject="UA 135/10: write before -deadline_local-, -name-",
        html="<p>Dear -name-,</p><p><a href=\"-unsubscribe_url-\">Unsubscribe</a></p>",
        text="Dear -name-,\nwrite before -deadline_local-.\nUnsubscribe: -unsubscribe_url-\n",
        personalizations=people or tuple(person(i) for i in range(count)),
        custom_args={"mailing_id": MAILING_ID, "batch_id": batch_id},
        categories=("action_launched", "en"),
    )


@pytest.fixture
def mail_container(
    tmp_path: Path, database_url: str, engine: Engine, broker: StubBroker,
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> Container:
    """Container whose mail goes to the fake SendGrid through the real client."""
    settings = Settings.from_env({
        "DATABASE_URL": database_url, "SECRET_KEY": "fan-out-test-secret-" + "k" * 32,
        "VAR_DIR": str(tmp_path / "var"), "SENDGRID_API_KEY": sendgrid_server.api_key,
        "SENDGRID_API_HOST": sendgrid_server.url, "MAIL_FROM": "Urgent Actions <ua@example.org>",
        "PUBLIC_BASE_URL": "https://ua.example.org",
    })
    return with_actors(build(settings, engine=engine, broker=broker))


@pytest.fixture
def workers(mail_container: Container) -> Iterator[tuple[StubBroker, Actors]]:
    """Dramatiq's worker threads on the container's in-memory broker, every actor declared."""
    broker = mail_container.broker
    assert isinstance(broker, StubBroker)
    actors = actors_of(mail_container)
    worker = Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    yield broker, actors
    worker.stop()


def deliver(container: Container, broker: StubBroker,
            planners: tuple[str, ...] = ("mailing_planner",)) -> None:
    """What the clock and the workers do: plan, dispatch, send."""
    for name in (*planners, "mail_dispatcher"):
        SubscriptionRunner(container.store, container.subscriptions[name]).run()
    broker.join(MAIL_QUEUE, timeout=60_000)


@pytest.fixture
def webhook_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_key_text(key: ec.EllipticCurvePrivateKey) -> str:
    """The verification key as SendGrid's settings page shows it: base64 DER."""
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, webhook_key: ec.EllipticCurvePrivateKey
             ) -> Settings:
    return Settings.from_env({
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "VAR_DIR": str(tmp_path / "var"),
        "SENDGRID_WEBHOOK_PUBLIC_KEY": public_key_text(webhook_key),
    })


@pytest.fixture
def app(container: Container) -> Flask:
    return create_app(container)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sign(key: ec.EllipticCurvePrivateKey, timestamp: str, body: str) -> str:
    """SendGrid's construction: ECDSA P-256 / SHA-256 over timestamp + raw body, base64 DER."""
    return base64.b64encode(key.sign((timestamp + body).encode(),
                                     ec.ECDSA(hashes.SHA256()))).decode()


def post_events(client: FlaskClient, key: ec.EllipticCurvePrivateKey, events: Any,
                age_seconds: int = 0, headers: dict[str, str | None] | None = None) -> Any:
    """POST `events` as SendGrid would, signed `age_seconds` ago."""
    body = events if isinstance(events, str) else json.dumps(events)
    timestamp = str(int(time.time()) - age_seconds)
    sent: dict[str, str | None] = {SIGNATURE: sign(key, timestamp, body), TIMESTAMP: timestamp,
            "Content-Type": "application/json", **(headers or {})}
    return client.post("/webhooks/sendgrid", data=body,
                       headers={k: v for k, v in sent.items() if v is not None})


def event(kind: str, delivery_id: str | None, **extra: Any) -> dict[str, Any]:
    """A SendGrid event for one of our deliveries; custom_args appear as top-level keys."""
    found: dict[str, Any] = {
        "email": "ada.lovelace.7f3a@example.org", "timestamp": int(time.time()),
        "event": kind, "sg_event_id": uuid.uuid4().hex,
        "sg_message_id": "W86EgYT6SQKk0lRflfLRsA.filter0001", "mailing_id": MAILING_ID,
        "batch_id": "batch-1", **extra,
    }
    if delivery_id is not None:
        found["delivery_id"] = delivery_id
    return found


def confirmed_supporter(container: Container, email: str = "ada.lovelace.7f3a@example.org") -> str:
    meta = Meta(actor="test", correlation_id="mail-tests")
    supporter_id = register_supporter(
        container.commands, container.blind_index,
        Registration(email, "Ada Byron-Lovelace", "en", "GB", "Europe/London"),
        meta, utc_now())
    container.commands.handle(
        supporter.ConfirmConsent(supporter_id=supporter_id, confirmed_at=utc_now()), meta)
    return supporter_id


def delivered_to(container: Container, supporter_id: str) -> str:
    """Record a delivery of MAILING_ID to the supporter, as the fan-out planner does."""
    delivery_id = str(uuid.uuid4())
    with container.engine.begin() as conn:
        conn.execute(insert(mail_deliveries).values(
            delivery_id=delivery_id, mailing_id=MAILING_ID, batch_id="batch-1",
            supporter_id=supporter_id))
    return delivery_id


def supporter_row(container: Container, supporter_id: str) -> Any:
    with container.engine.connect() as conn:
        return conn.execute(select(supporters).where(
            supporters.c.supporter_id == supporter_id)).one()
