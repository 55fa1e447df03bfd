"""What a link in our e-mails lets its holder do: what its e-mail was for, and no more.

The tokens come from the links the e-mails carry (`MailLinks`), signed as the workers sign
them, so these tests hold what a forwarded e-mail would really hand on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from campaign.bootstrap import Container
from campaign.infra.tables import pledges, supporters
from campaign.mail.links import MailLinks
from tests.integration.api.conftest import (
    EMAIL,
    Headers,
    Person,
    action_body,
    assert_problem,
    event_count,
    if_match,
    supporter_headers,
)

BASE = "/api/v1/supporters"


def mail_links(container: Container) -> MailLinks:
    return MailLinks("https://ua.example.org", container.links)


def action_link_token(container: Container, action_id: str, person: Person) -> str:
    """The token in the "Tell us you will write" link of an e-mail about `action_id`."""
    url = mail_links(container).pledge(action_id, person.supporter_id)
    [token] = parse_qs(urlsplit(url).query)["token"]
    return token


def last_segment(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1]


def launch_another(client: FlaskClient, campaigner: Headers) -> str:
    drafted = client.post("/api/v1/actions", json=action_body(), headers=campaigner)
    action_id: str = drafted.get_json()["action_id"]
    launch = if_match(client, f"/api/v1/actions/{action_id}", campaigner)
    assert client.post(f"/api/v1/actions/{action_id}/launch", headers=launch).status_code == 200
    return action_id


def subscriptions_of(container: Container, supporter_id: str) -> tuple[bool, list[str]]:
    with container.engine.connect() as conn:
        row = conn.execute(select(supporters.c.all_actions, supporters.c.countries).where(
            supporters.c.supporter_id == supporter_id)).one()
    return row.all_actions, list(row.countries)


# A forwarded action e-mail


def test_a_forwarded_action_link_reads_no_personal_data_and_changes_no_preference(
    client: FlaskClient, container: Container, supporter: Person, launched_action: str,
) -> None:
    forwarded = supporter_headers(action_link_token(container, launched_action, supporter))

    export = client.get(f"{BASE}/me/export", headers=forwarded)
    profile = client.get(f"{BASE}/me", headers=forwarded)
    changed = client.put(f"{BASE}/me/subscriptions", headers=forwarded,
                         json={"all_actions": False, "countries": ["KG"]})

    for response in (export, profile, changed):
        assert_problem(response, 401)
        assert EMAIL not in response.get_data(as_text=True)
    assert subscriptions_of(container, supporter.supporter_id) == (True, [])


def test_a_forwarded_action_link_reads_nothing_after_unsubscribing_either(
    client: FlaskClient, container: Container, supporter: Person, launched_action: str,
) -> None:
    leave = urlsplit(mail_links(container).unsubscribe(supporter.supporter_id)).path
    assert client.post(leave).status_code == 200
    forwarded = supporter_headers(action_link_token(container, launched_action, supporter))

    assert_problem(client.get(f"{BASE}/me/export", headers=forwarded), 401)
    assert_problem(client.put(f"{BASE}/me/subscriptions", json={"all_actions": True},
                              headers=forwarded), 401)


def test_a_forwarded_action_link_cannot_pledge_for_another_action(
    client: FlaskClient, container: Container, supporter: Person, launched_action: str,
    campaigner: Headers,
) -> None:
    another = launch_another(client, campaigner)
    forwarded = supporter_headers(action_link_token(container, launched_action, supporter))

    response = client.post(f"/api/v1/actions/{another}/pledges", json={"letters_promised": 1},
                           headers=forwarded)

    assert_problem(response, 403)
    with container.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(pledges)).scalar_one() == 0
    mine = client.post(f"/api/v1/actions/{launched_action}/pledges",
                       json={"letters_promised": 1}, headers=forwarded)
    assert mine.status_code == 201  # what the e-mail was for still works


# The "manage my data" link


def signed_at(moment: float, sign: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> str:
    with monkeypatch.context() as patched:
        patched.setattr(time, "time", lambda: moment)
        return sign()


@pytest.mark.parametrize(("age", "status"), [(59 * 60, 200), (61 * 60, 401)])
def test_a_manage_link_works_for_an_hour_and_then_not(
    client: FlaskClient, container: Container, supporter: Person,
    monkeypatch: pytest.MonkeyPatch, age: int, status: int,
) -> None:
    url = signed_at(time.time() - age,
                    lambda: mail_links(container).manage(supporter.supporter_id), monkeypatch)
    headers = supporter_headers(last_segment(url))

    for path in ("/me", "/me/export"):
        assert client.get(f"{BASE}{path}", headers=headers).status_code == status
    page = client.get(urlsplit(url).path)
    assert page.status_code == (200 if status == 200 else 404)
    if status == 401:
        assert "expired" in assert_problem(client.get(f"{BASE}/me", headers=headers),
                                           401)["detail"]


def test_a_manage_link_opens_the_person_s_data_and_nothing_else(
    client: FlaskClient, container: Container, supporter: Person, launched_action: str,
) -> None:
    token = last_segment(mail_links(container).manage(supporter.supporter_id))
    headers = supporter_headers(token)
    before = event_count(container)

    assert client.get(f"{BASE}/me/export", headers=headers).get_json()["profile"]["email"] \
        == EMAIL
    assert_problem(client.post(f"/api/v1/actions/{launched_action}/pledges",
                               json={"letters_promised": 1}, headers=headers), 401)
    assert client.get(f"/act/{launched_action}?token={token}").status_code == 404
    assert_problem(client.post(f"{BASE}/confirm", json={"token": token}), 401)
    assert_problem(client.post(f"{BASE}/erase", json={"token": token}), 401)
    assert client.post(f"/unsubscribe/{token}").status_code == 404
    assert event_count(container) == before


def test_a_manage_link_changes_preferences_and_erases(
    client: FlaskClient, container: Container, supporter: Person,
) -> None:
    headers = supporter.manage

    changed = client.put(f"{BASE}/me/subscriptions", headers=headers,
                         json={"all_actions": False, "countries": ["KG"]})
    erased = client.post(f"{BASE}/me/erase", headers=headers)

    assert changed.status_code == 200
    assert erased.status_code == 204
    assert_problem(client.get(f"{BASE}/me", headers=headers), 401)  # gone with the data


# After erasure


def test_after_erasure_every_old_link_is_refused_and_unsubscribing_changes_nothing(
    client: FlaskClient, container: Container, supporter: Person, launched_action: str,
    admin: Headers,
) -> None:
    links = mail_links(container)
    who = supporter.supporter_id
    act = urlsplit(links.pledge(launched_action, who))
    confirm = urlsplit(links.confirm(who)).path
    manage = f"/manage/{container.links.sign('manage', who)}"
    leave = urlsplit(links.unsubscribe(who)).path
    erase_token = container.links.sign("erase", who)
    assert client.post(f"{BASE}/{who}/erase", headers=admin).status_code == 204
    before = event_count(container)

    assert client.get(f"{act.path}?{act.query}").status_code == 404
    assert client.post(f"{act.path}?{act.query}",
                       data={"do": "pledge", "letters": "1"}).status_code == 404
    assert_problem(client.post(f"/api/v1/actions/{launched_action}/pledges",
                               json={"letters_promised": 1},
                               headers=supporter_headers(parse_qs(act.query)["token"][0])), 401)
    assert client.get(confirm).status_code == 404
    assert client.post(confirm).status_code == 404
    assert_problem(client.post(f"{BASE}/confirm", json={"token": last_segment(confirm)}), 401)
    assert client.get(manage).status_code == 404
    assert_problem(client.get(f"{BASE}/me/export",
                              headers=supporter_headers(last_segment(manage))), 401)
    assert_problem(client.post(f"{BASE}/erase", json={"token": erase_token}), 401)
    one_click = client.post(leave, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert client.post(leave).status_code == 200
    assert event_count(container) == before  # nothing recorded for a person who is gone
