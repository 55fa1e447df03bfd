"""Unsubscribing can be undone, but only through a fresh double opt-in: asking again (on the
"Unsubscribed" page, or by signing up again on /join) e-mails a new confirmation link at
once, and only that link's click subscribes the person again."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from dramatiq.brokers.stub import StubBroker
from flask.testing import FlaskClient
from sqlalchemy import select

from campaign.application.commands import Meta
from campaign.application.supporters import ADDRESS_REQUESTS, Registration, register_supporter
from campaign.bootstrap import Container
from campaign.domain import supporter
from campaign.infra.clock import utc_now
from campaign.infra.tables import supporters
from campaign.web.app import create_app
from events import SubscriptionRunner
from tests.fakes.fixtures import sendgrid_server  # noqa: F401 (a fixture)
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.integration.mail.conftest import deliver
from workers.actors import Actors

ADDRESS = "olga.again@example.org"
CONFIRMATION = ("confirmation_mailer",)


def confirm_paths(server: FakeSendGrid) -> list[str]:
    """The confirmation links of every confirmation e-mail sent, oldest first."""
    found = [re.search(r"https://ua\.example\.org(/confirm/\S+)", mail.text)
             for mail in server.mails("signup_confirmation")]
    assert all(found)
    return [match[1] for match in found if match]


def unsubscribed(container: Container, supporter_id: str) -> bool:
    with container.engine.connect() as conn:
        return bool(conn.execute(select(supporters.c.unsubscribed).where(
            supporters.c.supporter_id == supporter_id)).scalar_one())


def ask_on_the_page(client: FlaskClient, container: Container, supporter_id: str) -> None:
    unsubscribe = f"/unsubscribe/{container.links.sign('unsubscribe', supporter_id)}"
    assert client.post(f"{unsubscribe}/resubscribe").status_code == 200


def sign_up_on_the_form(client: FlaskClient, container: Container, supporter_id: str) -> None:
    form = {"email": ADDRESS, "name": "Olga", "locale": "ru", "country": "RU",
            "timezone": "Europe/Moscow", "consent": "yes"}
    assert client.post("/join", data=form).status_code == 303
    SubscriptionRunner(container.store, container.subscriptions[ADDRESS_REQUESTS]).run()


@pytest.mark.parametrize("ask_again", [ask_on_the_page, sign_up_on_the_form],
                         ids=["subscribe-again-button", "sign-up-form"])
def test_a_supporter_who_unsubscribed_minutes_after_signing_up_can_opt_in_again(
    mail_container: Container, workers: tuple[StubBroker, Actors],
    sendgrid_server: FakeSendGrid,  # noqa: F811
    ask_again: Callable[[FlaskClient, Container, str], None],
) -> None:
    broker, _ = workers
    client = create_app(mail_container).test_client()
    supporter_id = register_supporter(
        mail_container.commands, mail_container.blind_index,
        Registration(ADDRESS, "Olga", "ru", "RU", "Europe/Moscow"),
        Meta(actor="test", correlation_id="resubscribe"), utc_now())
    deliver(mail_container, broker, CONFIRMATION)
    [first] = confirm_paths(sendgrid_server)
    assert client.post(first).status_code == 200
    assert client.post(f"/unsubscribe/{mail_container.links.sign('unsubscribe', supporter_id)}"
                       ).status_code == 200

    ask_again(client, mail_container, supporter_id)
    deliver(mail_container, broker, CONFIRMATION)

    paths = confirm_paths(sendgrid_server)
    assert len(paths) == 2  # a fresh e-mail at once, not a quarter-hour later
    assert unsubscribed(mail_container, supporter_id)  # nothing changes before the click
    assert client.get(paths[1]).status_code == 200 and unsubscribed(mail_container,
                                                                    supporter_id)
    assert client.post(paths[1]).status_code == 200
    assert not unsubscribed(mail_container, supporter_id)


def test_a_sign_up_confirmed_and_then_unsubscribed_before_the_planner_ran_gets_no_confirmation(
    mail_container: Container, workers: tuple[StubBroker, Actors],
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    # The planner may run late (workers catching up after an outage): by then this person
    # has confirmed through another way in and withdrawn; asking them to confirm the old
    # sign-up would mail someone who said no.
    broker, _ = workers
    meta = Meta(actor="test", correlation_id="late-planner")
    supporter_id = register_supporter(
        mail_container.commands, mail_container.blind_index,
        Registration(ADDRESS, "Olga", "ru", "RU", "Europe/Moscow"), meta, utc_now())
    mail_container.commands.handle(supporter.ConfirmConsent(supporter_id, utc_now()), meta)
    mail_container.commands.handle(supporter.Unsubscribe(supporter_id, utc_now(), "link"), meta)

    deliver(mail_container, broker, CONFIRMATION)

    assert sendgrid_server.mails("signup_confirmation") == []
    assert unsubscribed(mail_container, supporter_id)
