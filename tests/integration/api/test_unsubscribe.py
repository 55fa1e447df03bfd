"""One-click unsubscribe (RFC 8058): POST acts at once, GET only asks."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from campaign.bootstrap import Container
from campaign.infra.tables import supporters
from campaign.mail.links import MailLinks
from tests.integration.api.conftest import Person


def unsubscribed(container: Container, supporter_id: str) -> bool:
    with container.engine.connect() as conn:
        return bool(conn.execute(select(supporters.c.unsubscribed)
                                 .where(supporters.c.supporter_id == supporter_id)).scalar_one())


def link(container: Container, person: Person) -> str:
    return MailLinks("", container.links).unsubscribe(person.supporter_id)


def test_opening_the_link_asks_and_changes_nothing(
    client: FlaskClient, container: Container, supporter: Person
) -> None:
    page = client.get(link(container, supporter))

    assert page.status_code == 200 and page.mimetype == "text/html"
    assert b'<form method="post">' in page.data
    assert not unsubscribed(container, supporter.supporter_id)


def test_a_one_click_post_unsubscribes_at_once_and_can_be_repeated(
    client: FlaskClient, container: Container, supporter: Person
) -> None:
    url = link(container, supporter)
    first = client.post(url, data={"List-Unsubscribe": "One-Click"})
    again = client.post(url, data={"List-Unsubscribe": "One-Click"})

    assert (first.status_code, again.status_code) == (200, 200)
    assert unsubscribed(container, supporter.supporter_id)


def test_a_forged_or_misused_token_unsubscribes_nobody(
    client: FlaskClient, container: Container, supporter: Person
) -> None:
    wrong_purpose = container.links.sign("confirm", supporter.supporter_id)

    assert client.post(f"/unsubscribe/{wrong_purpose}").status_code == 404
    assert client.post("/unsubscribe/made-up").status_code == 404
    assert not unsubscribed(container, supporter.supporter_id)
