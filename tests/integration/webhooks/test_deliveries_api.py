"""The deliveries API: every attempt visible, one delivery sent again, a replay from a point."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from campaign.application.access import Role
from campaign.bootstrap import Container
from campaign.partners.admin import set_endpoint
from tests.fakes.partner_receiver import PartnerReceiver
from tests.integration.webhooks.conftest import (
    META,
    Clock,
    Pipeline,
    deliveries,
    launch_seed_action,
    register,
)

Headers = Callable[[Role], dict[str, str]]
PROBLEM = "application/problem+json"


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json()
    return body


def soon(clock: Clock) -> None:
    """Re-armed rows are due at the request's wall-clock time: move past it."""
    clock.advance(timedelta(seconds=5))


def test_deliveries_are_listed_newest_first_with_every_attempt(
    container: Container, client: FlaskClient, token_headers: Headers, pipeline: Pipeline,
    receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())
    receiver.fail_next(1, status=503)
    launch_seed_action(container)
    pipeline.run()

    response = client.get(f"/api/v1/partners/{issued.partner_id}/deliveries",
                          headers=token_headers("campaigner"))

    assert response.status_code == 200
    items = response.get_json()["items"]
    rows = deliveries(container, issued.partner_id)
    assert [i["delivery_id"] for i in items] == [r.delivery_id for r in reversed(rows)]
    oldest = items[-1]
    assert oldest["status"] == "pending" and oldest["failures"] == 1
    (attempt,) = oldest["attempts"]
    assert (attempt["attempt"], attempt["outcome"], attempt["status_code"]) == (
        1, "failed", 503)
    assert attempt["error"] == "HTTP 503: temporarily broken"
    assert isinstance(attempt["latency_ms"], int)
    assert all(i["status"] == "succeeded" and len(i["attempts"]) == 1 for i in items[:-1])
    assert items[0]["type"] == "action.updated"


def test_pages_of_deliveries_cover_all_once_and_filter_by_status(
    container: Container, client: FlaskClient, token_headers: Headers, pipeline: Pipeline,
    receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())
    receiver.fail_next(1)
    launch_seed_action(container)
    pipeline.run()
    headers = token_headers("campaigner")
    url = f"/api/v1/partners/{issued.partner_id}/deliveries"

    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(url, query_string=query, headers=headers).get_json()
        seen += [i["delivery_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    pending = client.get(url, query_string={"status": "pending"}, headers=headers).get_json()

    assert sorted(seen) == sorted(r.delivery_id for r in deliveries(container))
    assert len(seen) == len(set(seen)) == 7
    assert [i["status"] for i in pending["items"]] == ["pending"]


def test_listing_refuses_unknown_partners_cursors_and_statuses(
    container: Container, client: FlaskClient, token_headers: Headers,
    receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())
    headers = token_headers("campaigner")
    url = f"/api/v1/partners/{issued.partner_id}/deliveries"

    problem(client.get("/api/v1/partners/nosuch/deliveries", headers=headers), 404)
    problem(client.get(url, query_string={"cursor": "bm90IG91cnM="}, headers=headers), 422)
    problem(client.get(url, query_string={"status": "lost"}, headers=headers), 422)
    problem(client.get(url, headers=token_headers("viewer")), 403)


def test_a_redelivery_sends_the_same_webhook_id_again(
    container: Container, client: FlaskClient, token_headers: Headers, pipeline: Pipeline,
    receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock(), event_types=("action.launched",))
    launch_seed_action(container)
    pipeline.run()
    (row,) = deliveries(container, issued.partner_id)

    response = client.post(
        f"/api/v1/partners/{issued.partner_id}/deliveries/{row.delivery_id}/redeliver",
        headers=token_headers("campaigner"))
    soon(clock)
    pipeline.run()

    assert response.status_code == 202
    assert (response.get_json()["status"], response.get_json()["failures"]) == ("pending", 0)
    first, again = receiver.deliveries()
    assert first.webhook_id == again.webhook_id == row.delivery_id
    assert first.body == again.body
    (after,) = deliveries(container, issued.partner_id)
    assert after.status == "succeeded"


def test_redelivery_refuses_what_it_cannot_do(
    container: Container, client: FlaskClient, token_headers: Headers, pipeline: Pipeline,
    receiver: PartnerReceiver, other_receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock(), event_types=("action.launched",))
    other = register(container, other_receiver, clock(), event_types=("action.launched",))
    launch_seed_action(container)
    pipeline.run()
    (theirs,) = deliveries(container, other.partner_id)
    headers = token_headers("campaigner")
    base = f"/api/v1/partners/{issued.partner_id}/deliveries"

    problem(client.post(f"{base}/{theirs.delivery_id}/redeliver", headers=headers), 404)
    problem(client.post(f"{base}/msg_nosuch/redeliver", headers=headers), 404)
    set_endpoint(container.commands, issued.partner_id, False, META, clock())
    (mine,) = deliveries(container, issued.partner_id)
    body = problem(client.post(f"{base}/{mine.delivery_id}/redeliver", headers=headers), 409)
    assert body["code"] == "endpoint_disabled"


def test_a_replay_since_a_position_rearms_from_there_and_adds_what_was_never_sent(
    container: Container, client: FlaskClient, token_headers: Headers, pipeline: Pipeline,
    receiver: PartnerReceiver, other_receiver: PartnerReceiver, clock: Clock,
) -> None:
    early = register(container, receiver, clock(), event_types=("action.launched",))
    launch_seed_action(container)
    pipeline.run()
    # Registered after everything happened, following more: nothing was sent to it.
    late = register(container, other_receiver, clock(), event_types=(
        "action.launched", "action.updated"))
    pipeline.run()
    assert other_receiver.requests() == []
    (launch,) = deliveries(container, early.partner_id)
    admin = token_headers("admin")

    replayed = client.post(f"/api/v1/partners/{late.partner_id}/replay",
                           json={"since": launch.position}, headers=admin)
    again = client.post(f"/api/v1/partners/{early.partner_id}/replay",
                        json={"since": str(launch.position + 1)}, headers=admin)
    soon(clock)
    pipeline.run()

    assert replayed.status_code == 202
    assert replayed.get_json()["deliveries"] == 2
    assert replayed.get_json()["from_position"] == launch.position
    assert again.get_json()["deliveries"] == 0  # nothing it follows came after the launch
    assert [d.payload["type"] for d in other_receiver.deliveries()] == [
        "action.launched", "action.updated"]
    assert len(receiver.deliveries()) == 1


def test_a_replay_since_an_instant_resends_with_the_same_ids(
    container: Container, client: FlaskClient, token_headers: Headers, pipeline: Pipeline,
    receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())
    launch_seed_action(container)
    pipeline.run()
    first = [d.webhook_id for d in receiver.deliveries()]
    admin = token_headers("admin")
    url = f"/api/v1/partners/{issued.partner_id}/replay"

    past = client.post(url, json={"since": "2000-01-01T00:00:00Z"}, headers=admin)
    future = client.post(url, json={"since": "2199-01-01T00:00:00+06:00"}, headers=admin)
    soon(clock)
    pipeline.run()

    assert past.get_json()["deliveries"] == 7
    assert future.get_json() == {"partner_id": issued.partner_id, "from_position": None,
                                 "through_position": None, "deliveries": 0}
    assert [d.webhook_id for d in receiver.deliveries()] == first + first


def test_a_replay_refuses_bad_points_unknown_partners_and_campaigners(
    container: Container, client: FlaskClient, token_headers: Headers,
    receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())
    admin = token_headers("admin")
    url = f"/api/v1/partners/{issued.partner_id}/replay"

    for since in ("yesterday", "2020-05-13T14:00:00", "", -1, "1" * 30, None, "²"):
        body = problem(client.post(url, json={"since": since}, headers=admin), 422)
        assert body["errors"][0]["field"] == "since"
    problem(client.post(url, json={}, headers=admin), 422)
    problem(client.post("/api/v1/partners/nosuch/replay", json={"since": 0}, headers=admin),
            404)
    problem(client.post(url, json={"since": 0}, headers=token_headers("campaigner")), 403)
