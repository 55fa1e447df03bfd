"""One-click unsubscribe (RFC 8058): POST acts at once, GET only asks."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from campaign.bootstrap import Container
from campaign.infra.tables import supporters
from campaign.mail.links import MailLinks
from events.schema import events
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


def confirmation_requests(container: Container, supporter_id: str) -> int:
    with container.engine.connect() as conn:
        return len(conn.execute(select(events.c.position).where(
            events.c.stream_id == f"supporter-{supporter_id}",
            events.c.type == "ConfirmationRequested")).all())


def test_the_unsubscribed_page_offers_to_subscribe_again_through_a_fresh_confirmation(
    client: FlaskClient, container: Container, supporter: Person
) -> None:
    url = link(container, supporter)
    left = client.post(url).get_data(as_text=True)
    assert f'<form method="post" action="{url}/resubscribe">' in left
    assert "Subscribe again" in left

    again = client.post(f"{url}/resubscribe")

    assert again.status_code == 200 and "Check your inbox" in again.get_data(as_text=True)
    assert confirmation_requests(container, supporter.supporter_id) == 1
    assert unsubscribed(container, supporter.supporter_id)  # nothing until the link's click
    confirm = f"/confirm/{container.links.sign('confirm', supporter.supporter_id)}"
    assert client.post(confirm).status_code == 200
    assert not unsubscribed(container, supporter.supporter_id)


def test_subscribing_again_with_a_forged_link_or_after_erasure_sends_nothing(
    client: FlaskClient, container: Container, supporter: Person, admin: dict[str, str],
) -> None:
    url = link(container, supporter)
    client.post(url)
    assert client.post("/unsubscribe/forged/resubscribe").status_code == 404
    client.post(f"/api/v1/supporters/{supporter.supporter_id}/erase", headers=admin)

    assert client.post(f"{url}/resubscribe").status_code == 404
    assert confirmation_requests(container, supporter.supporter_id) == 0


def test_a_scanner_opening_the_subscribe_again_address_changes_nothing(
    client: FlaskClient, container: Container, supporter: Person
) -> None:
    url = link(container, supporter)
    client.post(url)

    assert client.get(f"{url}/resubscribe").status_code == 405
    assert confirmation_requests(container, supporter.supporter_id) == 0
