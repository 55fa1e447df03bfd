"""Urgent actions over HTTP: the seed's document in, the same document out, and its rules."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient

from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import load_demo
from campaign.infra.clock import utc_now
from tests.integration.api.conftest import (
    Headers,
    action_body,
    assert_problem,
    error_fields,
    event_count,
    if_match,
)


def test_a_drafted_action_reads_back_exactly_as_the_seed_printed_it(
    client: FlaskClient, campaigner: Headers, viewer: Headers, seed_case: str
) -> None:
    created = client.post("/api/v1/actions", json=action_body(), headers=campaigner)

    assert created.status_code == 201
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"] == f"/api/v1/actions/{created.get_json()['action_id']}"
    body = client.get(created.headers["Location"], headers=viewer).get_json()
    assert (body["status"], body["ua_number"], body["index_number"]) == (
        "drafted", "135/10", "EUR 58/015/2010")
    assert body["asks"] == list(seed.ASKS)
    assert body["languages"] == ["ru", "ky", "en"] and body["own_language_welcome"] is True
    minister, prosecutor, president = body["targets"]
    assert minister["address_lines"] == ["Frunze Street, 469", "Bishkek 720040, KYRGYZSTAN"]
    assert (minister["fax"], minister["email"], minister["salutation"]) == (
        "+996 312 68 20 44", "pressa@mail.mvd.kg", "Dear Minister")
    assert (prosecutor["email"], prosecutor["salutation"]) == (None, "Dear General Prosecutor")
    assert (president["role"], president["salutation"]) == ("copy", None)
    assert body["copies_to_diplomats"] is True
    assert body["additional_information"] == seed.ADDITIONAL_INFORMATION


def test_launch_update_and_stop_action_move_the_etag_and_keep_their_rules(
    client: FlaskClient, campaigner: Headers, drafted_action: str
) -> None:
    url = f"/api/v1/actions/{drafted_action}"
    launched = client.post(f"{url}/launch", headers={**campaigner, "If-Match": '"1"'})
    assert (launched.status_code, launched.headers["ETag"]) == (200, '"2"')

    stale = client.post(f"{url}/updates", json={"number": 5},
                        headers={**campaigner, "If-Match": '"1"'})
    assert_problem(stale, 412, "version_mismatch")

    later = (utc_now() + timedelta(days=60)).date().isoformat()
    fifth = client.post(f"{url}/updates", headers={**campaigner, "If-Match": '"2"'}, json={
        "number": 5, "deadline": {"on": later, "timezone": seed.TIMEZONE}})
    assert fifth.status_code == 201
    assert (fifth.get_json()["update_number"], fifth.get_json()["deadline"]["on"]) == (5, later)

    again = client.post(f"{url}/updates", json={"number": 5},
                        headers=if_match(client, url, campaigner))
    assert_problem(again, 409, "update_number_not_increasing")
    sooner = (utc_now() + timedelta(days=10)).date().isoformat()
    earlier = client.post(f"{url}/updates", headers=if_match(client, url, campaigner), json={
        "number": 6, "deadline": {"on": sooner, "timezone": seed.TIMEZONE}})
    assert_problem(earlier, 409, "deadline_moved_backwards")

    closed = client.post(f"{url}/close", json={"reason": "released", "note": "Freed"},
                         headers=if_match(client, url, campaigner))
    assert closed.get_json()["status"] == "closed"
    assert closed.get_json()["close_reason"] == "released"
    assert_problem(client.post(f"{url}/updates", json={"number": 7},
                               headers=if_match(client, url, campaigner)), 409, "action_closed")


def test_a_launch_without_a_primary_target_is_a_409_naming_the_rule(
    client: FlaskClient, campaigner: Headers, seed_case: str
) -> None:
    body = action_body()
    body["targets"] = [t for t in body["targets"] if t["role"] == "copy"]
    drafted = client.post("/api/v1/actions", json=body, headers=campaigner).get_json()

    url = f"/api/v1/actions/{drafted['action_id']}"
    launch = client.post(f"{url}/launch", headers=if_match(client, url, campaigner))

    assert_problem(launch, 409, "no_primary_target")


def test_invalid_fields_are_each_named_and_nothing_is_appended(
    client: FlaskClient, campaigner: Headers, container: Container, seed_case: str
) -> None:
    before = event_count(container)
    body = {**action_body(), "country": "XX", "ua_number": "135-10",
            "deadline": {"on": "2010-10-27", "timezone": "Mars/Olympus"}}
    body["targets"][0]["email"] = "not-an-address"

    response = client.post("/api/v1/actions", json=body, headers=campaigner)

    assert error_fields(response) >= {"country", "ua_number", "deadline.timezone",
                                      "targets.0.email"}
    assert event_count(container) == before


def test_an_idempotency_key_retry_returns_the_first_action_and_appends_nothing(
    client: FlaskClient, campaigner: Headers, container: Container, seed_case: str
) -> None:
    headers = {**campaigner, "Idempotency-Key": "draft-ua-135-10"}
    first = client.post("/api/v1/actions", json=action_body(), headers=headers)
    count = event_count(container)

    retry = client.post("/api/v1/actions", json=action_body(), headers=headers)

    assert retry.status_code == 201
    assert retry.get_json()["action_id"] == first.get_json()["action_id"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert event_count(container) == count
    other = client.post("/api/v1/actions", json={**action_body(), "title": "Other"},
                        headers=headers)
    assert_problem(other, 422)
    empty_if_match = client.post("/api/v1/actions", json=action_body(),
                                 headers={**headers, "If-Match": ""})
    assert_problem(empty_if_match, 422)  # another request under the same key, not a replay


def test_actions_page_by_cursor_and_filter_by_status_and_country(
    client: FlaskClient, campaigner: Headers, viewer: Headers, seed_case: str
) -> None:
    ids = [client.post("/api/v1/actions", json=action_body(), headers=campaigner)
           .get_json()["action_id"] for _ in range(3)]
    client.post(f"/api/v1/actions/{ids[0]}/launch",
                headers=if_match(client, f"/api/v1/actions/{ids[0]}", campaigner))

    first = client.get("/api/v1/actions?limit=2", headers=viewer).get_json()
    rest = client.get(f"/api/v1/actions?limit=2&cursor={first['next_cursor']}",
                      headers=viewer).get_json()
    launched = client.get("/api/v1/actions?status=launched&country=KG", headers=viewer)

    assert [a["action_id"] for a in first["items"] + rest["items"]] == sorted(ids)
    assert rest["next_cursor"] is None
    assert [a["action_id"] for a in launched.get_json()["items"]] == [ids[0]]
    assert client.get("/api/v1/actions?status=launched&country=FR",
                      headers=viewer).get_json()["items"] == []
    assert_problem(client.get("/api/v1/actions?cursor=", headers=viewer), 422)


def test_an_action_past_its_deadline_says_to_check_with_the_section_office(
    client: FlaskClient, container: Container, viewer: Headers
) -> None:
    load_demo(container)  # UA 135/10, launched in 2010: its deadline has long passed

    seed_action = client.get(f"/api/v1/actions/{seed.ACTION_ID}", headers=viewer).get_json()

    assert seed_action["status"] == "launched"
    assert seed_action["deadline_passed"] is True
    assert "check with your section office" in seed_action["deadline_notice"]


def test_every_response_carries_the_request_id_it_was_given_or_a_new_one(
    client: FlaskClient, viewer: Headers
) -> None:
    given = client.get("/api/v1/actions", headers={**viewer, "X-Request-ID": "req-135-10"})
    fresh = client.get("/api/v1/actions", headers=viewer)

    assert given.headers["X-Request-ID"] == "req-135-10"
    assert len(fresh.headers["X-Request-ID"]) == 36
