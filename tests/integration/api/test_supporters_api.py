"""Supporters over HTTP: double opt-in that reveals nothing, preferences, export, listing."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from campaign.application.access import SupporterLinks
from campaign.application.commands import Meta
from campaign.bootstrap import Container
from campaign.domain import preferences
from campaign.infra.clock import utc_now
from campaign.infra.tables import supporters
from events.schema import events
from tests.integration.api.conftest import (
    EMAIL,
    NAME,
    Headers,
    Person,
    assert_problem,
    error_fields,
    event_count,
    resolve_requests,
    sign_up_body,
)

BASE = "/api/v1/supporters"


def supporter_rows(container: Container) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(supporters)).scalar_one())


def registrations(container: Container) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)
                                .where(events.c.type == "SupporterRegistered")).scalar_one())


# Sign-up


def test_sign_up_answers_the_same_for_a_new_and_a_known_address(
    client: FlaskClient, container: Container
) -> None:
    new = client.post(BASE, json=sign_up_body("ada@example.org", "Ada"))
    known = client.post(BASE, json=sign_up_body("Ada@Example.org", "Someone Else", locale="fr"))

    assert new.status_code == known.status_code == 202
    assert new.get_data() == known.get_data()
    assert new.get_json() == {"status": "confirmation_pending"}
    assert "Location" not in new.headers and "Location" not in known.headers
    resolve_requests(container)
    assert supporter_rows(container) == 1
    assert registrations(container) == 1


def test_sign_up_with_an_idempotency_key_replays_and_appends_nothing(
    client: FlaskClient, container: Container
) -> None:
    headers = {"Idempotency-Key": "signup-1"}
    first = client.post(BASE, json=sign_up_body(), headers=headers)
    before = event_count(container)

    again = client.post(BASE, json=sign_up_body(), headers=headers)

    assert (again.status_code, again.get_data()) == (first.status_code, first.get_data())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert event_count(container) == before


def test_sign_up_lists_every_invalid_field(client: FlaskClient, container: Container) -> None:
    response = client.post(BASE, json={"email": "not an address", "name": "  ",
                                       "locale": "english", "country": "XX",
                                       "timezone": "Mars/Olympus"})

    assert error_fields(response) == {"email", "name", "locale", "country", "timezone"}
    assert supporter_rows(container) == 0


def test_sign_up_needs_every_field(client: FlaskClient) -> None:
    assert error_fields(client.post(BASE, json={})) == {
        "email", "name", "locale", "country", "timezone"}


def test_sign_up_applies_the_domain_rule_for_addresses_too(client: FlaskClient) -> None:
    # marshmallow accepts user@localhost; the domain wants a dot in the domain part.
    response = client.post(BASE, json=sign_up_body("ada@localhost"))

    assert error_fields(response) == {"email"}


# Confirmation


def test_confirming_records_consent_and_hands_out_no_credential(
    client: FlaskClient, container: Container, sign_up: Callable[..., str]
) -> None:
    supporter_id = sign_up()
    token = container.links.sign("confirm", supporter_id)

    first = client.post(f"{BASE}/confirm", json={"token": token})
    again = client.post(f"{BASE}/confirm", json={"token": token})

    assert first.status_code == again.status_code == 200
    assert first.get_json() == {"supporter_id": supporter_id, "consented": True}
    manage = Person(supporter_id, EMAIL, NAME, container.links).manage
    assert client.get(f"{BASE}/me", headers=manage).get_json()["consented"] is True
    with container.engine.connect() as conn:
        confirmations = conn.execute(select(func.count()).select_from(events)
                                     .where(events.c.type == "ConsentConfirmed")).scalar_one()
    assert confirmations == 1  # confirming twice changes nothing


def signed_long_ago(links: SupporterLinks, supporter_id: str,
                    monkeypatch: pytest.MonkeyPatch) -> str:
    eight_days_ago = time.time() - 8 * 86400
    with monkeypatch.context() as patched:
        patched.setattr(time, "time", lambda: eight_days_ago)
        return links.sign("confirm", supporter_id)


@pytest.mark.parametrize("kind", ["garbage", "expired", "wrong_purpose", "other_secret"])
def test_confirming_with_a_bad_token_is_401(
    client: FlaskClient, container: Container, sign_up: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch, kind: str,
) -> None:
    supporter_id = sign_up()
    if kind == "garbage":
        token = "not-a-token"
    elif kind == "expired":
        token = signed_long_ago(container.links, supporter_id, monkeypatch)
    elif kind == "wrong_purpose":
        token = container.links.sign("manage", supporter_id)
    else:
        token = SupporterLinks("another-secret-" + "y" * 32).sign("confirm", supporter_id)

    response = client.post(f"{BASE}/confirm", json={"token": token})

    detail = assert_problem(response, 401)["detail"]
    assert ("expired" in detail) == (kind == "expired")
    with container.engine.connect() as conn:
        consented = conn.execute(select(supporters.c.consented)).scalar_one()
    assert consented is False


def test_confirming_needs_a_token(client: FlaskClient) -> None:
    assert error_fields(client.post(f"{BASE}/confirm", json={})) == {"token"}


def test_confirming_after_erasure_is_401(
    client: FlaskClient, container: Container, sign_up: Callable[..., str], admin: Headers
) -> None:
    supporter_id = sign_up()
    assert client.post(f"{BASE}/{supporter_id}/erase", headers=admin).status_code == 204

    response = client.post(f"{BASE}/confirm",
                           json={"token": container.links.sign("confirm", supporter_id)})

    assert_problem(response, 401)


# The supporter's own view and preferences


def test_me_shows_preferences_without_personal_data(
    client: FlaskClient, supporter: Person
) -> None:
    response = client.get(f"{BASE}/me", headers=supporter.manage)

    assert response.status_code == 200
    assert response.headers["ETag"] == '"3"'
    assert response.get_json() == {
        "supporter_id": supporter.supporter_id, "locale": "en", "country": "GB",
        "timezone": "Europe/London", "consented": True,
        "subscriptions": {"all_actions": True, "countries": [], "case_ids": []},
        "unsubscribed": False, "email_paused": False, "suppressed": False,
        "suppression_reason": None,
    }
    assert EMAIL not in response.get_data(as_text=True)
    assert NAME not in response.get_data(as_text=True)


def test_changing_subscriptions(client: FlaskClient, supporter: Person) -> None:
    wanted = {"all_actions": False, "countries": ["KG", "RU", "KG"],
              "case_ids": ["azimzhan-askarov"]}

    response = client.put(f"{BASE}/me/subscriptions", json=wanted, headers=supporter.manage)

    assert response.status_code == 200
    assert response.headers["ETag"] == '"4"'
    assert response.get_json()["subscriptions"] == {
        "all_actions": False, "countries": ["KG", "RU"], "case_ids": ["azimzhan-askarov"]}
    me = client.get(f"{BASE}/me", headers=supporter.manage).get_json()
    assert me["subscriptions"] == response.get_json()["subscriptions"]


def test_changing_subscriptions_with_a_stale_etag_is_412(
    client: FlaskClient, supporter: Person
) -> None:
    headers = {**supporter.manage, "If-Match": '"1"'}

    response = client.put(f"{BASE}/me/subscriptions", json={"all_actions": False},
                          headers=headers)

    assert_problem(response, 412, "version_mismatch")


def test_changing_subscriptions_checks_fields(client: FlaskClient, supporter: Person) -> None:
    response = client.put(f"{BASE}/me/subscriptions", json={"countries": ["XX"]},
                          headers=supporter.manage)

    assert error_fields(response) == {"all_actions", "countries.0"}


def test_changing_subscriptions_needs_consent(
    client: FlaskClient, container: Container, sign_up: Callable[..., str]
) -> None:
    headers = Person(sign_up(), EMAIL, NAME, container.links).manage

    response = client.put(f"{BASE}/me/subscriptions", json={"all_actions": False},
                          headers=headers)

    assert_problem(response, 409, "consent_required")


# Export and listing


def test_a_supporter_exports_their_own_data(
    client: FlaskClient, supporter: Person, launched_action: str
) -> None:
    client.post(f"/api/v1/actions/{launched_action}/pledges", json={"letters_promised": 1},
                headers=supporter.on(launched_action))

    response = client.get(f"{BASE}/me/export", headers=supporter.manage)

    assert response.status_code == 200
    body = response.get_json()
    assert body["supporter_id"] == supporter.supporter_id
    assert body["erased"] is False
    assert (body["profile"]["email"], body["profile"]["name"]) == (EMAIL, NAME)
    assert [e["type"] for e in body["events"]] == [
        "SignUpReceived", "SupporterRegistered", "ConsentConfirmed"]
    assert [e["type"] for e in body["pledges"]] == ["Pledged"]
    assert body["choices"] == {
        "locale": "en", "country": "GB", "timezone": "Europe/London",
        "subscriptions": {"all_actions": True, "countries": [], "case_ids": []},
        "email_paused": False, "unsubscribed": False}


def test_a_pause_and_new_preferences_show_in_the_supporter_s_view_and_export(
    client: FlaskClient, container: Container, supporter: Person
) -> None:
    meta = Meta(actor="test", correlation_id="pause")
    for command in (
        preferences.PauseEmail(supporter_id=supporter.supporter_id, at=utc_now()),
        preferences.ChangePreferences(
            supporter_id=supporter.supporter_id, locale="ky", country="KG",
            timezone="Asia/Bishkek", changed_at=utc_now())):
        container.commands.handle(command, meta)

    me = client.get(f"{BASE}/me", headers=supporter.manage).get_json()
    export = client.get(f"{BASE}/me/export", headers=supporter.manage).get_json()

    assert (me["email_paused"], me["locale"], me["country"], me["timezone"]) == (
        True, "ky", "KG", "Asia/Bishkek")
    assert export["choices"]["email_paused"] is True
    assert export["choices"]["locale"] == "ky"
    assert [e["type"] for e in export["events"]][-2:] == ["EmailPaused", "PreferencesChanged"]


def test_an_admin_exports_any_supporter(
    client: FlaskClient, supporter: Person, admin: Headers, campaigner: Headers
) -> None:
    url = f"{BASE}/{supporter.supporter_id}/export"

    assert client.get(url, headers=admin).get_json()["profile"]["email"] == EMAIL
    assert_problem(client.get(url, headers=campaigner), 403)
    assert_problem(client.get(url), 401)
    assert_problem(client.get(f"{BASE}/no-such-supporter/export", headers=admin), 404)


def test_the_admin_list_pages_through_supporters_without_personal_data(
    client: FlaskClient, confirmed: Callable[..., Person], sign_up: Callable[..., str],
    admin: Headers,
) -> None:
    people = {confirmed("one@example.org", "Person One").supporter_id,
              confirmed("two@example.org", "Person Two").supporter_id,
              sign_up("three@example.org", "Person Three")}

    first = client.get(f"{BASE}?limit=2", headers=admin)
    second = client.get(f"{BASE}?limit=2&cursor={first.get_json()['next_cursor']}",
                        headers=admin)

    items = first.get_json()["items"] + second.get_json()["items"]
    assert second.get_json()["next_cursor"] is None
    assert {i["supporter_id"] for i in items} == people
    assert sorted(i["consented"] for i in items) == [False, True, True]
    assert set(items[0]) == {"supporter_id", "locale", "country", "consented", "unsubscribed",
                             "email_paused", "suppressed", "suppression_reason", "erased"}
    text = first.get_data(as_text=True) + second.get_data(as_text=True)
    assert "example.org" not in text and "Person" not in text


def test_an_empty_cursor_is_a_422_and_a_cursor_after_every_id_an_empty_page(
    client: FlaskClient, admin: Headers, sign_up: Callable[..., str]
) -> None:
    sign_up("one@example.org", "Person One")

    assert_problem(client.get(f"{BASE}?cursor=", headers=admin), 422)
    assert client.get(f"{BASE}?cursor=~", headers=admin).get_json() == {
        "items": [], "next_cursor": None}


# Who may call what


SUPPORTER_ENDPOINTS = [("GET", f"{BASE}/me"), ("PUT", f"{BASE}/me/subscriptions"),
                       ("GET", f"{BASE}/me/export"), ("POST", f"{BASE}/me/erase")]
ADMIN_ENDPOINTS = [("GET", BASE), ("GET", f"{BASE}/{{id}}/export"),
                   ("POST", f"{BASE}/{{id}}/erase")]


@pytest.mark.parametrize(("method", "url"), SUPPORTER_ENDPOINTS)
def test_supporter_endpoints_need_a_manage_link_token(
    client: FlaskClient, container: Container, supporter: Person, admin: Headers,
    method: str, url: str,
) -> None:
    body = {"all_actions": True} if method == "PUT" else None
    confirm_token = container.links.sign("confirm", supporter.supporter_id)
    erase_token = container.links.sign("erase", supporter.supporter_id)
    for headers in ({}, admin, {"Authorization": f"Supporter {confirm_token}"},
                    {"Authorization": f"Supporter {erase_token}"}, supporter.on("an-action"),
                    {"Authorization": "Supporter forged"}):
        response = client.open(url, method=method, json=body, headers=headers)
        assert_problem(response, 401)
    assert supporter_rows(container) == 1


@pytest.mark.parametrize(("method", "url"), ADMIN_ENDPOINTS)
def test_admin_endpoints_need_the_admin_role(
    client: FlaskClient, supporter: Person, campaigner: Headers, viewer: Headers,
    method: str, url: str,
) -> None:
    url = url.format(id=supporter.supporter_id)

    assert_problem(client.open(url, method=method), 401)
    assert_problem(client.open(url, method=method, headers=supporter.manage), 401)
    assert_problem(client.open(url, method=method, headers=viewer), 403)
    assert_problem(client.open(url, method=method, headers=campaigner), 403)
