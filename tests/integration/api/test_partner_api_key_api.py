"""Rotating a partner's API key: the new key shown once, stored hashed, the old one void."""

from __future__ import annotations

from flask.testing import FlaskClient

from campaign.application.access import hash_token
from campaign.bootstrap import Container
from events import rebuild
from tests.integration.api.conftest import (
    Headers,
    assert_problem,
    event_count,
    every_row_as_text,
)
from tests.integration.api.partners import (
    as_body,
    hearing_report,
    open_seed_case,
    post_inbound,
    register,
    signed,
)


def bearer(api_key: str) -> Headers:
    return {"Authorization": f"Bearer {api_key}"}


def test_a_rotated_api_key_is_shown_once_stored_hashed_and_the_old_key_stops_at_once(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)
    partner = register(client, admin)
    old = partner["api_key"]
    assert client.get("/api/v1/feed", headers=bearer(old)).status_code == 200

    response = client.post(f"/api/v1/partners/{partner['partner_id']}/rotate-api-key",
                           headers=admin)

    assert response.status_code == 200, response.get_json()
    rotated = response.get_json()
    new = rotated["api_key"]
    assert new.startswith("uap_") and new != old
    assert rotated["version"] == partner["version"] + 1
    assert client.get("/api/v1/feed", headers=bearer(new)).status_code == 200
    assert_problem(client.get("/api/v1/feed", headers=bearer(old)), 401)
    stored = every_row_as_text(container)
    assert new not in stored and hash_token(new) in stored
    assert "api_key" not in client.get(f"/api/v1/partners/{partner['partner_id']}",
                                       headers=admin).get_json()


def test_inbound_calls_need_the_new_key_after_a_rotation(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)
    partner = register(client, admin)
    rotated = client.post(f"/api/v1/partners/{partner['partner_id']}/rotate-api-key",
                          headers=admin).get_json()
    raw = as_body(hearing_report())

    refused = post_inbound(client, partner, raw, signed(partner["signing_secret"], raw))
    taken = post_inbound(client, {**partner, "api_key": rotated["api_key"]}, raw,
                         signed(partner["signing_secret"], raw))

    assert_problem(refused, 401)
    assert taken.status_code == 202, taken.get_json()


def test_only_admins_rotate_keys_of_partners_that_exist(
    client: FlaskClient, container: Container, admin: Headers, campaigner: Headers
) -> None:
    open_seed_case(container)
    partner = register(client, admin)
    before = event_count(container)

    assert_problem(client.post(f"/api/v1/partners/{partner['partner_id']}/rotate-api-key",
                               headers=campaigner), 403)
    assert_problem(client.post("/api/v1/partners/nosuch/rotate-api-key", headers=admin), 404)
    assert event_count(container) == before
    assert client.get("/api/v1/feed", headers=bearer(partner["api_key"])).status_code == 200


def test_a_rebuilt_read_model_keeps_the_rotated_key_and_not_the_old(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)
    partner = register(client, admin)
    new = client.post(f"/api/v1/partners/{partner['partner_id']}/rotate-api-key",
                      headers=admin).get_json()["api_key"]

    rebuild(container.store, container.projections["partners"])

    assert client.get("/api/v1/feed", headers=bearer(new)).status_code == 200
    assert_problem(client.get("/api/v1/feed", headers=bearer(partner["api_key"])), 401)
