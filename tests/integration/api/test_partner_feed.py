"""The catch-up feed: what a partner follows, in log order, the webhook payload schema."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import SUPPORTERS, load_demo
from campaign.partners import feed
from campaign.partners.payloads import body, partner_event
from events.schema import events
from tests.integration.api.conftest import Headers, assert_problem, error_fields, if_match
from tests.integration.api.partners import (
    HEARING_ID,
    as_body,
    hearing_report,
    key_headers,
    open_seed_case,
    post_inbound,
    register,
    signed,
)


def page(client: FlaskClient, partner: dict[str, Any], after: str = "0",
         limit: int = 100) -> dict[str, Any]:
    response = client.get(f"/api/v1/feed?after={after}&limit={limit}",
                          headers=key_headers(partner))
    assert response.status_code == 200, response.get_json()
    found: dict[str, Any] = response.get_json()
    return found


def everything(client: FlaskClient, partner: dict[str, Any], limit: int = 100) -> list[Any]:
    """Every item, paging until the feed says nothing more follows."""
    items, cursor = [], "0"
    while True:
        found = page(client, partner, cursor, limit)
        items += found["items"]
        assert int(found["next_cursor"]) >= int(cursor)
        cursor = found["next_cursor"]
        if not found["has_more"]:
            return items


def launch_seed_action(client: FlaskClient, campaigner: Headers) -> str:
    from tests.integration.api.conftest import action_body

    drafted = client.post("/api/v1/actions", json=action_body(), headers=campaigner).get_json()
    url = f"/api/v1/actions/{drafted['action_id']}"
    launched = client.post(f"{url}/launch", headers=if_match(client, url, campaigner))
    assert launched.status_code == 200
    return str(drafted["action_id"])


def report_hearing(client: FlaskClient, partner: dict[str, Any]) -> None:
    raw = as_body(hearing_report())
    response = post_inbound(client, partner, raw, signed(partner["signing_secret"], raw))
    assert response.status_code == 202


def test_a_rejected_development_never_reaches_the_feed(
    client: FlaskClient, container: Container, admin: Headers, campaigner: Headers
) -> None:
    open_seed_case(container)
    partner = register(client, admin, partner_id=seed.PARTNER_ID)
    launch_seed_action(client, campaigner)
    report_hearing(client, partner)
    pending = everything(client, partner)

    rejected = client.post(
        f"/api/v1/cases/{seed.CASE_ID}/developments/{HEARING_ID}/reject",
        json={"reason": "Not confirmed by a second source."},
        headers=if_match(client, f"/api/v1/cases/{seed.CASE_ID}", campaigner))

    assert rejected.status_code == 200, rejected.get_json()
    assert everything(client, partner) == pending
    assert HEARING_ID not in json.dumps(pending)


def test_the_feed_gives_what_the_partner_follows_in_log_order_as_webhooks_carry_it(
    client: FlaskClient, container: Container, admin: Headers, campaigner: Headers
) -> None:
    open_seed_case(container)
    partner = register(client, admin, partner_id=seed.PARTNER_ID)
    action_id = launch_seed_action(client, campaigner)
    report_hearing(client, partner)
    pending = everything(client, partner)
    client.post(f"/api/v1/cases/{seed.CASE_ID}/developments/{HEARING_ID}/approve",
                headers=if_match(client, f"/api/v1/cases/{seed.CASE_ID}", admin))

    items = everything(client, partner)

    assert [i["type"] for i in items] == ["case.development_recorded"] * 5 + [
        "action.launched", "case.development_recorded"]
    assert items[:6] == pending  # the pending hearing was not visible
    positions = [i["position"] for i in items]
    assert positions == sorted(set(positions))
    launched = items[5]["data"]
    assert (launched["action_id"], launched["case_id"], launched["ua_number"]) == (
        action_id, seed.CASE_ID, "135/10")
    assert launched["status"] == "launched" and launched["launched_at"]
    hearing = items[6]["data"]
    assert hearing["development_id"] == HEARING_ID
    assert hearing["occurred"] == {"at": "2020-05-13T14:00:00", "timezone": "Asia/Bishkek",
                                   "instant": "2020-05-13T08:00:00+00:00"}
    assert hearing["source"]["partner_id"] == seed.PARTNER_ID
    assert hearing["approved_at"] is not None
    with container.engine.connect() as conn:
        for item in items:
            row = conn.execute(select(events).where(events.c.position == item["position"])).one()
            stored = container.store.to_record(row)
            built = partner_event(container.store, conn, stored)
            assert built is not None
            assert str(stored.event_id) == item["event_id"]
            assert json.loads(body(built)) == {
                k: item[k] for k in ("event_id", "type", "timestamp", "data")}


def test_small_pages_add_up_to_the_whole_feed_without_gaps_or_repeats(
    client: FlaskClient, container: Container, admin: Headers, campaigner: Headers
) -> None:
    open_seed_case(container)
    partner = register(client, admin)
    launch_seed_action(client, campaigner)
    whole = everything(client, partner)

    paged = everything(client, partner, limit=2)

    assert paged == whole and len(whole) == 6
    last = page(client, partner, str(whole[-1]["position"]))
    assert (last["items"], last["has_more"]) == ([], False)


def test_a_partner_sees_only_the_cases_countries_and_types_it_follows(
    client: FlaskClient, container: Container, admin: Headers, campaigner: Headers
) -> None:
    open_seed_case(container)
    launch_seed_action(client, campaigner)
    elsewhere = register(client, admin, case_ids=[], countries=["AR"])
    by_country = register(client, admin, case_ids=[], countries=["KG"])
    actions_only = register(client, admin, event_types=["action.launched", "action.closed"])

    assert everything(client, elsewhere) == []
    assert len(everything(client, by_country)) == 6
    assert [i["type"] for i in everything(client, actions_only)] == ["action.launched"]


def test_the_feed_holds_no_supporter_data(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    load_demo(container)
    partner = register(client, admin, countries=["KG"])

    text = json.dumps(everything(client, partner, limit=3), ensure_ascii=False)

    assert seed.CASE_ID in text
    for person in SUPPORTERS:
        assert person.registration.email not in text
        assert person.registration.name not in text


def test_a_cursor_the_feed_never_gave_is_refused(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)
    partner = register(client, admin)
    headers = key_headers(partner)

    assert error_fields(client.get("/api/v1/feed?after=abc", headers=headers)) == {"after"}
    assert error_fields(client.get("/api/v1/feed?after=-1", headers=headers)) == {"after"}
    assert error_fields(client.get("/api/v1/feed?limit=0", headers=headers)) == {"limit"}
    assert_problem(client.get("/api/v1/feed"), 401)
    assert_problem(client.get("/api/v1/feed", headers={"Authorization": "Bearer uap_nope"}), 401)


def test_a_page_reads_the_log_in_batches_and_stops_after_its_scan_limit(
    client: FlaskClient, container: Container, admin: Headers, campaigner: Headers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    open_seed_case(container)
    partner = register(client, admin)
    launch_seed_action(client, campaigner)
    whole = everything(client, partner)
    monkeypatch.setattr(feed, "BATCH", 2)
    monkeypatch.setattr(feed, "SCAN_LIMIT", 4)

    first = page(client, partner)
    paged = everything(client, partner)

    assert first["has_more"] is True and len(first["items"]) < len(whole)
    assert paged == whole
