"""Admins change what a partner follows over the API; the feed goes by it from then on."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from tests.integration.api.conftest import (
    Headers,
    assert_problem,
    error_fields,
    event_count,
    if_match,
)
from tests.integration.api.partners import key_headers, open_seed_case, register
from tests.integration.api.test_partner_feed import everything, launch_seed_action

FOLLOW_KG_LAUNCHES = {"case_ids": [], "action_ids": [], "countries": ["KG"],
                      "event_types": ["action.launched"]}


def follows_url(partner: dict[str, Any]) -> str:
    return f"/api/v1/partners/{partner['partner_id']}/follows"


def test_an_admin_replaces_what_a_partner_follows_with_the_etag_last_read(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)
    partner = register(client, admin)
    url = f"/api/v1/partners/{partner['partner_id']}"

    changed = client.put(follows_url(partner), json=FOLLOW_KG_LAUNCHES,
                         headers=if_match(client, url, admin))

    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert {k: body[k] for k in FOLLOW_KG_LAUNCHES} == FOLLOW_KG_LAUNCHES
    assert changed.headers["ETag"] == f'"{body["version"]}"' == f'"{partner["version"] + 1}"'
    shown = client.get(url, headers=admin)
    assert shown.get_json()["countries"] == ["KG"]
    assert shown.headers["ETag"] == changed.headers["ETag"]


def test_the_same_follows_again_change_nothing_and_a_stale_etag_is_refused(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)
    partner = register(client, admin)
    stale = {**admin, "If-Match": f'"{partner["version"]}"'}
    client.put(follows_url(partner), json=FOLLOW_KG_LAUNCHES, headers=stale)
    before = event_count(container)

    again = client.put(follows_url(partner), json=FOLLOW_KG_LAUNCHES,
                       headers={**admin, "If-Match": "*"})
    late = client.put(follows_url(partner), json={**FOLLOW_KG_LAUNCHES, "countries": ["RU"]},
                      headers=stale)

    assert again.status_code == 200 and again.get_json()["version"] == partner["version"] + 1
    assert_problem(late, 412)
    assert event_count(container) == before


def test_a_change_of_follows_is_refused_whole_when_any_part_is_wrong(
    client: FlaskClient, container: Container, admin: Headers, campaigner: Headers
) -> None:
    open_seed_case(container)
    partner = register(client, admin)
    url, any_version = follows_url(partner), {**admin, "If-Match": "*"}
    before = event_count(container)

    assert_problem(client.put(url, json=FOLLOW_KG_LAUNCHES, headers=admin), 428,
                   "if_match_required")
    assert error_fields(client.put(url, headers=any_version, json={
        **FOLLOW_KG_LAUNCHES, "case_ids": ["no-such-case"]})) == {"case_ids"}
    assert error_fields(client.put(url, headers=any_version, json={
        "case_ids": [], "action_ids": [], "countries": ["XX"], "event_types": []})) == {
        "countries.0", "event_types"}
    assert error_fields(client.put(url, headers=any_version, json={"countries": ["KG"]})) == {
        "case_ids", "action_ids", "event_types"}
    assert_problem(client.put("/api/v1/partners/nosuch/follows", json=FOLLOW_KG_LAUNCHES,
                              headers=any_version), 404)
    assert_problem(client.put(url, json=FOLLOW_KG_LAUNCHES,
                              headers={**campaigner, "If-Match": "*"}), 403)
    assert event_count(container) == before


def test_the_feed_goes_by_what_the_partner_follows_now(
    client: FlaskClient, container: Container, admin: Headers, campaigner: Headers
) -> None:
    open_seed_case(container)
    partner = register(client, admin)  # follows the seed case: every type
    launch_seed_action(client, campaigner)
    before = [item["type"] for item in everything(client, partner)]

    client.put(follows_url(partner), json={**FOLLOW_KG_LAUNCHES, "countries": ["RU"]},
               headers={**admin, "If-Match": "*"})

    assert before.count("case.development_recorded") == len(seed.DEVELOPMENTS_2010)
    assert "action.launched" in before
    assert everything(client, partner) == []  # the seed case is in Kyrgyzstan, not Russia
    client.put(follows_url(partner), json=FOLLOW_KG_LAUNCHES,
               headers={**admin, "If-Match": "*"})
    assert [item["type"] for item in everything(client, partner)] == ["action.launched"]
    assert client.get("/api/v1/feed", headers=key_headers(partner)).status_code == 200
