"""One-click unsubscribe (RFC 8058): POST acts at once, GET only asks."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from campaign.bootstrap import Services
from campaign.infra.tables import supporters
from campaign.web.pages.unsubscribe import unsubscribe_url
from tests.integration.api.conftest import Person


def unsubscribed(services: Services, supporter_id: str) -> bool:
    with services.engine.connect() as conn:
        return bool(conn.execute(select(supporters.c.unsubscribed)
                                 .where(supporters.c.supporter_id == supporter_id)).scalar_one())


def link(services: Services, person: Person) -> str:
    return unsubscribe_url("", services.links.sign("unsubscribe", person.supporter_id))


def test_opening_the_link_asks_and_changes_nothing(
    client: FlaskClient, services: Services, supporter: Person
) -> None:
    page = client.get(link(services, supporter))

    assert page.status_code == 200 and page.mimetype == "text/html"
    assert b'<form method="post">' in page.data
    assert not unsubscribed(services, supporter.supporter_id)


def test_a_one_click_post_unsubscribes_at_once_and_can_be_repeated(
    client: FlaskClient, services: Services, supporter: Person
) -> None:
    url = link(services, supporter)
    first = client.post(url, data={"List-Unsubscribe": "One-Click"})
    again = client.post(url, data={"List-Unsubscribe": "One-Click"})

    assert (first.status_code, again.status_code) == (200, 200)
    assert unsubscribed(services, supporter.supporter_id)


def test_a_forged_or_misused_token_unsubscribes_nobody(
    client: FlaskClient, services: Services, supporter: Person
) -> None:
    wrong_purpose = services.links.sign("confirm", supporter.supporter_id)

    assert client.post(f"/unsubscribe/{wrong_purpose}").status_code == 404
    assert client.post("/unsubscribe/made-up").status_code == 404
    assert not unsubscribed(services, supporter.supporter_id)
