"""A subscription stuck for real: someone signs up while Redis is down, so the mail
dispatcher cannot enqueue their confirmation and stops at its `MailingPlanned` event."""

from __future__ import annotations

import dataclasses
import socket
from datetime import UTC, datetime

from sqlalchemy import select

from campaign.application.commands import Meta
from campaign.application.supporters import Registration, register_supporter
from campaign.bootstrap import Container, build
from campaign.mail.sending import DISPATCHER
from events import SubscriptionRunner
from events.schema import subscription_checkpoints as checkpoints
from tests.wiring import with_actors

EMAIL = "zebedee.stuck-canary@example.org"
NAME = "Zebedee Stuckcanary"
"""Distinctive, so a test can look for them anywhere they must not be."""


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_redis_down(container: Container) -> Container:
    """The same process wiring, its broker a Redis nobody answers at."""
    down = dataclasses.replace(container.settings,
                               redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    return with_actors(build(down, engine=container.engine))


def stick_the_mail_dispatcher(container: Container, email: str = EMAIL) -> int:
    """Sign `email` up and run the mail pipeline with Redis down; the position the mail
    dispatcher is stuck at (the confirmation mailing's `MailingPlanned`)."""
    register_supporter(container.commands, container.blind_index,
                       Registration(email, NAME, "en", "GB", "Europe/London"),
                       Meta(actor="public", correlation_id="sign-up"), datetime.now(UTC))
    SubscriptionRunner(container.store, container.subscriptions["confirmation_mailer"]).run()
    down = with_redis_down(container)
    result = SubscriptionRunner(container.store, down.subscriptions[DISPATCHER]).run()
    assert result.failed, result
    return failed_position(container, DISPATCHER)


def failed_position(container: Container, name: str) -> int:
    with container.engine.connect() as conn:
        found = conn.execute(select(checkpoints.c.failed_position)
                             .where(checkpoints.c.name == name)).scalar_one()
    assert found is not None, f"{name} is not stuck"
    return int(found)
