"""The page behind "Tell us you will write": a supporter pledges and confirms letters from it."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient

from campaign.bootstrap import Container
from campaign.infra.clock import utc_now
from campaign.mail.links import MailLinks
from tests.integration.api.conftest import Headers, Person, action_body, event_count, if_match


def page_url(container: Container, action_id: str, supporter_id: str) -> str:
    """The link an action e-mail carries for this supporter."""
    return MailLinks("", container.links).pledge(action_id, supporter_id)


def letter_form(html: str) -> dict[str, str]:
    """The letter form's fields as the page drew them, with its first choices."""
    letter_id = re.search(r'name="letter_id" value="([^"]+)"', html)
    target = re.search(r'<option value="([^"]+)">', html)
    assert letter_id and target, html
    return {"do": "letter", "letter_id": letter_id[1], "target_id": target[1],
            "channel": "post", "sent_on": utc_now().date().isoformat()}


def test_a_supporter_pledges_and_confirms_a_letter_from_the_page(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person,
) -> None:
    url = page_url(container, launched_action, supporter.supporter_id)

    shown = client.get(url)
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert "Azimzhan Askarov" in html and "(Europe/London)" in html
    assert "Zarylbek Rysaliev" in html  # the officials to write to, with their addresses
    assert 'value="pledge"' in html

    pledged = client.post(url, data={"do": "pledge", "letters": "2"})
    assert pledged.status_code == 303
    html = client.get(pledged.headers["Location"]).get_data(as_text=True)
    assert "your pledge is recorded" in html and "0 of 2 letters confirmed" in html

    form = letter_form(html)
    assert client.post(url, data=form).status_code == 303
    before_resend = event_count(container)
    assert client.post(url, data=form).status_code == 303  # sent twice: counted once
    assert event_count(container) == before_resend
    assert "1 of 2 letters confirmed" in client.get(url).get_data(as_text=True)


def test_bad_links_and_forms_get_a_clear_page_and_change_nothing(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person,
    sign_up: Callable[..., str], campaigner: Headers, seed_case: str,
) -> None:
    url = page_url(container, launched_action, supporter.supporter_id)
    draft = client.post("/api/v1/actions", json=action_body(), headers=campaigner)
    before = event_count(container)

    assert client.get(f"/act/{launched_action}?token=forged").status_code == 404
    assert client.post(f"/act/{launched_action}?token=forged",
                       data={"do": "pledge", "letters": "1"}).status_code == 404
    assert client.get(page_url(container, "no-such-action", supporter.supporter_id)
                      ).status_code == 404
    assert client.get(page_url(container, draft.get_json()["action_id"],
                               supporter.supporter_id)).status_code == 404  # not public yet
    assert client.post(url, data={"do": "pledge", "letters": "many"}).status_code == 422
    assert client.post(url, data={"do": "letter", "sent_on": "yesterday"}).status_code == 422
    assert client.post(url, data={"do": "dance"}).status_code == 400
    unconfirmed = sign_up("not.yet@example.org")
    refused = client.post(page_url(container, launched_action, unconfirmed),
                          data={"do": "pledge", "letters": "1"})
    assert refused.status_code == 409 and b"Confirm your e-mail address" in refused.data
    assert event_count(container) == before + 2  # only the sign-up: asked, then registered


def test_a_stopped_action_says_so_and_offers_no_forms(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person,
    campaigner: Headers,
) -> None:
    url = f"/api/v1/actions/{launched_action}"
    closed = client.post(f"{url}/close", json={"reason": "released", "note": "Released on 2 May"},
                         headers=if_match(client, url, campaigner))
    assert closed.status_code == 200, closed.get_json()

    html = client.get(page_url(container, launched_action, supporter.supporter_id)
                      ).get_data(as_text=True)

    assert "please do not send appeals" in html
    assert "<form" not in html


def test_the_link_opens_its_own_action_only_and_no_page_after_erasure(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person,
    campaigner: Headers, admin: Headers,
) -> None:
    drafted = client.post("/api/v1/actions", json=action_body(), headers=campaigner)
    another = drafted.get_json()["action_id"]
    launch = if_match(client, f"/api/v1/actions/{another}", campaigner)
    assert client.post(f"/api/v1/actions/{another}/launch", headers=launch).status_code == 200
    url = page_url(container, launched_action, supporter.supporter_id)
    token = url.split("token=", 1)[1]
    elsewhere = f"/act/{another}?token={token}"  # the same link, pointed at another action
    before = event_count(container)

    assert client.get(elsewhere).status_code == 404
    assert client.post(elsewhere, data={"do": "pledge", "letters": "1"}).status_code == 404
    assert event_count(container) == before
    assert client.post(f"/api/v1/supporters/{supporter.supporter_id}/erase",
                       headers=admin).status_code == 204
    assert client.get(url).status_code == 404
    assert client.post(url, data={"do": "pledge", "letters": "1"}).status_code == 404
    assert event_count(container) == before + 1  # the erasure, and no pledge


def test_the_page_tells_browsers_to_send_no_referrer(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person,
) -> None:
    url = page_url(container, launched_action, supporter.supporter_id)

    for response in (client.get(url), client.post(url, data={"do": "pledge", "letters": "1"}),
                     client.get(f"/act/{launched_action}?token=forged")):
        assert response.headers["Referrer-Policy"] == "no-referrer"
