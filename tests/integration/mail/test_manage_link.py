"""The "manage my data" e-mail: asked for by address, sent only to the address on file.

It goes the way every e-mail goes (log → `address_requests` → `manage_link_mailer` →
dispatcher → worker → the real `sendgrid` client → the fake SendGrid), so the link read
here is the one a supporter would click.
"""

from __future__ import annotations

import re

from dramatiq.brokers.stub import StubBroker
from flask.testing import FlaskClient
from sqlalchemy import func, select

from campaign.application.access import create_token
from campaign.bootstrap import Container
from campaign.infra.tables import supporters
from campaign.web.app import create_app
from events.schema import personal_data_keys
from tests.fakes.fixtures import sendgrid_server  # noqa: F401 (a fixture)
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.integration.mail.conftest import deliver
from tests.integration.mail.test_confirmation_and_reminders import sent_of
from workers.actors import Actors

ADDRESS = "ada.manage@example.org"
RESOLVE_AND_PLAN = ("address_requests", "manage_link_mailer")
ASK = "/api/v1/supporters/manage-link"


def signed_up(client: FlaskClient, container: Container, broker: StubBroker) -> None:
    answer = client.post("/api/v1/supporters", json={
        "email": ADDRESS, "name": "Ada Byron-Lovelace", "locale": "en", "country": "GB",
        "timezone": "Europe/London"})
    assert answer.status_code == 202
    deliver(container, broker, ("address_requests", "confirmation_mailer"))


def data_keys(container: Container) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(personal_data_keys))
                   .scalar_one())


def test_asking_for_a_manage_link_mails_the_address_on_file_and_tells_the_asker_nothing(
    mail_container: Container, workers: tuple[StubBroker, Actors],
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    broker, _ = workers
    client = create_app(mail_container).test_client()
    signed_up(client, mail_container, broker)

    known = client.post(ASK, json={"email": ADDRESS.upper()})
    unknown = client.post(ASK, json={"email": "nobody.here@example.org"})
    deliver(mail_container, broker, RESOLVE_AND_PLAN)
    deliver(mail_container, broker, RESOLVE_AND_PLAN)  # the clock ticks again: nothing twice

    assert known.status_code == unknown.status_code == 202
    assert known.get_data() == unknown.get_data()
    [mail] = sent_of(sendgrid_server, "manage_link")
    assert mail.to == {"email": ADDRESS, "name": "Ada Byron-Lovelace"}
    assert "one hour" in mail.text
    path = re.search(r"https://ua\.example\.org(/manage/(\S+))", mail.text)
    assert path is not None, mail.text
    assert data_keys(mail_container) == 1  # the requests' keys are gone: only the person's
    page = client.get(path[1])
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    export = client.get("/api/v1/supporters/me/export",
                        headers={"Authorization": f"Supporter {path[2]}"})
    assert export.status_code == 200
    assert export.get_json()["profile"]["email"] == ADDRESS


def test_asking_again_soon_sends_no_second_e_mail_and_an_erased_address_gets_none(
    mail_container: Container, workers: tuple[StubBroker, Actors],
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    broker, _ = workers
    client = create_app(mail_container).test_client()
    signed_up(client, mail_container, broker)

    for _ in range(3):
        assert client.post(ASK, json={"email": ADDRESS}).status_code == 202
    deliver(mail_container, broker, RESOLVE_AND_PLAN)
    assert len(sent_of(sendgrid_server, "manage_link")) == 1

    with mail_container.engine.connect() as conn:
        supporter_id = conn.execute(select(supporters.c.supporter_id)).scalar_one()
    _, token = create_token(mail_container.engine, "admin", "admin")
    erased = client.post(f"/api/v1/supporters/{supporter_id}/erase",
                         headers={"Authorization": f"Bearer {token}"})
    assert erased.status_code == 204
    assert client.post(ASK, json={"email": ADDRESS}).status_code == 202
    deliver(mail_container, broker, RESOLVE_AND_PLAN)
    assert len(sent_of(sendgrid_server, "manage_link")) == 1

