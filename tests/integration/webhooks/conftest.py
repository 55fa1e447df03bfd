"""Outbound webhooks against real partner endpoints (local servers verifying signatures).

Every test runs on SQLite and PostgreSQL. The functions the actors call are driven
directly, with a clock the test moves: `clock` schedules retries, while signatures carry
the wall clock's time, which is what the partner's library checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from campaign.application.access import Role, create_token
from campaign.application.commands import Meta
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.infra.tables import webhook_attempts, webhook_deliveries
from campaign.partners.admin import Issued, PartnerForm, register_partner
from campaign.partners.webhooks.deliveries import wake_due
from campaign.partners.webhooks.delivery import Attempted, Deliverer
from campaign.partners.webhooks.http import PinnedSender
from campaign.partners.webhooks.outbox import Outbox
from campaign.settings import Settings
from campaign.web.app import create_app
from tests.fakes.partner_receiver import PartnerReceiver

META = Meta(actor="test", correlation_id="webhooks")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings.from_env({
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "VAR_DIR": str(tmp_path / "var"),
        "WEBHOOK_ALLOW_PRIVATE": "1",
        "CAMPAIGN_ALERT_EMAIL": "campaigners@example.org",
    })


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def receiver() -> Iterator[PartnerReceiver]:
    with PartnerReceiver() as server:
        yield server


@pytest.fixture
def other_receiver() -> Iterator[PartnerReceiver]:
    with PartnerReceiver() as server:
        yield server


def register(container: Container, receiver: PartnerReceiver, now: datetime,
             **follows: Any) -> Issued:
    """Register a partner at the receiver's URL; the receiver learns its secret."""
    follows.setdefault("case_ids", (seed.CASE_ID,))
    issued = register_partner(container.commands, container.vault, PartnerForm(
        name="Human Rights Movement Bir Duino-Kyrgyzstan",
        contact_email="info@birduino.example.org", webhook_url=receiver.url, **follows),
        META, now, allow_private=container.settings.webhook_allow_private)
    receiver.secrets = [issued.signing_secret]
    return issued


def launch_seed_action(container: Container) -> None:
    """The seed case and UA 135/10, drafted, launched and updated (its fifth update)."""
    for command in (*seed.CASE_COMMANDS, *seed.ACTION_COMMANDS):
        container.commands.handle(command, META)


class Pipeline:
    """The outbox, the deliverer and the scan, as the actors run them, on a test clock."""

    def __init__(self, container: Container, clock: Clock, timeout: float = 15.0) -> None:
        self.container = container
        self.clock = clock
        self.queued: list[str] = []  # messages the actors would have sent, in order
        self.sender = PinnedSender(timeout=timeout)
        self.deliverer = Deliverer(container.commands, container.vault, self.sender,
                                   allow_private=container.settings.webhook_allow_private,
                                   wake=self.queued.append, clock=clock)

    def outbox(self) -> int | None:
        """One outbox run; how many delivery rows it wrote."""
        return Outbox(self.container.store, self.queued.append, self.clock).run_once()

    def scan(self) -> int:
        return wake_due(self.container.store, self.queued.append, self.clock())

    def work(self) -> list[Attempted]:
        """Run every queued message (and those they queue) to the end, as workers would."""
        done: list[Attempted] = []
        while self.queued:
            done += self.deliverer.turn(self.queued.pop(0)).attempts
        return done

    def run(self) -> list[Attempted]:
        """Outbox, then scan, then work: what a clock tick leads to."""
        self.outbox()
        self.scan()
        return self.work()

    def close(self) -> None:
        self.sender.close()


@pytest.fixture
def pipeline(container: Container, clock: Clock) -> Iterator[Pipeline]:
    running = Pipeline(container, clock)
    yield running
    running.close()


def deliveries(container: Container, partner_id: str | None = None) -> list[Any]:
    d = webhook_deliveries.c
    query = select(webhook_deliveries).order_by(d.position, d.partner_id)
    if partner_id is not None:
        query = query.where(d.partner_id == partner_id)
    with container.engine.connect() as conn:
        return list(conn.execute(query))


def attempts(container: Container, delivery_id: str) -> list[Any]:
    with container.engine.connect() as conn:
        return list(conn.execute(select(webhook_attempts)
                                 .where(webhook_attempts.c.delivery_id == delivery_id)
                                 .order_by(webhook_attempts.c.attempt)))


@pytest.fixture
def client(container: Container) -> FlaskClient:
    return create_app(container).test_client()


@pytest.fixture
def token_headers(container: Container) -> Callable[[Role], dict[str, str]]:
    def make(role: Role) -> dict[str, str]:
        _, token = create_token(container.engine, f"test {role}", role)
        return {"Authorization": f"Bearer {token}"}

    return make
