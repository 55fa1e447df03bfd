"""The links e-mails carry lead to the pages that answer them: one source, pinned together."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient

from campaign.bootstrap import Container
from campaign.mail.links import MailLinks
from tests.integration.api.conftest import Person

BASE = "https://ua.example.org"


def test_every_mail_link_opens_its_page_and_acts_on_nobody(
    app: Flask, client: FlaskClient, container: Container, supporter: Person,
    launched_action: str,
) -> None:
    links = MailLinks(BASE, container.links)
    expected = {
        links.confirm(supporter.supporter_id): "confirmation.confirm_page",
        links.unsubscribe(supporter.supporter_id): "unsubscribe.confirm_page",
        links.pledge(launched_action, supporter.supporter_id): "action_page.show",
        links.manage(supporter.supporter_id): "manage_page.show",
    }
    adapter = app.url_map.bind("ua.example.org", url_scheme="https")

    for url, endpoint in expected.items():
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == BASE
        assert adapter.match(parts.path)[0] == endpoint
        page = client.get(f"{parts.path}?{parts.query}" if parts.query else parts.path)
        assert page.status_code == 200, (url, page.get_data(as_text=True))
        assert page.mimetype == "text/html"


def test_a_link_is_signed_for_its_own_purpose_only(
    client: FlaskClient, container: Container, supporter: Person, launched_action: str,
) -> None:
    links = MailLinks(BASE, container.links)
    confirm_token = urlsplit(links.confirm(supporter.supporter_id)).path.rsplit("/", 1)[1]

    manage_token = urlsplit(links.manage(supporter.supporter_id)).path.rsplit("/", 1)[1]

    unsubscribe = client.get(f"/unsubscribe/{confirm_token}")
    pledge = client.get(f"/act/{launched_action}?token={confirm_token}")
    manage = client.get(f"/manage/{confirm_token}")
    confirm = client.get(f"/confirm/{manage_token}")

    assert (unsubscribe.status_code, pledge.status_code) == (404, 404)
    assert (manage.status_code, confirm.status_code) == (404, 404)
