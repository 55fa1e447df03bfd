"""Operators see every subscription: where it stands, where it stopped, what it parked."""

from __future__ import annotations

from flask.testing import FlaskClient

from campaign.bootstrap import Container
from events import NewEvent, SubscriptionRunner
from events.subscriptions import park
from tests.integration.api.conftest import Headers, assert_problem


def test_admins_see_each_subscription_with_its_lag_and_parked_events(
    client: FlaskClient, container: Container, admin: Headers,
) -> None:
    container.store.append("case-1", [NewEvent("Opened", {"n": n}) for n in range(3)])
    SubscriptionRunner(container.store, container.subscriptions["daily_activity"]).run()
    container.store.append("case-2", [NewEvent("Opened", {"n": 3})])
    events = container.store.read_all()
    with container.engine.begin() as conn:
        for event in events[:3]:
            park(conn, "daily_activity", event, KeyError("n"))

    listed = client.get("/api/v1/subscriptions", headers=admin)
    first = client.get("/api/v1/subscriptions/daily_activity/parked?limit=2", headers=admin)
    after = first.get_json()["next_after"]
    rest = client.get(f"/api/v1/subscriptions/daily_activity/parked?after={after}",
                      headers=admin)

    assert listed.status_code == 200
    daily = next(s for s in listed.get_json() if s["name"] == "daily_activity")
    assert (daily["lag"], daily["parked"], daily["failed_position"]) == (1, 3, None)
    assert [p["position"] for p in first.get_json()["items"]] == [e.position for e in events[:2]]
    assert [p["position"] for p in rest.get_json()["items"]] == [events[2].position]
    assert rest.get_json()["next_after"] is None
    assert {p["error"] for p in first.get_json()["items"]} == {"KeyError"}


def test_only_admins_see_subscriptions_and_an_unknown_one_is_404(
    client: FlaskClient, campaigner: Headers, viewer: Headers, admin: Headers,
) -> None:
    for headers in (campaigner, viewer):
        assert_problem(client.get("/api/v1/subscriptions", headers=headers), 403)
    assert_problem(client.get("/api/v1/subscriptions", headers={}), 401)
    assert_problem(client.get("/api/v1/subscriptions/nosuch/parked", headers=admin), 404)
