"""The "manage my data" pages: `/manage` asks for a link, `/manage/<token>` is what it opens."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from sqlalchemy import func, select

from campaign.bootstrap import Container
from campaign.mail.links import MailLinks
from events.schema import events
from tests.integration.api.conftest import EMAIL, Person, event_count


def manage_path(container: Container, person: Person) -> str:
    return MailLinks("", container.links).manage(person.supporter_id)


def test_asking_on_the_page_answers_the_same_for_any_address_and_records_the_request(
    client: FlaskClient, container: Container, supporter: Person,
) -> None:
    form = client.get("/manage")
    known = client.post("/manage", data={"email": EMAIL})
    unknown = client.post("/manage", data={"email": "nobody.here@example.org"})
    broken = client.post("/manage", data={"email": "not an address"})

    assert form.status_code == 200 and b'name="email"' in form.data
    assert known.status_code == unknown.status_code == 202
    assert known.data == unknown.data
    assert broken.status_code == 422
    with container.engine.connect() as conn:
        asked = conn.execute(select(func.count()).select_from(events).where(
            events.c.type == "ManageRequestReceived")).scalar_one()
    assert asked == 2


def test_the_link_s_page_shows_choices_and_a_get_changes_nothing(
    client: FlaskClient, container: Container, supporter: Person,
) -> None:
    before = event_count(container)

    page = client.get(manage_path(container, supporter))

    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    html = page.get_data(as_text=True)
    assert 'value="export"' in html and 'value="subscriptions"' in html
    assert 'value="erase"' in html and EMAIL not in html
    assert event_count(container) == before
    assert client.get("/manage/forged").status_code == 404


def test_the_page_downloads_the_data_and_saves_a_choice_of_actions(
    client: FlaskClient, container: Container, supporter: Person,
) -> None:
    path = manage_path(container, supporter)

    download = client.post(path, data={"do": "export"})
    saved = client.post(path, data={"do": "subscriptions", "all_actions": "no",
                                    "countries": "kg, ru"})
    refused = client.post(path, data={"do": "subscriptions", "all_actions": "no",
                                      "countries": "Kyrgyzstan"})

    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert json.loads(download.data)["profile"]["email"] == EMAIL
    assert saved.status_code == 303
    assert "Your choice is saved" in client.get(saved.headers["Location"]).get_data(as_text=True)
    me = client.get("/api/v1/supporters/me", headers=supporter.manage).get_json()
    assert me["subscriptions"]["all_actions"] is False
    assert me["subscriptions"]["countries"] == ["KG", "RU"]
    assert refused.status_code == 422


def test_erasing_from_the_page_needs_the_box_ticked_and_ends_the_link(
    client: FlaskClient, container: Container, supporter: Person,
) -> None:
    path = manage_path(container, supporter)

    unticked = client.post(path, data={"do": "erase"})
    erased = client.post(path, data={"do": "erase", "confirm": "yes"})

    assert unticked.status_code == 422
    assert erased.status_code == 200 and b"erased" in erased.data
    assert client.get(path).status_code == 404
    # Even a manage link signed just now opens nothing: the person is gone.
    export = client.get("/api/v1/supporters/me/export", headers=supporter.manage)
    assert export.status_code == 401
