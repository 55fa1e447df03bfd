"""Operators see every subscription: where it stands, where it stopped, what it parked."""

from __future__ import annotations

from flask.testing import FlaskClient

from campaign.bootstrap import Container
from campaign.domain.operations import operations_stream
from campaign.mail.sending import DISPATCHER
from events import NewEvent, SubscriptionRunner
from events.subscriptions import park
from tests.integration.api.conftest import Headers, assert_problem
from tests.stuck import stick_the_mail_dispatcher


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


def test_an_admin_skips_the_event_a_subscription_is_stuck_at_and_it_goes_on(
    client: FlaskClient, container: Container, admin: Headers,
) -> None:
    position = stick_the_mail_dispatcher(container)

    response = client.post(f"/api/v1/subscriptions/{DISPATCHER}/skip", headers=admin,
                           json={"position": position, "reason": "a withdrawn action's mail"})

    assert response.status_code == 200, response.get_json()
    skipped = response.get_json()
    assert skipped["skipped_by"].startswith("token:")
    assert (skipped["subscription"], skipped["position"], skipped["event_type"]) == (
        DISPATCHER, position, "MailingPlanned")
    listed = client.get("/api/v1/subscriptions", headers=admin).get_json()
    state = next(s for s in listed if s["name"] == DISPATCHER)
    assert (state["position"], state["failed_position"], state["parked"]) == (position, None, 1)
    [recorded] = container.store.read_stream(operations_stream(DISPATCHER))
    assert recorded.metadata["actor"] == skipped["skipped_by"]
    assert recorded.data["reason"] == "a withdrawn action's mail"


def test_a_skip_of_the_wrong_position_without_a_reason_or_by_a_campaigner_moves_nothing(
    client: FlaskClient, container: Container, admin: Headers, campaigner: Headers,
) -> None:
    position = stick_the_mail_dispatcher(container)
    url = f"/api/v1/subscriptions/{DISPATCHER}/skip"
    head = container.store.head()

    wrong = client.post(url, headers=admin, json={"position": position + 1, "reason": "x"})
    blank = client.post(url, headers=admin, json={"position": position, "reason": "  "})
    refused = client.post(url, headers=campaigner, json={"position": position, "reason": "x"})
    unknown = client.post("/api/v1/subscriptions/nosuch/skip", headers=admin,
                          json={"position": position, "reason": "x"})

    assert_problem(wrong, 409)
    assert wrong.get_json()["code"] == "not_stuck_there"
    assert f"stopped at {position}" in wrong.get_json()["detail"]
    assert_problem(blank, 422)
    assert_problem(refused, 403)
    assert_problem(unknown, 404)
    state = next(s for s in client.get("/api/v1/subscriptions", headers=admin).get_json()
                 if s["name"] == DISPATCHER)
    assert (state["failed_position"], state["parked"]) == (position, 0)
    assert container.store.head() == head
