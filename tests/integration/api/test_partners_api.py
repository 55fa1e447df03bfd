"""The partner registry over HTTP: secrets and keys shown once, stored sealed and hashed."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from campaign.application.access import hash_token
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.infra.tables import partner_secrets, partners
from campaign.partners.registry import partner_for_api_key, signing_secrets
from events import rebuild
from tests.integration.api.conftest import (
    Headers,
    assert_problem,
    error_fields,
    event_count,
    every_row_as_text,
)
from tests.integration.api.partners import PUBLIC_WEBHOOK_URL, open_seed_case, register


def secrets_now(container: Container, partner_id: str, at: datetime | None = None) -> list[str]:
    with container.engine.connect() as conn:
        return signing_secrets(conn, container.vault, partner_id, at or datetime.now(UTC))


def test_registering_a_partner_shows_its_secret_and_key_once_and_stores_neither_in_clear(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)

    created = register(client, admin, partner_id=seed.PARTNER_ID, countries=["KG"])

    secret, api_key = created["signing_secret"], created["api_key"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert api_key.startswith("uap_")
    assert created["partner_id"] == seed.PARTNER_ID
    assert (created["case_ids"], created["countries"]) == ([seed.CASE_ID], ["KG"])
    assert created["endpoint_enabled"] is True and created["auto_approve_developments"] is False
    shown = client.get(f"/api/v1/partners/{seed.PARTNER_ID}", headers=admin)
    assert shown.status_code == 200
    assert "signing_secret" not in shown.get_json() and "api_key" not in shown.get_json()
    listed = client.get("/api/v1/partners", headers=admin).get_json()
    assert [p["partner_id"] for p in listed["items"]] == [seed.PARTNER_ID]
    stored = every_row_as_text(container)
    assert secret not in stored and secret[6:] not in stored and api_key not in stored
    assert hash_token(api_key) in stored
    assert secret_ids(container, seed.PARTNER_ID) != []
    assert secrets_now(container, seed.PARTNER_ID) == [secret]
    with container.engine.connect() as conn:
        found = partner_for_api_key(conn, api_key)
    assert found is not None and found.partner_id == seed.PARTNER_ID


def secret_ids(container: Container, partner_id: str) -> list[str]:
    with container.engine.connect() as conn:
        return list(conn.execute(select(partner_secrets.c.secret_id)
                                 .where(partner_secrets.c.partner_id == partner_id)).scalars())


def test_a_webhook_url_that_is_not_public_https_is_refused_and_nothing_is_written(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)
    before = event_count(container)
    for url, fault in (("https://127.0.0.1/hooks", "loopback"),
                       ("https://169.254.169.254/latest", "link-local"),
                       ("https://[::ffff:10.0.0.1]/", "private"),
                       ("http://1.1.1.1/hooks", "https"),
                       ("https://name.invalid/hooks", "cannot be resolved")):
        response = client.post("/api/v1/partners", headers=admin, json={
            "name": "P", "contact_email": "p@example.org", "webhook_url": url,
            "case_ids": [seed.CASE_ID]})
        body = assert_problem(response, 422)
        assert [e["field"] for e in body["errors"]] == ["webhook_url"]
        assert fault in body["errors"][0]["message"]
    assert event_count(container) == before
    assert client.get("/api/v1/partners", headers=admin).get_json()["items"] == []


def test_a_partner_must_follow_cases_and_actions_that_exist_and_known_event_types(
    client: FlaskClient, admin: Headers
) -> None:
    base = {"name": "P", "contact_email": "p@example.org", "webhook_url": PUBLIC_WEBHOOK_URL}

    assert error_fields(client.post("/api/v1/partners", headers=admin, json={
        **base, "case_ids": ["no-such-case"], "action_ids": ["no-such-action"]})) == {
        "case_ids", "action_ids"}
    assert error_fields(client.post("/api/v1/partners", headers=admin, json={
        **base, "event_types": ["supporter.registered"], "countries": ["XX"],
        "contact_email": "nobody"})) == {"event_types.0", "countries.0", "contact_email"}


def test_a_partner_id_is_taken_once(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)
    register(client, admin, partner_id="bir-duino")

    again = client.post("/api/v1/partners", headers=admin, json={
        "partner_id": "bir-duino", "name": "Other", "contact_email": "o@example.org",
        "webhook_url": PUBLIC_WEBHOOK_URL})

    assert_problem(again, 409, "already_exists")
    assert len(secret_ids(container, "bir-duino")) == 1


def test_rotating_the_secret_keeps_the_old_one_valid_for_the_overlap_only(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)
    partner = register(client, admin)
    partner_id, old = partner["partner_id"], partner["signing_secret"]

    response = client.post(f"/api/v1/partners/{partner_id}/rotate-secret",
                           json={"overlap_hours": 2}, headers=admin)

    assert response.status_code == 200, response.get_json()
    rotated = response.get_json()
    new = rotated["signing_secret"]
    assert new.startswith("whsec_") and new != old
    overlap_until = datetime.fromisoformat(rotated["overlap_until"])
    assert timedelta(hours=1, minutes=59) < overlap_until - datetime.now(UTC) <= timedelta(hours=2)
    assert secrets_now(container, partner_id) == [new, old]
    assert secrets_now(container, partner_id, overlap_until + timedelta(seconds=1)) == [new]
    assert new not in every_row_as_text(container)


def test_rotation_defaults_to_a_day_of_overlap_and_can_end_the_old_secret_at_once(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)
    partner = register(client, admin)
    partner_id = partner["partner_id"]

    first = client.post(f"/api/v1/partners/{partner_id}/rotate-secret", json={},
                        headers=admin).get_json()
    second = client.post(f"/api/v1/partners/{partner_id}/rotate-secret",
                         json={"overlap_hours": 0}, headers=admin).get_json()

    until = datetime.fromisoformat(first["overlap_until"]) - datetime.now(UTC)
    assert timedelta(hours=23, minutes=59) < until <= timedelta(hours=24)
    assert secrets_now(container, partner_id) == [second["signing_secret"]]
    assert_problem(client.post(f"/api/v1/partners/{partner_id}/rotate-secret",
                               json={"overlap_hours": 10_000}, headers=admin), 422)
    assert_problem(client.post("/api/v1/partners/nosuch/rotate-secret", json={},
                               headers=admin), 404)


def test_a_campaigner_pauses_and_resumes_a_partners_webhooks(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)
    partner_id = register(client, admin)["partner_id"]

    disabled = client.post(f"/api/v1/partners/{partner_id}/disable", headers=admin)
    count = event_count(container)
    again = client.post(f"/api/v1/partners/{partner_id}/disable", headers=admin)

    assert disabled.status_code == again.status_code == 200
    assert disabled.get_json()["endpoint_enabled"] is False
    assert disabled.get_json()["disabled_reason"] == "campaigner"
    assert event_count(container) == count
    enabled = client.post(f"/api/v1/partners/{partner_id}/enable", headers=admin).get_json()
    assert (enabled["endpoint_enabled"], enabled["disabled_reason"]) == (True, None)
    assert_problem(client.post("/api/v1/partners/nosuch/enable", headers=admin), 404)


def test_partner_keys_and_campaigner_tokens_are_not_interchangeable(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)
    partner = register(client, admin)
    as_partner = {"Authorization": f"Bearer {partner['api_key']}"}

    assert_problem(client.get("/api/v1/partners", headers=as_partner), 401)
    assert_problem(client.get("/api/v1/cases", headers=as_partner), 401)
    assert_problem(client.get("/api/v1/feed", headers=admin), 401)
    assert client.get("/api/v1/feed", headers=as_partner).status_code == 200


def test_rebuilding_the_partners_read_model_gives_the_same_rows_and_keeps_keys_working(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)
    first = register(client, admin, partner_id="first", countries=["KG"])
    register(client, admin, partner_id="second", auto_approve_developments=True)
    client.post("/api/v1/partners/first/rotate-secret", json={}, headers=admin)
    client.post("/api/v1/partners/second/disable", headers=admin)
    before = rows(container)

    rebuild(container.store, container.projections["partners"])

    assert rows(container) == before
    assert client.get("/api/v1/feed", headers={
        "Authorization": f"Bearer {first['api_key']}"}).status_code == 200


def rows(container: Container) -> list[dict[str, object]]:
    with container.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(partners).order_by(partners.c.partner_id))]
