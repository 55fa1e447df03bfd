"""A replay of a range of the log, and the delivery log filtered by event type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask.testing import FlaskClient

from campaign.application.access import Role
from campaign.bootstrap import Container
from tests.fakes.partner_receiver import PartnerReceiver
from tests.integration.webhooks.conftest import (
    Clock,
    Pipeline,
    deliveries,
    launch_seed_action,
    register,
)

Headers = Callable[[Role], dict[str, str]]


def test_a_replay_up_to_a_position_or_before_an_instant_sends_only_that_range(
    container: Container, client: FlaskClient, token_headers: Headers, pipeline: Pipeline,
    receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())
    launch_seed_action(container)
    pipeline.run()
    rows = deliveries(container, issued.partner_id)
    sent = len(receiver.deliveries())
    url = f"/api/v1/partners/{issued.partner_id}/replay"
    admin = token_headers("admin")

    middle = client.post(url, json={"since": rows[1].position, "until": rows[3].position},
                         headers=admin)
    nothing = client.post(url, json={"since": "2000-01-01T00:00:00Z",
                                     "until": "2000-01-02T00:00:00Z"}, headers=admin)
    clock.advance(timedelta(seconds=5))
    pipeline.run()

    assert middle.status_code == 202, middle.get_json()
    assert middle.get_json()["deliveries"] == 3
    assert (middle.get_json()["from_position"], middle.get_json()["through_position"]) == (
        rows[1].position, rows[3].position)
    assert nothing.get_json()["deliveries"] == 0
    assert [d.webhook_id for d in receiver.deliveries()[sent:]] == [
        r.delivery_id for r in rows[1:4]]
    assert client.post(url, json={"since": 0, "until": None}, headers=admin).status_code == 422
    assert client.post(url, json={"since": 0, "until": "soon"}, headers=admin).status_code == 422


def test_the_delivery_log_keeps_one_event_type_when_asked(
    container: Container, client: FlaskClient, token_headers: Headers, pipeline: Pipeline,
    receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())
    launch_seed_action(container)
    pipeline.run()
    url = f"/api/v1/partners/{issued.partner_id}/deliveries"
    headers = token_headers("campaigner")

    launched = client.get(url, query_string={"type": "action.launched"}, headers=headers)
    unknown = client.get(url, query_string={"type": "supporter.registered"}, headers=headers)

    assert [i["type"] for i in launched.get_json()["items"]] == ["action.launched"]
    assert unknown.status_code == 422
