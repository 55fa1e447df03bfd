"""Partners push case developments: signed over the raw body, deduplicated, approved or not."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
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
from tests.integration.api.partners import (
    HEARING_ID,
    as_body,
    hearing_report,
    open_seed_case,
    post_inbound,
    register,
    signed,
)


@pytest.fixture
def partner(client: FlaskClient, container: Container, admin: Headers) -> dict[str, Any]:
    """Bir Duino, linked to the seed case, its developments waiting for approval."""
    open_seed_case(container)
    return register(client, admin, partner_id=seed.PARTNER_ID)


def send(client: FlaskClient, partner: dict[str, Any], document: Any = None,
         **signing: Any) -> Any:
    body = as_body(hearing_report() if document is None else document)
    return post_inbound(client, partner, body, signed(partner["signing_secret"], body, **signing))


def timeline(client: FlaskClient, headers: Headers) -> dict[str, dict[str, Any]]:
    case = client.get(f"/api/v1/cases/{seed.CASE_ID}", headers=headers).get_json()
    return {d["development_id"]: d for d in case["timeline"]}


def test_the_seed_hearing_joins_the_case_timeline_and_waits_for_approval(
    client: FlaskClient, partner: dict[str, Any], admin: Headers
) -> None:
    response = send(client, partner)

    assert response.status_code == 202, response.get_json()
    assert response.get_json() == {"case_id": seed.CASE_ID, "development_id": HEARING_ID,
                                   "status": "recorded", "pending_approval": True}
    hearing = timeline(client, admin)[HEARING_ID]
    assert hearing["kind"] == "hearing_scheduled"
    assert hearing["occurred"] == {"at": "2020-05-13T14:00:00", "timezone": "Asia/Bishkek",
                                   "instant": "2020-05-13T08:00:00+00:00"}
    assert hearing["source"] == {"kind": "partner", "partner_id": seed.PARTNER_ID,
                                 "url": "https://birduino.example.org/2020/05/12/supreme-court"}
    assert hearing["pending_approval"] is True
    assert hearing["summary"] == seed.SUPREME_COURT_HEARING.summary
    approved = client.post(f"/api/v1/cases/{seed.CASE_ID}/developments/{HEARING_ID}/approve",
                           headers=if_match(client, f"/api/v1/cases/{seed.CASE_ID}", admin))
    assert approved.status_code == 200
    assert timeline(client, admin)[HEARING_ID]["pending_approval"] is False


def test_a_partner_trusted_to_publish_records_developments_without_approval(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)
    trusted = register(client, admin, auto_approve_developments=True)

    response = send(client, trusted)

    assert response.status_code == 202
    assert response.get_json()["pending_approval"] is False
    assert timeline(client, admin)[HEARING_ID]["pending_approval"] is False


def test_a_development_without_an_id_gets_one_derived_from_the_webhook_id(
    client: FlaskClient, partner: dict[str, Any], admin: Headers
) -> None:
    report = hearing_report(occurred={"on": "2020-05-13"})
    del report["data"]["development_id"]
    body = as_body(report)
    headers = signed(partner["signing_secret"], body, webhook_id="msg_on_a_date")

    first = post_inbound(client, partner, body, headers)
    again = post_inbound(client, partner, body, signed(partner["signing_secret"], body,
                                                       webhook_id="msg_on_a_date"))

    development_id = first.get_json()["development_id"]
    assert again.get_json()["development_id"] == development_id
    assert timeline(client, admin)[development_id]["occurred"] == {"on": "2020-05-13"}


def test_the_same_webhook_id_again_is_accepted_and_appends_nothing(
    client: FlaskClient, container: Container, partner: dict[str, Any]
) -> None:
    first = send(client, partner, webhook_id="msg_hearing")
    count = event_count(container)

    again = send(client, partner, webhook_id="msg_hearing")

    assert first.status_code == 202
    assert again.status_code == 200
    assert again.get_json()["status"] == "duplicate"
    assert event_count(container) == count


def test_concurrent_deliveries_of_one_message_record_it_once(
    app: Flask, container: Container, partner: dict[str, Any]
) -> None:
    body = as_body(hearing_report(development_id="raced"))
    headers = signed(partner["signing_secret"], body, webhook_id="msg_raced")
    start = threading.Barrier(6)
    before = event_count(container)

    def deliver(_: int) -> int:
        start.wait()
        return int(post_inbound(app.test_client(), partner, body, headers).status_code)

    with ThreadPoolExecutor(6) as pool:
        statuses = sorted(pool.map(deliver, range(6)))

    assert statuses == [200] * 5 + [202]
    assert event_count(container) == before + 1


@pytest.mark.parametrize("signature", [
    "v1,AAAA", "v1", "v1,", "v1,!!!not-base64", "garbage", ",", "v1,a,b", "v2,abc",
    "v1,abc= v1", "   ", "v1,\u00e9\u00e9", "v1,Zm9v v1,===",
])
def test_a_malformed_or_wrong_signature_is_a_401_never_a_500(
    client: FlaskClient, container: Container, partner: dict[str, Any], signature: str
) -> None:
    body = as_body(hearing_report())
    headers = {**signed(partner["signing_secret"], body), "webhook-signature": signature}
    before = event_count(container)

    response = post_inbound(client, partner, body, headers)

    assert_problem(response, 401)
    assert event_count(container) == before


@pytest.mark.parametrize(("header", "value"), [
    ("webhook-timestamp", "not-a-number"), ("webhook-timestamp", "1e10"),
    ("webhook-timestamp", "99999999999999999999"), ("webhook-timestamp", "-5"),
    ("webhook-timestamp", "999999999999"), ("webhook-timestamp", "99999999999"),
    ("webhook-id", "has space"), ("webhook-id", "x" * 300),
])
def test_malformed_webhook_headers_are_a_401(
    client: FlaskClient, partner: dict[str, Any], header: str, value: str
) -> None:
    body = as_body(hearing_report())
    headers = {**signed(partner["signing_secret"], body), header: value}

    assert_problem(post_inbound(client, partner, body, headers), 401)


def test_missing_headers_a_tampered_body_or_another_secret_are_refused(
    client: FlaskClient, container: Container, admin: Headers, partner: dict[str, Any]
) -> None:
    body = as_body(hearing_report())
    good = signed(partner["signing_secret"], body)
    other = register(client, admin)

    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        headers = {k: v for k, v in good.items() if k != name}
        assert_problem(post_inbound(client, partner, body, headers), 401)
    tampered = body.replace(b"14:00", b"15:00")
    assert_problem(post_inbound(client, partner, tampered, good), 401)
    signed_by_other = signed(other["signing_secret"], body)
    assert_problem(post_inbound(client, partner, body, signed_by_other), 401)
    assert_problem(post_inbound(client, partner, b"\xff\xfe", signed(
        partner["signing_secret"], b"ok")), 401)


@pytest.mark.parametrize("minutes", [-6, 6, -60 * 24])
def test_a_signature_more_than_five_minutes_off_is_refused(
    client: FlaskClient, partner: dict[str, Any], minutes: int
) -> None:
    at = datetime.now(UTC) + timedelta(minutes=minutes)

    response = send(client, partner, at=at)

    assert "5 minutes" in assert_problem(response, 401)["detail"]


def test_a_signature_four_minutes_old_is_accepted(
    client: FlaskClient, partner: dict[str, Any]
) -> None:
    response = send(client, partner, at=datetime.now(UTC) - timedelta(minutes=4))

    assert response.status_code == 202


def test_an_unknown_partner_a_missing_key_or_another_partners_key_is_a_401(
    client: FlaskClient, admin: Headers, partner: dict[str, Any]
) -> None:
    body = as_body(hearing_report())
    headers = signed(partner["signing_secret"], body)
    other = register(client, admin)

    assert_problem(post_inbound(client, partner, body, headers, partner_id="nosuch"), 401)
    assert_problem(post_inbound(client, other, body, headers,
                                partner_id=partner["partner_id"]), 401)
    no_key = client.post(f"/api/v1/partners/{partner['partner_id']}/inbound", data=body,
                         headers=headers)
    assert_problem(no_key, 401)


def test_a_partner_not_linked_to_the_case_is_forbidden_and_nothing_is_appended(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)
    stranger = register(client, admin, case_ids=[], countries=["KG"])
    before = event_count(container)

    response = send(client, stranger)

    assert_problem(response, 403)
    assert event_count(container) == before


def test_a_malformed_report_is_a_422_listing_its_fields_and_consumes_no_webhook_id(
    client: FlaskClient, container: Container, partner: dict[str, Any]
) -> None:
    before = event_count(container)
    bad = hearing_report(kind="abducted", occurred={"at": "2020-05-13T14:00:00",
                                                    "timezone": "Mars/Olympus"})
    del bad["data"]["summary"]

    response = send(client, partner, bad, webhook_id="msg_fixed_later")

    assert error_fields(response) == {"data.kind", "data.occurred.timezone", "data.summary"}
    assert event_count(container) == before
    for document in ([], "text", {"type": "case.development_recorded"},
                     {**hearing_report(), "type": "action.launched"}):
        assert_problem(send(client, partner, document), 422)
    not_json = b"{not json"
    response = post_inbound(client, partner, not_json, signed(partner["signing_secret"],
                                                              not_json))
    assert error_fields(response) == {"(body)"}
    fixed = send(client, partner, webhook_id="msg_fixed_later")
    assert fixed.status_code == 202


def test_during_a_rotation_both_secrets_verify_and_afterwards_only_the_new_one(
    client: FlaskClient, admin: Headers, partner: dict[str, Any]
) -> None:
    partner_id, old = partner["partner_id"], partner["signing_secret"]
    rotated = client.post(f"/api/v1/partners/{partner_id}/rotate-secret",
                          json={"overlap_hours": 1}, headers=admin).get_json()
    new = rotated["signing_secret"]

    for n, secret in enumerate((old, new)):
        body = as_body(hearing_report(development_id=f"overlap-{n}"))
        assert post_inbound(client, partner, body, signed(secret, body)).status_code == 202

    client.post(f"/api/v1/partners/{partner_id}/rotate-secret", json={"overlap_hours": 0},
                headers=admin)
    body = as_body(hearing_report(development_id="after-overlap"))
    assert_problem(post_inbound(client, partner, body, signed(new, body)), 401)


def test_a_development_that_contradicts_the_record_is_a_conflict(
    client: FlaskClient, partner: dict[str, Any]
) -> None:
    assert send(client, partner).status_code == 202

    changed = hearing_report(summary="Something else entirely.")
    response = send(client, partner, changed)

    assert_problem(response, 409)
    assert json.loads(response.get_data())["code"]


def test_a_signed_body_nested_thousands_deep_is_a_400_naming_the_nesting(
    client: FlaskClient, container: Container, partner: dict[str, Any]
) -> None:
    before = event_count(container)
    deep = b'{"type": "case.development_recorded", "data": ' + b"[" * 5000 + b"]" * 5000 + b"}"

    response = post_inbound(client, partner, deep, signed(partner["signing_secret"], deep))

    assert "nest" in assert_problem(response, 400)["detail"]
    assert event_count(container) == before


def test_a_signed_body_that_is_not_json_by_its_content_type_is_a_415(
    client: FlaskClient, container: Container, partner: dict[str, Any]
) -> None:
    body = as_body(hearing_report())
    headers = {**signed(partner["signing_secret"], body), "Content-Type": "text/plain"}

    response = post_inbound(client, partner, body, headers)

    assert_problem(response, 415)
    assert send(client, partner).status_code == 202


def test_a_body_over_the_inbound_limit_is_a_413_even_under_the_global_one(
    client: FlaskClient, container: Container, partner: dict[str, Any]
) -> None:
    body = as_body(hearing_report(summary="x" * (300 * 1024)))

    response = post_inbound(client, partner, body, signed(partner["signing_secret"], body))

    assert_problem(response, 413)
